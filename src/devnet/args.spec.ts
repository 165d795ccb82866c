import { InvalidInputError } from '../common/errors';
import { parseDevnetArgs, parseMarketArgs } from './args';

function errorOf(fn: () => unknown): InvalidInputError {
  try {
    fn();
  } catch (e) {
    if (e instanceof InvalidInputError) return e;
    throw e;
  }
  throw new Error('did not throw');
}

describe('devnet CLI flags', () => {
  it('has OP-like defaults', () => {
    expect(parseDevnetArgs([])).toEqual({
      help: false,
      host: '127.0.0.1',
      port: 8545,
      blockTimeSec: 2,
      manifestPath: 'deployments/local.json',
      verbose: false,
    });
  });

  it('parses every flag', () => {
    const o = parseDevnetArgs([
      '--port',
      '9000',
      '--host',
      '0.0.0.0',
      '--block-time',
      '1',
      '--manifest',
      'x.json',
    ]);
    expect(o).toMatchObject({ port: 9000, host: '0.0.0.0', blockTimeSec: 1, manifestPath: 'x.json' });
  });

  it('rejects an unknown flag listing the valid ones', () => {
    const e = errorOf(() => parseDevnetArgs(['--prot', '9000']));
    expect(e.field).toBe('--prot');
    expect(e.hint).toContain('--port');
    expect(e.hint).toContain('--block-time');
  });

  it('rejects a bad port naming the flag and the range', () => {
    const e = errorOf(() => parseDevnetArgs(['--port', '70000']));
    expect(e.field).toBe('--port');
    expect(e.shortMessage).toContain('65535');
  });

  it('rejects a stray positional argument', () => {
    expect(errorOf(() => parseDevnetArgs(['crash'])).field).toBe('argument');
  });
});

describe('market CLI flags', () => {
  it('takes a path and options', () => {
    expect(parseMarketArgs(['crash', '--speed', '10', '--instant'])).toMatchObject({
      path: 'crash',
      speed: 10,
      instant: true,
      steps: 60,
    });
  });

  it('rejects an unknown or missing path listing calm, crash and depeg', () => {
    for (const argv of [['sideways'], []]) {
      const e = errorOf(() => parseMarketArgs(argv));
      expect(e.field).toBe('path');
      for (const n of ['calm', 'crash', 'depeg']) expect(e.hint).toContain(n);
    }
  });

  it('rejects a non-numeric speed', () => {
    expect(errorOf(() => parseMarketArgs(['calm', '--speed', 'fast'])).field).toBe('--speed');
  });
});
