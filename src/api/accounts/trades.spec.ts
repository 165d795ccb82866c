import { InvalidInputError } from '../../common/errors';
import { computeAccountRiskIn, DEFAULT_RISK_PARAMS, prepareMarket, type RiskParams } from '../../risk';
import type { AccountRiskInput, OptionPosition, Position } from '../../risk/types';
import { account, AS_OF_SEC, ASSETS, flatSlice, lending, perp } from '../../../test/vectors/fixtures';
import { ApiError } from '../http/errors';
import { applyTrades, parseWhatIfRequest, type Trade } from './trades';

const FAST: RiskParams = {
  ...DEFAULT_RISK_PARAMS,
  valueAtRisk: { ...DEFAULT_RISK_PARAMS.valueAtRisk, monteCarloPaths: 100 },
};
const OWNER = '0x00000000000000000000000000000000000000a1';
const EXPIRY = AS_OF_SEC + 30 * 86_400;

function world(positions: Position[]): {
  input: AccountRiskInput;
  mtm: (p: Position[]) => number;
  mark: (l: OptionPosition) => number;
} {
  const input = account({ positions, volSurfaces: { ETH: [flatSlice(EXPIRY, 3_000, 0.7)] } });
  input.market.assets = { ...ASSETS, deriveUSD: { underlying: 'USDC', decimals: 18, isAToken: false } };
  const ctx = prepareMarket(input, FAST);
  const mtm = (p: Position[]) => computeAccountRiskIn(ctx, { account: OWNER, positions: p }).mtmUsd;
  return { input, mtm, mark: (leg) => mtm([leg]) };
}

function refusal(fn: () => unknown): InvalidInputError {
  try {
    fn();
  } catch (err) {
    if (err instanceof InvalidInputError) return err;
    throw err;
  }
  throw new Error('expected a refusal');
}

describe('applyTrades', () => {
  const book: Position[] = [
    lending('collateral', 'aWETH', 10),
    lending('debt', 'USDC', 5_000),
    perp('ETH', 2, 3_010, { entryUsd: 2_900, marginUsd: 1_000 }),
  ];

  it('opens a perp leg at the held perp’s index price and leaves the held positions untouched', () => {
    const { input, mark } = world(book);
    const out = applyTrades(book, [{ type: 'perp', underlying: 'ETH', size: '-0.5' }], input.market, mark);
    expect(out.slice(0, 3)).toEqual(book);
    expect(out[3]).toMatchObject({
      kind: 'perp',
      underlying: 'ETH',
      size: { raw: -500_000_000_000_000_000n, decimals: 18 },
      entryPriceUsd: (book[2] as { lastPriceUsd: unknown }).lastPriceUsd,
    });
  });

  it('closing the held perp keeps mark-to-market (its PnL is realized) and removes the exposure', () => {
    const { input, mtm, mark } = world(book);
    const out = applyTrades(book, [{ type: 'perp', underlying: 'ETH', size: '-2' }], input.market, mark);
    expect(mtm(out)).toBeCloseTo(mtm(book), 6);
    const net = out
      .filter((p) => p.kind === 'perp')
      .reduce((s, p) => s + (p.kind === 'perp' ? p.size.raw : 0n), 0n);
    expect(net).toBe(0n);
  });

  it('prices a new perp on an underlying the account does not trade at the oracle', () => {
    const { input, mark } = world(book);
    const [leg] = applyTrades([], [{ type: 'perp', underlying: 'BTC', size: '1' }], input.market, mark);
    expect(leg).toMatchObject({ entryPriceUsd: { raw: input.market.prices.BTC!.answer, decimals: 8 } });
  });

  it('selling an option adds its premium at the mark to the venue cash: MTM unchanged to the cent', () => {
    const { input, mtm, mark } = world(book);
    const trade: Trade = {
      type: 'option',
      side: 'sell',
      underlying: 'ETH',
      expirySec: EXPIRY,
      strikeUsd: '3200',
      optionType: 'call',
      amount: '3',
    };
    const out = applyTrades(book, [trade], input.market, mark);
    const cash = out.find((p) => p.kind === 'spot' && p.asset === 'deriveUSD');
    expect(cash && cash.kind === 'spot' && cash.amount.raw > 0n).toBe(true);
    expect(out[out.length - 1]).toMatchObject({
      kind: 'option',
      amount: { raw: -3_000_000_000_000_000_000n },
    });
    expect(Math.abs(mtm(out) - mtm(book))).toBeLessThan(0.01);
  });

  it('refuses a buy whose premium exceeds the venue cash, and pays it when the cash is there', () => {
    const { input, mtm, mark } = world(book);
    const buy: Trade = {
      type: 'option',
      side: 'buy',
      underlying: 'ETH',
      expirySec: EXPIRY,
      strikeUsd: '3000',
      optionType: 'put',
      amount: '1',
    };
    expect(refusal(() => applyTrades(book, [buy], input.market, mark)).code).toBe('INSUFFICIENT_CASH');
    const funded: Position[] = [
      ...book,
      { kind: 'spot', protocol: 'options', asset: 'deriveUSD', amount: { raw: 10n ** 24n, decimals: 18 } },
    ];
    const out = applyTrades(funded, [buy], input.market, mark);
    expect(Math.abs(mtm(out) - mtm(funded))).toBeLessThan(0.01);
  });

  it('refuses an expiry that is not listed, naming it', () => {
    const { input, mark } = world(book);
    const e = refusal(() =>
      applyTrades(
        book,
        [
          {
            type: 'option',
            side: 'sell',
            underlying: 'ETH',
            expirySec: EXPIRY + 1,
            strikeUsd: '3000',
            optionType: 'call',
            amount: '1',
          },
        ],
        input.market,
        mark,
      ),
    );
    expect(e.field).toBe('trades[0].expirySec');
  });

  it('supply and repay raise equity by their value; borrow and withdraw lower it', () => {
    const { input, mtm, mark } = world(book);
    const base = mtm(book);
    const after = (t: Trade) => mtm(applyTrades(book, [t], input.market, mark)) - base;
    expect(after({ type: 'aave', action: 'supply', asset: 'WETH', amount: '1' })).toBeCloseTo(3_000, 6);
    expect(after({ type: 'aave', action: 'repay', asset: 'USDC', amount: '5000' })).toBeCloseTo(5_000, 6);
    expect(after({ type: 'aave', action: 'borrow', asset: 'USDC', amount: '250.5' })).toBeCloseTo(-250.5, 6);
    expect(after({ type: 'aave', action: 'withdraw', asset: 'WETH', amount: '0.5' })).toBeCloseTo(-1_500, 6);
  });

  it('removes a leg brought to zero and refuses more than is held', () => {
    const { input, mark } = world(book);
    const repaid = applyTrades(
      book,
      [{ type: 'aave', action: 'repay', asset: 'USDC', amount: '5000' }],
      input.market,
      mark,
    );
    expect(repaid.some((p) => p.kind === 'lending' && p.side === 'debt')).toBe(false);
    expect(
      refusal(() =>
        applyTrades(
          book,
          [{ type: 'aave', action: 'repay', asset: 'USDC', amount: '5000.000001' }],
          input.market,
          mark,
        ),
      ).code,
    ).toBe('INSUFFICIENT_DEBT');
    expect(
      refusal(() =>
        applyTrades(
          book,
          [{ type: 'aave', action: 'withdraw', asset: 'WETH', amount: '10.1' }],
          input.market,
          mark,
        ),
      ).field,
    ).toBe('trades[0].amount');
    expect(
      refusal(() =>
        applyTrades(
          book,
          [{ type: 'aave', action: 'supply', asset: 'aWETH', amount: '1' }],
          input.market,
          mark,
        ),
      ).field,
    ).toBe('trades[0].asset');
    expect(
      refusal(() =>
        applyTrades(
          book,
          [{ type: 'aave', action: 'supply', asset: 'USDC', amount: '0.0000001' }],
          input.market,
          mark,
        ),
      ).field,
    ).toBe('trades[0].amount');
  });
});

