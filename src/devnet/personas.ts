/**
 * The seeded users of the local world: who they are and what they hold, as data.
 *
 * Amounts are human decimal strings in whole tokens / base units (converted once, with the token's
 * decimals, by the seeder). Tests compute expected Aave account data from this table × feed prices ×
 * Aave parameters, independently of Aave's own arithmetic. Keys come from anvil's public test
 * mnemonic: account index = `mnemonicIndex`. Indexes 0 and 1 are the deployer and the keeper.
 */
import type { AssetSymbol, VenueName } from '../config/manifest';

export const DEPLOYER_INDEX = 0;
export const KEEPER_INDEX = 1;
/** anvil is started with this many accounts; personas use indexes 2 … */
export const ANVIL_ACCOUNTS = 30;

export type PerpMarketSymbol = 'ETH' | 'BTC' | 'OP';
export type OptionUnderlying = 'ETH' | 'BTC';

export interface AaveSeed {
  supply: [AssetSymbol, string][];
  /** Variable-rate borrows, drawn after all supplies. */
  borrow: [AssetSymbol, string][];
}

export interface PerpSeed {
  /** USDC deposited as margin. */
  marginUsdc: string;
  /** Signed sizes in base units (ETH, BTC, OP); negative = short. */
  positions: [PerpMarketSymbol, string][];
}

export interface OptionLeg {
  underlying: OptionUnderlying;
  /** Index into the venue's listed expiries (0 = nearest). */
  expiryIndex: number;
  strikeUsd: number;
  isCall: boolean;
  /** Signed number of contracts; negative = written (short). */
  contracts: string;
}

export interface OptionSeed {
  /** USDC deposited as cash collateral. */
  cashUsdc: string;
  legs: OptionLeg[];
}

export interface AggregatorSeed {
  /**
   * Collateral deposited into the MarginAggregator: [collateral symbol (`USDC`, `aWETH`, …), whole tokens].
   * Funded fresh (tokens minted / wrapped; for aTokens also supplied to Aave first), so the persona's
   * other positions are unchanged.
   */
  deposit: [string, string][];
}

export interface Persona {
  persona: string;
  description: string;
  mnemonicIndex: number;
  /** Tokens left in the wallet (not deposited anywhere). */
  wallet?: [AssetSymbol, string][];
  aave?: AaveSeed;
  perps?: PerpSeed;
  options?: OptionSeed;
  aggregator?: AggregatorSeed;
}

