import { InvalidInputError } from '../common/errors';
import { SECONDS_PER_YEAR, sviVol } from '../risk/math';
import { sviSliceFromDerive, underlyingOfFeed } from './market-data';

const WAD = 10n ** 18n;
const wad = (x: number): bigint => BigInt(Math.round(x * 1e12)) * 10n ** 6n;

describe('underlyingOfFeed', () => {
  it('reads the underlying from a Chainlink USD feed description', () => {
    expect(underlyingOfFeed('ETH / USD')).toBe('ETH');
    expect(underlyingOfFeed('USDC/USD')).toBe('USDC');
  });
  it('rejects a feed that is not quoted in USD, saying how to name it', () => {
    expect(() => underlyingOfFeed('ETH / BTC')).toThrow(InvalidInputError);
    expect(() => underlyingOfFeed('L2 Sequencer Uptime Status Feed')).toThrow(/<SYMBOL> \/ USD/);
  });
});

describe('sviSliceFromDerive', () => {
  it("gives the engine the venue's vol: sqrt(w(k) / refTao) although tau has moved since the post", () => {
    const refTao = 30 / 365;
    const asOfSec = 1_800_000_000;
    const expirySec = asOfSec + Math.round(20 * 86_400);
    const p = { a: 0.004, b: 0.02, rho: -0.3, m: 0.01, sigma: 0.2 };
    const fwd = 3000;
    const slice = sviSliceFromDerive(
      {
        SVI_a: wad(p.a),
        SVI_b: wad(p.b),
        SVI_rho: wad(p.rho),
        SVI_m: wad(p.m),
        SVI_sigma: wad(p.sigma),
        SVI_refTao: wad(refTao),
      },
      expirySec,
      asOfSec,
      3000n * WAD,
      wad(0.05),
    );
    expect(slice.forwardUsd).toBe(3000);
    expect(slice.rateAnnual).toBeCloseTo(0.05, 12);
    const tau = (expirySec - asOfSec) / SECONDS_PER_YEAR;
    for (const strike of [2700, 3000, 3300]) {
      const k = Math.log(strike / fwd);
      const w = p.a + p.b * (p.rho * (k - p.m) + Math.sqrt((k - p.m) ** 2 + p.sigma ** 2));
      const venueVol = Math.sqrt(w / refTao);
      const engineVol = sviVol(strike, { ...slice.svi, forwardUsd: slice.forwardUsd, tauYears: tau });
      expect(engineVol).toBeCloseTo(venueVol, 9);
    }
  });

  it('rejects an expired slice', () => {
    const d = { SVI_a: 1n, SVI_b: 1n, SVI_rho: 0n, SVI_m: 0n, SVI_sigma: WAD, SVI_refTao: WAD };
    expect(() => sviSliceFromDerive(d, 100, 100, WAD, 0n)).toThrow(InvalidInputError);
  });
});