describe('parseWhatIfRequest', () => {
  const address = '0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed';

  it('checksums the address and keeps the trades', () => {
    const r = parseWhatIfRequest(
      { address, trades: [{ type: 'aave', action: 'repay', asset: 'USDC', amount: '1' }] },
      5,
    );
    expect(r.address).toBe('0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed');
    expect(r.trades).toHaveLength(1);
  });

  it.each([
    [{ address, trades: [] }, 'trades'],
    [{ address, trades: {} }, 'trades'],
    [{ address: '0x1', trades: [] }, 'address'],
    [{ address, trades: [{ type: 'swap' }] }, 'trades[0].type'],
    [{ address, trades: [{ type: 'perp', underlying: 'ETH', size: 1 }] }, 'trades[0].size'],
    [{ address, trades: [{ type: 'aave', action: 'lend', asset: 'USDC', amount: '1' }] }, 'trades[0].action'],
    [
      { address, trades: [{ type: 'aave', action: 'supply', asset: 'USDC', amount: '-1' }] },
      'trades[0].amount',
    ],
    [
      {
        address,
        trades: [
          {
            type: 'option',
            side: 'sell',
            underlying: 'ETH',
            expirySec: -1,
            strikeUsd: '1',
            optionType: 'call',
            amount: '1',
          },
        ],
      },
      'trades[0].expirySec',
    ],
    [[], 'body'],
  ])('refuses %j naming %s', (body, field) => {
    expect(refusal(() => parseWhatIfRequest(body, 5)).field).toBe(field);
  });

  it('answers a list over the limit with a 413 naming trades', () => {
    const trades = new Array(6).fill({ type: 'aave', action: 'repay', asset: 'USDC', amount: '1' });
    let err: unknown;
    try {
      parseWhatIfRequest({ address, trades }, 5);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).status).toBe(413);
    expect((err as ApiError).field).toBe('trades');
  });
});
