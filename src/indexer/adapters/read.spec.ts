import { createClient, custom, type Hash } from 'viem';
import { NetmarginError } from '../../common/errors';
import { readAtBlock } from './read';

/** A client whose node answers eth_getBlockByNumber with the given hashes, one per call. */
function clientServing(hashes: Hash[]) {
  let i = 0;
  return createClient({
    transport: custom({
      request: async ({ method }: { method: string }) => {
        if (method !== 'eth_getBlockByNumber') throw new Error(`unexpected ${method}`);
        const hash = hashes[Math.min(i++, hashes.length - 1)]!;
        return { hash, number: '0x10', timestamp: '0x5', transactions: [], parentHash: hash };
      },
    }),
  });
}

const H1 = `0x${'11'.repeat(32)}` as Hash;
const H2 = `0x${'22'.repeat(32)}` as Hash;

describe('readAtBlock', () => {
  it('returns the value stamped with the block hash when the block stayed canonical', async () => {
    const got = await readAtBlock(clientServing([H1, H1]), 16n, async () => 'state');
    expect(got).toEqual({ value: 'state', blockHash: H1 });
  });

  it('fails with REORGED_DURING_READ when the block was replaced during the read', async () => {
    const err = await readAtBlock(clientServing([H1, H2]), 16n, async () => 'state').catch((e) => e);
    expect(err).toBeInstanceOf(NetmarginError);
    expect((err as NetmarginError).code).toBe('REORGED_DURING_READ');
    expect((err as NetmarginError).details).toMatchObject({ blockNumber: '16', before: H1, after: H2 });
  });
});
