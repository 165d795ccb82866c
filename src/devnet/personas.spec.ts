import { parseDecimalUnits } from '../common/amount';
import { ASSETS } from './params';
import { ANVIL_ACCOUNTS, DEPLOYER_INDEX, KEEPER_INDEX, PERSONAS, personaVenues } from './personas';

describe('seeded personas', () => {
  it('are 20+ with unique names and mnemonic indexes inside the anvil accounts, none the deployer or keeper', () => {
    expect(PERSONAS.length).toBeGreaterThanOrEqual(20);
    expect(new Set(PERSONAS.map((p) => p.persona)).size).toBe(PERSONAS.length);
    const idx = PERSONAS.map((p) => p.mnemonicIndex);
    expect(new Set(idx).size).toBe(idx.length);
    for (const i of idx) {
      expect(i).toBeLessThan(ANVIL_ACCOUNTS);
      expect([DEPLOYER_INDEX, KEEPER_INDEX]).not.toContain(i);
    }
  });

  it('cover every venue, single-venue users included', () => {
    for (const venue of ['aave', 'perps', 'options'] as const) {
      expect(PERSONAS.filter((p) => personaVenues(p).includes(venue)).length).toBeGreaterThanOrEqual(5);
      expect(PERSONAS.some((p) => personaVenues(p).join() === venue)).toBe(true);
    }
    expect(PERSONAS.some((p) => personaVenues(p).length === 3)).toBe(true);
  });

  it('borrow within Aave LTV at the start prices (so seeding cannot revert), near-liquidation at HF < 1.06', () => {
    const usd = (sym: keyof typeof ASSETS, amt: string): number =>
      ((Number(parseDecimalUnits('amt', amt, ASSETS[sym].decimals)) / 10 ** ASSETS[sym].decimals) *
        Number(ASSETS[sym].initialPriceUsd8)) /
      1e8;
    for (const p of PERSONAS) {
      if (!p.aave || p.aave.borrow.length === 0) continue;
      const borrowLimit = p.aave.supply.reduce(
        (s, [sym, a]) => s + (usd(sym, a) * ASSETS[sym].ltvBps) / 10_000,
        0,
      );
      const lt = p.aave.supply.reduce(
        (s, [sym, a]) => s + (usd(sym, a) * ASSETS[sym].liquidationThresholdBps) / 10_000,
        0,
      );
      const debt = p.aave.borrow.reduce((s, [sym, a]) => s + usd(sym, a), 0);
      expect(debt).toBeLessThan(borrowLimit);
      if (p.persona === 'aave-near-liquidation') expect(lt / debt).toBeLessThan(1.06);
    }
  });
});
