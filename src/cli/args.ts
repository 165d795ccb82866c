/**
 * The `netmargin` command line: commands, options and the strict parsing of addresses and
 * transaction hashes. Pure: no I/O, so every refusal is unit-tested. A refusal is a `UsageError`
 * (exit status 2); everything that goes wrong later is a `NetmarginError` (exit status 1).
 */
import { getAddress, isAddress, isHex, type Address, type Hex } from 'viem';
import { InvalidInputError, type NetmarginErrorOptions } from '../common/errors';
import { DEFAULT_MANIFEST_PATH } from '../config/manifest';

/** Bad usage: an unknown command or option, a missing or malformed argument. Exit status 2. */
export class UsageError extends InvalidInputError {
  override readonly name: string = 'UsageError';

  constructor(field: string, problem: string, options: Partial<NetmarginErrorOptions> = {}) {
    super(field, problem, { code: 'BAD_USAGE', hint: 'Run `netmargin --help` for the usage.', ...options });
  }
}

export const COMMANDS = ['health', 'what-if', 'replay', 'params'] as const;
export type CommandName = (typeof COMMANDS)[number];

export interface CliOptions {
  /** Print one JSON document (bigints as decimal strings) instead of tables. */
  json: boolean;
  redisUrl: string;
  /** The network's Redis namespace (`nm:{network}:`). */
  network: string;
  /** A running API to ask instead of the stores (health and what-if); undefined = the stores. */
  apiUrl: string | undefined;
  /** RPC URL; undefined = the manifest's `network.rpcUrl`. */
  rpcUrl: string | undefined;
  manifestPath: string;
}

export type CliCommand =
  | { name: 'help' }
  | { name: 'health'; address: Address; options: CliOptions }
  | { name: 'what-if'; address: Address; trades: string[]; options: CliOptions }
  | { name: 'replay'; txHash: Hex; options: CliOptions }
  | { name: 'params'; options: CliOptions };

export const USAGE = `Usage: netmargin <command> [arguments] [options]

Commands:
  health <address>               The account's stored margin: IM, MM, MTM, free collateral or
                                 shortfall, margin ratio, breakdowns, worst scenario
  what-if <address> <trade...>   The same figures now and after prospective trades (as the API's
                                 POST /v1/margin/what-if):
                                   perp:ETH:+2.5                 a perp leg, signed size (-1 shorts)
                                   call:ETH:2026-12-25:4000:-1   sell (-) or buy (+) a call or put;
                                                                 expiry YYYY-MM-DD or unix seconds
                                   supply:WETH:2  withdraw:WETH:1  borrow:USDC:500  repay:USDC:1000
  replay <attestation tx>        Recomputes every record of a posted attestation from chain data
                                 and the published parameter set; says whether each matches
  params                         The active risk parameter set: version, hash, window, key figures

Options:
  --json               One JSON document on stdout (amounts as decimal strings, USD6 = USD × 1e6)
  --api <url>          Ask a running API for health and what-if (e.g. http://127.0.0.1:8787)
                       instead of reading the stores
  --redis <url>        Redis holding the network's stores (default $REDIS_URL or redis://127.0.0.1:6379)
  --network <name>     The network's Redis namespace (default $NETMARGIN_NETWORK or local)
  --rpc <url>          RPC URL for replay (default the manifest's network.rpcUrl)
  --manifest <path>    Deployment manifest for replay and what-if's feed heartbeats
                       (default ${DEFAULT_MANIFEST_PATH})
  -h, --help           This text

Exit status: 0 ok, 1 error (or a replayed record that does not match), 2 bad usage.`;

const VALUE_OPTIONS = new Set(['--api', '--redis', '--network', '--rpc', '--manifest']);
const NETWORK_NAME = /^[A-Za-z0-9_.-]+$/;

/**
 * An address as a user types it: 0x + 40 hex digits; all-lowercase (or all-uppercase digits) is
 * accepted and checksummed, mixed case must carry the right EIP-55 checksum.
 */
export function parseAddressArg(field: string, value: string): Address {
  if (!/^0x[0-9a-fA-F]{40}$/.test(value))
    throw new UsageError(field, `"${value}" is not an address (0x followed by 40 hex digits)`, {
      hint: 'Pass the account as 0x… with 40 hex digits, e.g. 0x70997970c51812dc3a010c7d01b50e0d17dc79c8.',
    });
  const lower = value.slice(2).toLowerCase();
  const upper = value.slice(2).toUpperCase();
  if (value.slice(2) === lower || value.slice(2) === upper) return getAddress(`0x${lower}`);
  if (!isAddress(value, { strict: true }))
    throw new UsageError(field, `"${value}" has a wrong EIP-55 checksum (expected ${getAddress(value)})`, {
      hint: 'A mixed-case address must be checksummed exactly; paste it again, or pass it all in lowercase.',
    });
  return value as Address;
}

