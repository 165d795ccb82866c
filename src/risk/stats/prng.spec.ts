import { Prng } from './prng';

describe('Prng', () => {
  it('replays the same stream for the same seed and a different one for another seed', () => {
    const a = new Prng(7);
    const b = new Prng(7);
    const c = new Prng(8);
    const sa = Array.from({ length: 50 }, () => a.nextUint32());
    const sb = Array.from({ length: 50 }, () => b.nextUint32());
    const sc = Array.from({ length: 50 }, () => c.nextUint32());
    expect(sb).toEqual(sa);
    expect(sc).not.toEqual(sa);
  });

  it('draws uniforms in [0, 1) with mean 1/2 and variance 1/12', () => {
    const p = new Prng(1);
    const n = 100_000;
    let sum = 0;
    let sumSq = 0;
    let outside = 0;
    for (let i = 0; i < n; i++) {
      const u = p.nextFloat();
      if (!(u >= 0 && u < 1)) outside++;
      sum += u;
      sumSq += u * u;
    }
    expect(outside).toBe(0);
    const mean = sum / n;
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.005);
    expect(Math.abs(sumSq / n - mean * mean - 1 / 12)).toBeLessThan(0.002);
  });

  it('draws normals with mean 0, variance 1 and about 1 % beyond 2.326', () => {
    const p = new Prng(3);
    const n = 200_000;
    let sum = 0;
    let sumSq = 0;
    let tail = 0;
    for (let i = 0; i < n; i++) {
      const z = p.normal();
      sum += z;
      sumSq += z * z;
      if (z > 2.3263478740408408) tail++;
    }
    expect(Math.abs(sum / n)).toBeLessThan(0.01);
    expect(Math.abs(sumSq / n - 1)).toBeLessThan(0.01);
    expect(Math.abs(tail / n - 0.01)).toBeLessThan(0.001);
  });
});
