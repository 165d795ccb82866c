import { keccak256, toHex } from 'viem';
import { packRecords, type MarginRecord } from '../attestation';
import { parseAddressArg, parseCliArgs, parseTxHashArg, UsageError } from './args';
import { formatPct, formatUsd, formatUsd6, formatUsd6Delta, table, toJson } from './format';
import { compareRecord, unpackRecords } from './replay';
import { parseTrade, resolveTrades } from './trades';

const CHECKSUMMED = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8';

function usage(f: () => unknown): UsageError {
  try {
    f();
  } catch (e) {
    if (e instanceof UsageError) return e;
    throw e;
  }
  throw new Error('did not throw');
}

describe('parseCliArgs', () => {
  it('reads a command, its arguments and options; env supplies the defaults', () => {
    const c = parseCliArgs(['health', CHECKSUMMED.toLowerCase(), '--json', '--network=op-sepolia'], {
      REDIS_URL: 'redis://10.0.0.1:6380',
    });
    expect(c).toEqual({
      name: 'health',
      address: CHECKSUMMED,
      options: {
        json: true,
        redisUrl: 'redis://10.0.0.1:6380',
        network: 'op-sepolia',
        rpcUrl: undefined,
        manifestPath: 'deployments/local.json',
      },
    });
    const w = parseCliArgs(['what-if', CHECKSUMMED, 'perp:ETH:+1', 'repay:USDC:5'], {
      NETMARGIN_NETWORK: 'main',
    });
    expect(w).toMatchObject({
      name: 'what-if',
      trades: ['perp:ETH:+1', 'repay:USDC:5'],
      options: { network: 'main' },
    });
    expect(parseCliArgs(['params', '--help'])).toEqual({ name: 'help' });
  });

  it('refuses unknown commands and options, missing values, wrong arity and bad network names', () => {
    expect(usage(() => parseCliArgs([])).field).toBe('command');
    expect(usage(() => parseCliArgs(['margin'])).shortMessage).toBe('command: unknown command "margin"');
    expect(usage(() => parseCliArgs(['params', '--fast'])).shortMessage).toBe(
      'options: unknown option --fast',
    );
    expect(usage(() => parseCliArgs(['params', '--rpc'])).shortMessage).toBe('--rpc: needs a value');
    expect(usage(() => parseCliArgs(['params', '--rpc', '--json'])).shortMessage).toBe(
      '--rpc: needs a value',
    );
    expect(usage(() => parseCliArgs(['params', '--network', 'a', '--network', 'b'])).shortMessage).toBe(
      '--network: given twice',
    );
    expect(usage(() => parseCliArgs(['params', 'x'])).shortMessage).toBe('params: unexpected argument "x"');
    expect(usage(() => parseCliArgs(['what-if', CHECKSUMMED])).shortMessage).toBe(
      'what-if: missing <address> <trade...>',
    );
    expect(usage(() => parseCliArgs(['params', '--network', 'a:b'])).field).toBe('--network');
    expect(usage(() => parseCliArgs(['params', '--api', 'http://127.0.0.1:8787'])).shortMessage).toBe(
      '--api: is for health and what-if; params reads the stores and the chain',
    );
    expect(usage(() => parseCliArgs(['health', CHECKSUMMED, '--api', 'localhost:8787'])).field).toBe('--api');
    expect(parseCliArgs(['health', CHECKSUMMED, '--api', 'http://127.0.0.1:8787'])).toMatchObject({
      options: { apiUrl: 'http://127.0.0.1:8787' },
    });
  });
});

