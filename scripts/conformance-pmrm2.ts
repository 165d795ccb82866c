/**
 * Conformance check of the PMRM_2 engine against Derive's golden portfolio cases.
 *
 *   npm run conformance:pmrm2 -- [dir]     (default: ../shared/vectors/pmrm2 next to the repo)
 *
 * Prints one line per case and a final `N passed, M failed`; exits 1 if any case fails.
 * A case passes when MM, IM and every scenario P&L agree to relative 1e-8 (absolute 1e-8 where the
 * expected magnitude is below 1e-8).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { checkPmrm2Case } from '../src/risk/pmrm2/conformance';

function main(): number {
  const dir = path.resolve(process.argv[2] ?? path.join(__dirname, '..', '..', 'shared', 'vectors', 'pmrm2'));
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    console.error(
      `conformance-pmrm2: directory not found: ${dir}\nPass the folder of PMRM_2 *.json cases as the first argument.`,
    );
    return 2;
  }
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  if (files.length === 0) {
    console.error(
      `conformance-pmrm2: no *.json cases in ${dir}\nPass the folder of PMRM_2 *.json cases as the first argument.`,
    );
    return 2;
  }
  let passed = 0;
  let failed = 0;
  for (const file of files) {
    const name = file.replace(/\.json$/, '');
    let problems: string[];
    try {
      problems = checkPmrm2Case(JSON.parse(readFileSync(path.join(dir, file), 'utf8')));
    } catch (err) {
      problems = [`error: ${err instanceof Error ? err.message : String(err)}`];
    }
    if (problems.length === 0) {
      passed++;
      console.log(`${name} PASS`);
    } else {
      failed++;
      console.log(
        `${name} FAIL ${problems.slice(0, 3).join('; ')}${problems.length > 3 ? ` (+${problems.length - 3} more)` : ''}`,
      );
    }
  }
  console.log(`${passed} passed, ${failed} failed`);
  return failed > 0 ? 1 : 0;
}

process.exitCode = main();
