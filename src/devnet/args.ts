/**
 * Command-line parsing for `npm run devnet` and `npm run devnet:market`, on Node's `util.parseArgs`.
 *
 * Kept separate from the CLIs so tests can check the user-facing errors (unknown flag → the list of
 * valid ones; bad number → the field and the allowed range) without spawning processes.
 */
import { parseArgs } from 'node:util';
import { InvalidInputError } from '../common/errors';
import { DEFAULT_MANIFEST_PATH } from '../config/manifest';
import { assertMarketPathName, type MarketPathName } from './market-paths';

export interface DevnetCliOptions {
  help: boolean;
  host: string;
  port: number;
  blockTimeSec: number;
  manifestPath: string;
  verbose: boolean;
}

export const DEVNET_USAGE = `Usage: npm run devnet -- [options]

Starts anvil (OP mode) with the OP fee predeploys, a real Aave V3 market, Chainlink feeds, the perps and
options venues and seeded accounts; writes the deployment manifest and stays up until Ctrl-C.

Options:
  --port N          RPC port (default 8545)
  --host H          interface to listen on (default 127.0.0.1)
  --block-time S    seconds between blocks once set up (default 2, like OP Mainnet; 0 = automine)
  --manifest FILE   where to write the manifest (default ${DEFAULT_MANIFEST_PATH})
  --verbose         print anvil's own log
  --help            this text`;

export const MARKET_USAGE = `Usage: npm run devnet:market -- <calm|crash|depeg> [options]

Moves prices, forwards and vol smiles of a running devnet along a named, deterministic path.

Options:
  --rpc URL         RPC of the devnet (default: the manifest's rpcUrl)
  --manifest FILE   deployment manifest (default ${DEFAULT_MANIFEST_PATH})
  --speed X         realtime speed-up factor (default 1; 10 = the ten-minute path in one minute)
  --steps N         number of steps (default 60)
  --seed N          path seed (default 42)
  --instant         jump chain time instead of sleeping (evm_increaseTime)
  --help            this text`;

function parse(
  argv: string[],
  options: Record<string, { type: 'string' | 'boolean' }>,
  allowPositionals: boolean,
) {
  try {
    return parseArgs({ args: argv, options, strict: true, allowPositionals });
  } catch (cause) {
    const msg = cause instanceof Error ? cause.message : String(cause);
    const valid = Object.keys(options).map((o) => `--${o}`);
    const flag = /'([^']+)'/.exec(msg)?.[1] ?? 'argument';
    const problem = /^Unknown option/.test(msg) ? 'unknown option' : (msg.split('. ')[0] ?? msg);
    throw new InvalidInputError(flag, problem, {
      code: 'UNKNOWN_FLAG',
      hint: `Valid options: ${valid.join(', ')}.`,
      details: { valid },
      cause,
    });
  }
}

function intFlag(field: string, v: string | undefined, dflt: number, min: number, max: number): number {
  if (v === undefined) return dflt;
  if (!/^[0-9]+$/.test(v) || Number(v) < min || Number(v) > max) {
    throw new InvalidInputError(field, `"${v}" is not an integer between ${min} and ${max}`);
  }
  return Number(v);
}

function numFlag(field: string, v: string | undefined, dflt: number, min: number, max: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!/^[0-9]+(\.[0-9]+)?$/.test(v) || n < min || n > max) {
    throw new InvalidInputError(field, `"${v}" is not a number between ${min} and ${max}`);
  }
  return n;
}

export function parseDevnetArgs(argv: string[]): DevnetCliOptions {
  const { values, positionals } = parse(
    argv,
    {
      port: { type: 'string' },
      host: { type: 'string' },
      'block-time': { type: 'string' },
      manifest: { type: 'string' },
      verbose: { type: 'boolean' },
      help: { type: 'boolean' },
    },
    true,
  );
  if (positionals.length > 0) {
    throw new InvalidInputError('argument', `unexpected argument "${positionals[0]}"`, {
      code: 'UNKNOWN_ARGUMENT',
      hint: 'npm run devnet takes only options: --port, --host, --block-time, --manifest, --verbose, --help.',
    });
  }
  return {
    help: values.help === true,
    host: (values.host as string | undefined) ?? '127.0.0.1',
    port: intFlag('--port', values.port as string | undefined, 8545, 1, 65_535),
    blockTimeSec: intFlag('--block-time', values['block-time'] as string | undefined, 2, 0, 3_600),
    manifestPath: (values.manifest as string | undefined) ?? DEFAULT_MANIFEST_PATH,
    verbose: values.verbose === true,
  };
}

export interface MarketCliOptions {
  help: boolean;
  path: MarketPathName | null;
  rpcUrl: string | undefined;
  manifestPath: string;
  speed: number;
  steps: number;
  seed: number;
  instant: boolean;
}

export function parseMarketArgs(argv: string[]): MarketCliOptions {
  const { values, positionals } = parse(
    argv,
    {
      rpc: { type: 'string' },
      manifest: { type: 'string' },
      speed: { type: 'string' },
      steps: { type: 'string' },
      seed: { type: 'string' },
      instant: { type: 'boolean' },
      help: { type: 'boolean' },
    },
    true,
  );
  const help = values.help === true;
  if (positionals.length > 1) {
    throw new InvalidInputError(
      'path',
      `expected one path, got ${positionals.length}: ${positionals.join(' ')}`,
    );
  }
  const first = positionals[0];
  if (first === undefined && !help) {
    // assertMarketPathName produces the message that lists the valid paths.
    assertMarketPathName('', 'path');
  }
  return {
    help,
    path: first === undefined ? null : assertMarketPathName(first, 'path'),
    rpcUrl: values.rpc as string | undefined,
    manifestPath: (values.manifest as string | undefined) ?? DEFAULT_MANIFEST_PATH,
    speed: numFlag('--speed', values.speed as string | undefined, 1, 0.001, 10_000),
    steps: intFlag('--steps', values.steps as string | undefined, 60, 1, 10_000),
    seed: intFlag('--seed', values.seed as string | undefined, 42, 0, 2 ** 31),
    instant: values.instant === true,
  };
}