describe('parseAddressArg / parseTxHashArg', () => {
  it('checksums lowercase, keeps a correct checksum, refuses a wrong one and malformed text', () => {
    expect(parseAddressArg('a', CHECKSUMMED.toLowerCase())).toBe(CHECKSUMMED);
    expect(parseAddressArg('a', CHECKSUMMED)).toBe(CHECKSUMMED);
    const wrong = CHECKSUMMED.replace('C51812dc3A', 'c51812dc3A');
    expect(usage(() => parseAddressArg('a', wrong)).shortMessage).toBe(
      `a: "${wrong}" has a wrong EIP-55 checksum (expected ${CHECKSUMMED})`,
    );
    for (const bad of [
      '0x1234',
      CHECKSUMMED.slice(2),
      `${CHECKSUMMED}00`,
      '0xZZ997970C51812dc3A010C7d01b50e0d17dc79C8',
    ])
      expect(usage(() => parseAddressArg('a', bad)).field).toBe('a');
  });

  it('takes a 32-byte hash only', () => {
    const h = keccak256(toHex('tx'));
    expect(parseTxHashArg('tx', h.toUpperCase().replace('0X', '0x'))).toBe(h);
    expect(usage(() => parseTxHashArg('tx', h.slice(0, 64))).field).toBe('tx');
  });
});

describe('parseTrade / resolveTrades', () => {
  it('maps each kind onto the API trade', () => {
    expect(parseTrade('perp:eth:+2.5', 0)).toEqual({
      text: 'perp:eth:+2.5',
      trade: { type: 'perp', underlying: 'ETH', size: '2.5' },
    });
    expect(parseTrade('perp:BTC:-0.1', 0).trade).toEqual({ type: 'perp', underlying: 'BTC', size: '-0.1' });
    expect(parseTrade('call:ETH:2026-12-25:4000:-1.5', 1)).toEqual({
      text: 'call:ETH:2026-12-25:4000:-1.5',
      trade: {
        type: 'option',
        side: 'sell',
        underlying: 'ETH',
        strikeUsd: '4000',
        optionType: 'call',
        amount: '1.5',
      },
      expiry: { date: '2026-12-25' },
    });
    expect(parseTrade('put:BTC:1798185600:60000.5:2', 0)).toMatchObject({
      trade: { side: 'buy', optionType: 'put', amount: '2' },
      expiry: { sec: 1798185600 },
    });
    expect(parseTrade('deposit:WETH:2', 0).trade).toEqual({
      type: 'aave',
      action: 'supply',
      asset: 'WETH',
      amount: '2',
    });
    expect(parseTrade('repay:USDC:1000', 0).trade).toEqual({
      type: 'aave',
      action: 'repay',
      asset: 'USDC',
      amount: '1000',
    });
  });

  it('refuses exponents, hex, signs on amounts, zero, separators, impossible dates and wrong arity', () => {
    const cases: [string, string][] = [
      ['perp:ETH:1e18', 'trades[3].size'],
      ['perp:ETH:0x1', 'trades[3].size'],
      ['perp:ETH:1,000', 'trades[3].size'],
      ['perp:ETH:-0.0', 'trades[3].size'],
      ['perp:ETH:.5', 'trades[3].size'],
      ['repay:USDC:-1', 'trades[3].amount'],
      ['repay:USDC:+1', 'trades[3].amount'],
      ['supply:WETH:0', 'trades[3].amount'],
      ['call:ETH:2026-13-01:4000:1', 'trades[3].expirySec'],
      ['call:ETH:tomorrow:4000:1', 'trades[3].expirySec'],
      ['call:ETH:2026-12-25:-4000:1', 'trades[3].strikeUsd'],
      ['call:ETH:2026-12-25:4000:0', 'trades[3].amount'],
      ['perp:E-TH:1', 'trades[3].underlying'],
      ['perp:ETH:1:2', 'trades[3]'],
      ['buy:ETH:1', 'trades[3]'],
    ];
    for (const [text, field] of cases)
      expect([text, usage(() => parseTrade(text, 3)).field]).toEqual([text, field]);
  });

  it('resolves a date to the one listed expiry of that UTC day, seconds as given', () => {
    const market = {
      volSurfaces: {
        ETH: [1_798_185_600, 1_800_000_000].map((expirySec) => ({
          expirySec,
          forwardUsd: 3000,
          rateAnnual: 0,
          svi: { a: 0.04, b: 0.1, rho: -0.3, m: 0, sigma: 0.2 },
        })),
      },
    };
    const parsed = [
      parseTrade('perp:ETH:1', 0),
      parseTrade('call:ETH:2026-12-25:4000:-1', 1),
      parseTrade('put:ETH:123:1:1', 2),
    ];
    expect(resolveTrades(parsed, market)).toEqual([
      { type: 'perp', underlying: 'ETH', size: '1' },
      {
        type: 'option',
        side: 'sell',
        underlying: 'ETH',
        strikeUsd: '4000',
        optionType: 'call',
        amount: '1',
        expirySec: 1_798_185_600,
      },
      {
        type: 'option',
        side: 'buy',
        underlying: 'ETH',
        strikeUsd: '1',
        optionType: 'put',
        amount: '1',
        expirySec: 123,
      },
    ]);
    const e = usage(() => resolveTrades([parseTrade('call:ETH:2026-12-26:4000:1', 0)], market));
    expect(e.shortMessage).toBe('trades[0].expirySec: no ETH expiry is listed on 2026-12-26');
    expect(e.hint).toBe('Listed ETH expiries: 2026-12-25 (1798185600), 2027-01-15 (1800000000).');
  });
});

