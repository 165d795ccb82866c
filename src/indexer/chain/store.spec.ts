import type { Hex } from 'viem';
import { mulberry32 } from '../../risk/stats/prng';
import { ReorgBuffer, type BlockRef, type BlockStamped } from './store';

const ref = (n: bigint, branch = 0): BlockRef => ({
  number: n,
  hash: `0x${branch.toString(16)}${n.toString(16).padStart(63, '0')}` as Hex,
});

const values = async (s: ReorgBuffer<bigint>) =>
  Object.fromEntries([...(await s.entries())].map(([k, v]) => [k, v.value]));

describe('ReorgBuffer', () => {
  it('stamps every value with the block it was written at', async () => {
    const s = new ReorgBuffer<bigint>(ref(10n));
    await s.applyBlock(ref(11n), [{ key: 'a', value: 5n }]);
    expect(await s.get('a')).toEqual({ value: 5n, blockNumber: 11n, blockHash: ref(11n).hash });
    expect(await s.head()).toEqual(ref(11n));
  });

  it('restores exactly the state at the ancestor, including deletions and keys written twice', async () => {
    const initial: [string, BlockStamped<bigint>][] = [
      ['a', { value: 1n, blockNumber: 10n, blockHash: ref(10n).hash }],
    ];
    const s = new ReorgBuffer<bigint>(ref(10n), initial);
    await s.applyBlock(ref(11n), [{ key: 'b', value: 2n }]);
    const atAncestor = await s.entries();
    await s.applyBlock(ref(12n), [
      { key: 'a', value: 7n },
      { key: 'a', value: 8n },
      { key: 'b', value: null },
      { key: 'c', value: 3n },
    ]);
    await s.applyBlock(ref(13n), [{ key: 'c', value: 4n }]);
    expect(await values(s)).toEqual({ a: 8n, c: 4n });
    expect(await s.rollbackTo(ref(11n))).toBe(2);
    expect(await s.entries()).toEqual(atAncestor);
    expect(await s.head()).toEqual(ref(11n));
  });

  it('ignores a redelivered block and refuses a different block at an applied height', async () => {
    const s = new ReorgBuffer<bigint>(ref(10n));
    await s.applyBlock(ref(11n), [{ key: 'a', value: 1n }]);
    await s.applyBlock(ref(11n), [{ key: 'a', value: 999n }]);
    expect((await s.get('a'))?.value).toBe(1n);
    await expect(s.applyBlock(ref(11n, 1), [])).rejects.toMatchObject({ code: 'BLOCK_CONFLICT' });
  });

  it('refuses a block that skips ahead', async () => {
    const s = new ReorgBuffer<bigint>(ref(10n));
    await expect(s.applyBlock(ref(12n), [])).rejects.toMatchObject({ code: 'BLOCK_GAP' });
  });

  it('cannot roll back below what it finalized', async () => {
    const s = new ReorgBuffer<bigint>(ref(10n));
    for (let n = 11n; n <= 15n; n += 1n) await s.applyBlock(ref(n), [{ key: 'a', value: n }]);
    await s.finalize(13n);
    expect(s.pendingBlocks).toBe(2);
    await expect(s.rollbackTo(ref(12n))).rejects.toMatchObject({ code: 'ROLLBACK_OUT_OF_RANGE' });
    const t = new ReorgBuffer<bigint>(ref(10n));
    for (let n = 11n; n <= 15n; n += 1n) await t.applyBlock(ref(n), [{ key: 'a', value: n }]);
    await t.finalize(13n);
    expect(await t.rollbackTo(ref(13n))).toBe(2);
    expect((await t.get('a'))?.value).toBe(13n);
  });

  it('equals a replay of the surviving blocks after random apply / rollback sequences', async () => {
    const rnd = mulberry32(42);
    for (let seq = 0; seq < 50; seq += 1) {
      const s = new ReorgBuffer<bigint>(ref(0n));
      const history: { block: BlockRef; writes: { key: string; value: bigint | null }[] }[] = [];
      let branch = 0;
      for (let step = 0; step < 30; step += 1) {
        if (history.length > 0 && rnd() < 0.2) {
          const depth = 1 + Math.floor(rnd() * Math.min(history.length, 4));
          history.splice(history.length - depth);
          await s.rollbackTo(history[history.length - 1]?.block ?? ref(0n));
          branch += 1;
        } else {
          const block = ref(BigInt(history.length + 1), branch % 15);
          const writes = Array.from({ length: 1 + Math.floor(rnd() * 3) }, () => ({
            key: `k${Math.floor(rnd() * 4)}`,
            value: rnd() < 0.2 ? null : BigInt(Math.floor(rnd() * 100)),
          }));
          history.push({ block, writes });
          await s.applyBlock(block, writes);
        }
      }
      const replay = new ReorgBuffer<bigint>(ref(0n));
      for (const h of history) await replay.applyBlock(h.block, h.writes);
      expect(await s.entries()).toEqual(await replay.entries());
    }
  });
});
