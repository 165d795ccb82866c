import { InvalidInputError } from '../../common/errors';
import {
  decodeOptionSubId,
  encodeOptionSubId,
  perpEntryPriceWad,
  perpPnlWad,
  valueInBase,
  WAD,
} from './units';

describe('decodeOptionSubId', () => {
  // Golden subIds shared with contracts/test/derive/OptionEncoding.t.sol (Derive's layout).
  it('decodes a 2000 call expiring at 1_700_000_000', () => {
    expect(decodeOptionSubId(39614082116125627998471975168n)).toEqual({
      expirySec: 1_700_000_000,
      strikeUsd8: 2000n * 10n ** 8n,
      isCall: true,
    });
  });

  it('decodes a 1234.56789 put, keeping the strike exact in 8 decimals', () => {
    expect(decodeOptionSubId(530242871225872544000n)).toEqual({
      expirySec: 1_700_000_000,
      strikeUsd8: 123_456_789_000n,
      isCall: false,
    });
  });

  it('round-trips through encodeOptionSubId at the field limits', () => {
    for (const o of [
      { expirySec: 1, strikeUsd8: 1n, isCall: false },
      { expirySec: 0xffff_ffff, strikeUsd8: (1n << 63n) - 1n, isCall: true },
      { expirySec: 1_767_225_600, strikeUsd8: 95_000n * 10n ** 8n, isCall: true },
    ]) {
      expect(decodeOptionSubId(encodeOptionSubId(o))).toEqual(o);
    }
  });

  it('rejects a subId with no expiry or no strike, or wider than uint96, naming the field', () => {
    expect(() => decodeOptionSubId(0n)).toThrow(InvalidInputError);
    expect(() => decodeOptionSubId(1_700_000_000n)).toThrow(/strike 0/);
    expect(() => decodeOptionSubId(2000n * 10n ** 8n * 2n ** 32n)).toThrow(/expiry 0/);
    expect(() => decodeOptionSubId(1n << 96n)).toThrow(/uint96/);
  });
});

describe('perps entry price', () => {
  it("recovers the entry so the engine's PnL equals the venue's totalPnl, long and short", () => {
    for (const [size, entry, index, funding] of [
      [50n * WAD, 3010n * WAD + 123n, 2890n * WAD, -3n * WAD],
      [-7n * WAD + 5n, 64_000n * WAD, 66_500n * WAD + 999n, 12n * WAD],
    ] as const) {
      const totalPnl = (size * (index - entry)) / WAD + funding;
      const got = perpEntryPriceWad(index, totalPnl, funding, size);
      const pnl = perpPnlWad(size, got, index, funding);
      const diff = pnl > totalPnl ? pnl - totalPnl : totalPnl - pnl;
      expect(diff).toBeLessThanOrEqual((size < 0n ? -size : size) / WAD + 1n);
      const entryErr = got > entry ? got - entry : entry - got;
      expect(entryErr).toBeLessThanOrEqual(WAD / 10n ** 15n);
    }
  });

  it('refuses a zero size', () => {
    expect(() => perpEntryPriceWad(WAD, 0n, 0n, 0n)).toThrow(/size/);
  });
});

describe('valueInBase', () => {
  it('values token units at an 8-decimal price, rounding down like Aave', () => {
    // 1.5 WBTC (8 decimals) at 65,000.12345678 USD.
    expect(valueInBase(150_000_000n, 8, 6_500_012_345_678n)).toBe(9_750_018_518_517n);
    // 1 wei of WETH at 3000 USD is less than one base unit.
    expect(valueInBase(1n, 18, 300_000_000_000n)).toBe(0n);
  });
});