describe('format', () => {
  it('writes USD6 with separators and cents, rounding half away from zero', () => {
    expect(formatUsd6(1_234_567_894_999n)).toBe('$1,234,567.89');
    expect(formatUsd6(1_234_567_895_000n)).toBe('$1,234,567.90');
    expect(formatUsd6(-5_000n)).toBe('-$0.01');
    expect(formatUsd6(-4_999n)).toBe('$0.00');
    expect(formatUsd6(999_000_000n)).toBe('$999.00');
    expect(formatUsd6Delta(1_000_000n)).toBe('+$1.00');
    expect(formatUsd(-1234.5)).toBe('-$1,234.50');
    expect(formatPct(-0.12345)).toBe('-12.35%');
    expect(formatPct(null)).toBe('—');
  });

  it('aligns tables: text left, figures and their header right, no trailing spaces', () => {
    expect(
      table([
        ['Name', 'USD'],
        ['a', '$1.00'],
        ['long name', '$1,000.00'],
      ]),
    ).toBe(
      ['Name             USD', '---------  ---------', 'a              $1.00', 'long name  $1,000.00'].join(
        '\n',
      ),
    );
  });

  it('writes bigints as decimal strings in JSON, beyond 2^53 exactly', () => {
    expect(toJson({ a: 2n ** 255n, b: [1n] })).toBe(
      `{\n  "a": "${(2n ** 255n).toString()}",\n  "b": [\n    "1"\n  ]\n}`,
    );
  });
});

describe('unpackRecords / compareRecord', () => {
  const records: MarginRecord[] = [
    {
      account: CHECKSUMMED,
      imUsd6: 2n ** 64n - 1n,
      mmUsd6: 123n,
      mtmUsd6: -(2n ** 63n),
      blockNumber: 4_000_000_000n,
      inputsHash: keccak256(toHex('a')),
    },
    {
      account: '0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC',
      imUsd6: 0n,
      mmUsd6: 0n,
      mtmUsd6: 2n ** 63n - 1n,
      blockNumber: 1n,
      inputsHash: keccak256(toHex('b')),
    },
  ];

  it('is the inverse of packRecords, int64 sign included', () => {
    expect(unpackRecords(packRecords(records))).toEqual(records);
  });

  it('refuses calldata that is not whole records', () => {
    expect(() => unpackRecords(`${packRecords(records)}00`)).toThrow(
      'is not a whole number of 84-byte records',
    );
  });

  it('names each field that differs with both values', () => {
    const r = records[0]!;
    const out = compareRecord(r, { ...r, mtmUsd6: r.mtmUsd6 + 1n });
    expect(out.filter((f) => !f.match)).toEqual([
      {
        field: 'mtmUsd6',
        posted: r.mtmUsd6.toString(),
        recomputed: (r.mtmUsd6 + 1n).toString(),
        match: false,
      },
    ]);
    expect(compareRecord(r, r).every((f) => f.match)).toBe(true);
  });
});