export const PERSONAS: Persona[] = [
  {
    persona: 'aave-liquidity-whale',
    description: 'Supplies deep liquidity to every Aave reserve so others can borrow; no debt.',
    mnemonicIndex: 2,
    aave: {
      supply: [
        ['WETH', '4000'],
        ['WBTC', '200'],
        ['USDC', '20000000'],
        ['OP', '2000000'],
      ],
      borrow: [],
    },
  },
  {
    persona: 'options-market-maker',
    description:
      'Counterparty of every seeded option trade; holds cash on the options venue and WETH on Aave.',
    mnemonicIndex: 3,
    aave: { supply: [['WETH', '500']], borrow: [] },
    options: { cashUsdc: '5000000', legs: [] },
    perps: { marginUsdc: '2000000', positions: [] },
  },
  {
    persona: 'delta-hedged-options-book',
    description:
      'Short ETH straddles and calls (option delta ≈ −12 ETH at setup) hedged with a 12 ETH perp long; USDC on Aave as its reserve.',
    mnemonicIndex: 4,
    aave: { supply: [['USDC', '300000']], borrow: [] },
    perps: { marginUsdc: '100000', positions: [['ETH', '12']] },
    options: {
      cashUsdc: '50000',
      legs: [
        { underlying: 'ETH', expiryIndex: 1, strikeUsd: 3000, isCall: true, contracts: '-40' },
        { underlying: 'ETH', expiryIndex: 1, strikeUsd: 3000, isCall: false, contracts: '-40' },
        { underlying: 'ETH', expiryIndex: 2, strikeUsd: 3400, isCall: true, contracts: '-20' },
      ],
    },
    aggregator: { deposit: [['USDC', '50000']] },
  },
  {
    persona: 'leveraged-perp-long',
    description: '~7.5x long ETH perp on 20k USDC margin; nothing else.',
    mnemonicIndex: 5,
    perps: { marginUsdc: '20000', positions: [['ETH', '50']] },
  },
  {
    persona: 'covered-call-writer',
    description: 'Holds 100 WETH supplied on Aave and writes out-of-the-money ETH calls against it.',
    mnemonicIndex: 6,
    aave: { supply: [['WETH', '100']], borrow: [] },
    options: {
      cashUsdc: '10000',
      legs: [
        { underlying: 'ETH', expiryIndex: 0, strikeUsd: 3300, isCall: true, contracts: '-50' },
        { underlying: 'ETH', expiryIndex: 1, strikeUsd: 3600, isCall: true, contracts: '-50' },
      ],
    },
  },
  {
    persona: 'basis-trader',
    description: 'Supplies WETH on Aave, borrows USDC against it to fund a short ETH perp of the same size.',
    mnemonicIndex: 7,
    aave: { supply: [['WETH', '300']], borrow: [['USDC', '400000']] },
    perps: { marginUsdc: '400000', positions: [['ETH', '-300']] },
    aggregator: { deposit: [['aWETH', '50']] },
  },
  {
    persona: 'aave-near-liquidation',
    description: 'WETH collateral, USDC debt at health factor ≈ 1.05: a 5 % ETH drop makes it liquidatable.',
    mnemonicIndex: 8,
    aave: { supply: [['WETH', '10']], borrow: [['USDC', '23500']] },
  },
  {
    persona: 'aave-usdc-saver',
    description: 'Only supplies USDC on Aave; earns interest, no debt.',
    mnemonicIndex: 9,
    aave: { supply: [['USDC', '250000']], borrow: [] },
  },
  {
    persona: 'aave-btc-borrower',
    description: 'WBTC collateral on Aave, USDC debt at a comfortable 45 % loan-to-value.',
    mnemonicIndex: 10,
    aave: { supply: [['WBTC', '5']], borrow: [['USDC', '135000']] },
  },
  {
    persona: 'aave-op-borrower',
    description: 'OP collateral on Aave (LTV 30 %), small USDC debt.',
    mnemonicIndex: 11,
    aave: { supply: [['OP', '200000']], borrow: [['USDC', '100000']] },
  },
  {
    persona: 'aave-eth-looper',
    description: 'Supplies WETH and borrows WETH against it (a looped ETH position).',
    mnemonicIndex: 12,
    aave: { supply: [['WETH', '100']], borrow: [['WETH', '60']] },
  },
  {
    persona: 'aave-op-shorter',
    description: 'WETH and WBTC collateral on Aave, short OP by borrowing it.',
    mnemonicIndex: 13,
    aave: {
      supply: [
        ['WETH', '50'],
        ['WBTC', '2'],
      ],
      borrow: [
        ['OP', '30000'],
        ['USDC', '50000'],
      ],
    },
  },
  {
    persona: 'aave-usdc-collateral-eth-borrower',
    description: 'USDC collateral on Aave, WETH debt: hurt by an ETH rally and by a USDC de-peg.',
    mnemonicIndex: 14,
    aave: { supply: [['USDC', '300000']], borrow: [['WETH', '60']] },
  },
  {
    persona: 'perps-btc-short',
    description: 'Short BTC perp at ~3x on USDC margin.',
    mnemonicIndex: 15,
    perps: { marginUsdc: '100000', positions: [['BTC', '-5']] },
  },
  {
    persona: 'perps-op-long',
    description: 'Long OP perp at ~4x.',
    mnemonicIndex: 16,
    perps: { marginUsdc: '50000', positions: [['OP', '100000']] },
  },
  {
    persona: 'perps-multi-market',
    description: 'Positions in all three perp markets: long ETH, short BTC, long OP.',
    mnemonicIndex: 17,
    perps: {
      marginUsdc: '150000',
      positions: [
        ['ETH', '60'],
        ['BTC', '-2'],
        ['OP', '50000'],
      ],
    },
  },
  {
    persona: 'perps-high-leverage',
    description: 'Long ETH perp near the venue maintenance margin: a small drop liquidates it.',
    mnemonicIndex: 18,
    perps: { marginUsdc: '6000', positions: [['ETH', '30']] },
  },
  {
    persona: 'options-vol-seller',
    description: 'Short ETH strangles across two expiries, cash-margined.',
    mnemonicIndex: 19,
    options: {
      cashUsdc: '200000',
      legs: [
        { underlying: 'ETH', expiryIndex: 0, strikeUsd: 2600, isCall: false, contracts: '-60' },
        { underlying: 'ETH', expiryIndex: 0, strikeUsd: 3400, isCall: true, contracts: '-60' },
        { underlying: 'ETH', expiryIndex: 2, strikeUsd: 2400, isCall: false, contracts: '-30' },
      ],
    },
  },
  {
    persona: 'options-put-buyer',
    description: 'Long ETH puts as crash protection; only the options venue.',
    mnemonicIndex: 20,
    options: {
      cashUsdc: '30000',
      legs: [{ underlying: 'ETH', expiryIndex: 1, strikeUsd: 2600, isCall: false, contracts: '80' }],
    },
  },
  {
    persona: 'options-calendar-spread',
    description: 'Long far-dated, short near-dated ETH calls at the same strike.',
    mnemonicIndex: 21,
    options: {
      cashUsdc: '40000',
      legs: [
        { underlying: 'ETH', expiryIndex: 0, strikeUsd: 3000, isCall: true, contracts: '-25' },
        { underlying: 'ETH', expiryIndex: 2, strikeUsd: 3000, isCall: true, contracts: '25' },
      ],
    },
  },
  {
    persona: 'options-btc-call-buyer',
    description: 'Long BTC calls (options venue only).',
    mnemonicIndex: 22,
    options: {
      cashUsdc: '60000',
      legs: [{ underlying: 'BTC', expiryIndex: 1, strikeUsd: 65000, isCall: true, contracts: '3' }],
    },
  },
  {
    persona: 'cross-venue-btc-hedger',
    description: 'WBTC on Aave hedged with a short BTC perp and long BTC puts.',
    mnemonicIndex: 23,
    aave: { supply: [['WBTC', '10']], borrow: [['USDC', '150000']] },
    perps: { marginUsdc: '100000', positions: [['BTC', '-8']] },
    options: {
      cashUsdc: '20000',
      legs: [{ underlying: 'BTC', expiryIndex: 1, strikeUsd: 55000, isCall: false, contracts: '2' }],
    },
    aggregator: { deposit: [['aWBTC', '2']] },
  },
  {
    persona: 'all-venues-balanced',
    description: 'A little of everything: Aave supply and borrow, an OP perp, an ETH call spread.',
    mnemonicIndex: 24,
    aave: {
      supply: [
        ['WETH', '20'],
        ['USDC', '20000'],
      ],
      borrow: [['OP', '5000']],
    },
    perps: { marginUsdc: '15000', positions: [['OP', '-20000']] },
    options: {
      cashUsdc: '15000',
      legs: [
        { underlying: 'ETH', expiryIndex: 1, strikeUsd: 3000, isCall: true, contracts: '10' },
        { underlying: 'ETH', expiryIndex: 1, strikeUsd: 3400, isCall: true, contracts: '-10' },
      ],
    },
    aggregator: {
      deposit: [
        ['aUSDC', '5000'],
        ['OP', '10000'],
      ],
    },
  },
  {
    persona: 'liquidator-bot',
    description: 'Holds USDC and WETH in its wallet, ready to liquidate; no positions.',
    mnemonicIndex: 25,
    wallet: [
      ['USDC', '1000000'],
      ['WETH', '200'],
    ],
  },
  {
    persona: 'fresh-wallet',
    description: 'Tokens in the wallet only, never touched a venue: an empty portfolio.',
    mnemonicIndex: 26,
    wallet: [
      ['USDC', '5000'],
      ['OP', '1000'],
    ],
  },
];

export function personaVenues(p: Persona): VenueName[] {
  const v: VenueName[] = [];
  if (p.aave && (p.aave.supply.length > 0 || p.aave.borrow.length > 0)) v.push('aave');
  if (p.perps) v.push('perps');
  if (p.options) v.push('options');
  return v;
}
