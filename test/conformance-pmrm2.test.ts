/**
 * Every Derive PMRM_2 golden case in ../shared/vectors/pmrm2 as its own test: MM, IM and each
 * scenario P&L must match to relative 1e-8 (absolute 1e-8 near zero). The folder is data kept next
 * to the repository; when it is absent the suite is skipped with a message saying so.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { checkPmrm2Case } from '../src/risk/pmrm2/conformance';

const VECTORS_DIR = path.join(__dirname, '..', '..', 'shared', 'vectors', 'pmrm2');
const files = existsSync(VECTORS_DIR)
  ? readdirSync(VECTORS_DIR)
      .filter((f) => f.endsWith('.json'))
      .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }))
  : [];

if (files.length === 0) {
  describe('PMRM_2 conformance', () => {
    it.skip(`skipped: no PMRM_2 cases found in ${VECTORS_DIR}`, () => undefined);
  });
  console.warn(`PMRM_2 conformance skipped: no *.json cases in ${VECTORS_DIR}`);
} else {
  describe('PMRM_2 conformance against Derive golden cases', () => {
    it.each(files)('%s matches MM, IM and every scenario loss', (file) => {
      const json: unknown = JSON.parse(readFileSync(path.join(VECTORS_DIR, file), 'utf8'));
      expect(checkPmrm2Case(json)).toEqual([]);
    });
  });
}