/** A transaction hash: 0x + 64 hex digits. */
export function parseTxHashArg(field: string, value: string): Hex {
  if (!isHex(value, { strict: true }) || value.length !== 66)
    throw new UsageError(field, `"${value}" is not a transaction hash (0x followed by 64 hex digits)`, {
      hint: 'Pass the hash of the postAttestations transaction, as a block explorer or the poster logs it.',
    });
  return value.toLowerCase() as Hex;
}

/** Parses `argv` (without node and the script). `env` supplies the option defaults. */
export function parseCliArgs(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): CliCommand {
  const positional: string[] = [];
  const values = new Map<string, string>();
  let json = false;
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      positional.push(...argv.slice(i + 1));
      break;
    }
    if (a === '-h' || a === '--help') help = true;
    else if (a === '--json') json = true;
    else if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = eq < 0 ? a : a.slice(0, eq);
      if (!VALUE_OPTIONS.has(name))
        throw new UsageError('options', `unknown option ${name}`, {
          hint: `Options: --json, ${[...VALUE_OPTIONS].join(', ')}, --help.`,
        });
      const value = eq < 0 ? argv[++i] : a.slice(eq + 1);
      if (value === undefined || value === '' || (eq < 0 && value.startsWith('--')))
        throw new UsageError(name, 'needs a value', { hint: `Write ${name} <value>.` });
      if (values.has(name)) throw new UsageError(name, 'given twice', { hint: `Give ${name} once.` });
      values.set(name, value);
    } else positional.push(a);
  }
  if (help) return { name: 'help' };
  const [command, ...args] = positional;
  if (command === undefined)
    throw new UsageError('command', 'missing', { hint: `Give one of: ${COMMANDS.join(', ')}.` });
  if (!(COMMANDS as readonly string[]).includes(command))
    throw new UsageError('command', `unknown command "${command}"`, {
      hint: `Give one of: ${COMMANDS.join(', ')}.`,
    });

  const network = values.get('--network') ?? (env.NETMARGIN_NETWORK || 'local');
  if (!NETWORK_NAME.test(network))
    throw new UsageError('--network', `"${network}" is not a network name`, {
      hint: 'Use letters, digits, dot, dash and underscore, e.g. local or op-sepolia.',
    });
  const apiUrl = values.get('--api');
  if (apiUrl !== undefined && !/^https?:\/\/[^\s/]+/.test(apiUrl))
    throw new UsageError('--api', `"${apiUrl}" is not an http(s) URL`, {
      hint: 'Give the API base URL, e.g. http://127.0.0.1:8787.',
    });
  if (apiUrl !== undefined && command !== 'health' && command !== 'what-if')
    throw new UsageError('--api', `is for health and what-if; ${command} reads the stores and the chain`, {
      hint: 'Leave --api out; give --redis / --network (and --rpc / --manifest for replay).',
    });
  const options: CliOptions = {
    json,
    apiUrl,
    redisUrl: values.get('--redis') ?? (env.REDIS_URL || 'redis://127.0.0.1:6379'),
    network,
    rpcUrl: values.get('--rpc'),
    manifestPath: values.get('--manifest') ?? DEFAULT_MANIFEST_PATH,
  };
  const name = command as CommandName;
  const arity = (min: number, max: number, what: string): void => {
    if (args.length < min)
      throw new UsageError(name, `missing ${what}`, { hint: `Usage: netmargin ${name} ${what}` });
    if (args.length > max)
      throw new UsageError(name, `unexpected argument "${args[max]}"`, {
        hint: `Usage: netmargin ${name} ${what}`,
      });
  };
  switch (name) {
    case 'health':
      arity(1, 1, '<address>');
      return { name, address: parseAddressArg('address', args[0]!), options };
    case 'what-if':
      arity(2, Number.MAX_SAFE_INTEGER, '<address> <trade...>');
      return { name, address: parseAddressArg('address', args[0]!), trades: args.slice(1), options };
    case 'replay':
      arity(1, 1, '<attestation tx hash>');
      return { name, txHash: parseTxHashArg('tx', args[0]!), options };
    case 'params':
      arity(0, 0, '');
      return { name, options };
  }
}
