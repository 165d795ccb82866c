import { encodeFunctionData, size, zeroHash } from 'viem';
import { RECORD_BYTES, SIGNATURE_BYTES } from '../../attestation';
import { marginAggregatorAbi } from '../../contracts/generated';
import {
  batchDecision,
  bumped,
  feePerAccountWei,
  isStuck,
  materialChange,
  maxBatchRecords,
  nextNonce,
  postCalldataBytes,
  recoveryDecision,
  replacementFees,
  selectRecord,
  type MaterialityRule,
  type PostedRecord,
} from './policy';

const USD = 1_000_000n;
const RULE: MaterialityRule = { minAbsUsd6: 1n * USD, minRelBps: 50n, maxAgeSec: 600n };
const POSTED: PostedRecord = {
  blockNumber: 100n,
  imUsd6: 1_000n * USD,
  mmUsd6: 600n * USD,
  mtmUsd6: -50n * USD,
  health: 'healthy',
  timestampSec: 10_000n,
};
const next = (patch: Partial<PostedRecord> & { health?: PostedRecord['health'] } = {}) => {
  const { health, ...rest } = patch;
  return {
    blockNumber: 101n,
    imUsd6: POSTED.imUsd6,
    mmUsd6: POSTED.mmUsd6,
    mtmUsd6: POSTED.mtmUsd6,
    health: health ?? 'healthy',
    ...rest,
  } as const;
};

describe('selection and materiality', () => {
  it('posts a first attestation urgently', () => {
    expect(selectRecord(next(), undefined, RULE, 10_001n)).toEqual({
      post: true,
      reason: 'first',
      urgent: true,
    });
  });

  it('never posts a block that is not newer than the posted one', () => {
    expect(selectRecord(next({ blockNumber: 100n, imUsd6: 5_000n * USD }), POSTED, RULE, 99_999n)).toEqual({
      post: false,
      why: 'already-posted',
    });
    expect(selectRecord(next({ blockNumber: 99n, health: 'liquidatable' }), POSTED, RULE, 10_001n)).toEqual({
      post: false,
      why: 'already-posted',
    });
  });

  it('posts a health-class change urgently even when the amounts barely move', () => {
    expect(selectRecord(next({ health: 'warning' }), POSTED, RULE, 10_001n)).toEqual({
      post: true,
      reason: 'health',
      urgent: true,
    });
  });

  it('treats a change as material only above both the absolute floor and the relative share', () => {
    // 0.5 % of 1,000 USD = 5 USD: 4.99 USD is not enough, 5 USD is.
    expect(materialChange(1_000n * USD, 1_004_990_000n, RULE)).toBe(false);
    expect(materialChange(1_000n * USD, 1_005n * USD, RULE)).toBe(true);
    expect(materialChange(1_000n * USD, 995n * USD, RULE)).toBe(true);
    // From 10 USD, 0.5 % is 0.05 USD, but the absolute floor is 1 USD.
    expect(materialChange(10n * USD, 10_900_000n, RULE)).toBe(false);
    expect(materialChange(10n * USD, 11n * USD, RULE)).toBe(true);
    // From zero any change above the floor is material.
    expect(materialChange(0n, 2n * USD, RULE)).toBe(true);
    expect(materialChange(7n, 7n, RULE)).toBe(false);
  });

  it('names the amount that moved: IM, then MM, then MTM', () => {
    expect(selectRecord(next({ imUsd6: 1_100n * USD }), POSTED, RULE, 10_001n)).toMatchObject({
      reason: 'im',
    });
    expect(selectRecord(next({ mmUsd6: 700n * USD }), POSTED, RULE, 10_001n)).toMatchObject({ reason: 'mm' });
    expect(selectRecord(next({ mtmUsd6: -80n * USD }), POSTED, RULE, 10_001n)).toMatchObject({
      reason: 'mtm',
      urgent: false,
    });
  });

  it('skips an immaterial change until the attestation reaches the age threshold', () => {
    const small = next({ imUsd6: POSTED.imUsd6 + USD / 2n });
    expect(selectRecord(small, POSTED, RULE, 10_599n)).toEqual({ post: false, why: 'not-material' });
    expect(selectRecord(small, POSTED, RULE, 10_600n)).toEqual({ post: true, reason: 'age', urgent: false });
  });
});

describe('batch sizing', () => {
  it('counts the postAttestations calldata word by word', () => {
    // 4 + 5 heads + 2 lengths + 84 bytes padded to 96 + 130 padded to 160.
    expect(postCalldataBytes(1, 2)).toBe(4 + 7 * 32 + 96 + 160);
    expect(postCalldataBytes(100, 2) - postCalldataBytes(99, 2)).toBeGreaterThanOrEqual(RECORD_BYTES - 32);
    expect(postCalldataBytes(0, 3)).toBe(4 + 7 * 32 + 0 + 7 * 32);
  });

  it('matches the ABI encoding of postAttestations', () => {
    for (const [n, m] of [
      [1, 1],
      [3, 2],
      [100, 2],
      [17, 5],
    ] as const) {
      const data = encodeFunctionData({
        abi: marginAggregatorAbi,
        functionName: 'postAttestations',
        args: [
          zeroHash,
          1n,
          2n,
          `0x${'ab'.repeat(n * RECORD_BYTES)}`,
          `0x${'cd'.repeat(m * SIGNATURE_BYTES)}`,
        ],
      });
      expect(size(data)).toBe(postCalldataBytes(n, m));
    }
  });

  it('takes the largest batch whose calldata stays under the limit', () => {
    const limit = postCalldataBytes(40, 2);
    expect(maxBatchRecords({ maxRecords: 500, maxCalldataBytes: limit, signatures: 2 })).toBe(40);
    expect(maxBatchRecords({ maxRecords: 500, maxCalldataBytes: limit - 1, signatures: 2 })).toBe(39);
    expect(maxBatchRecords({ maxRecords: 25, maxCalldataBytes: limit, signatures: 2 })).toBe(25);
    // Never below one record: a single record always goes.
    expect(maxBatchRecords({ maxRecords: 500, maxCalldataBytes: 10, signatures: 2 })).toBe(1);
  });

  it('divides the L1 and L2 fees by the records, rounding up', () => {
    expect(feePerAccountWei({ l1FeeWei: 1_000n, l2Gas: 100n, maxFeePerGasWei: 3n }, 4)).toBe(325n);
    expect(feePerAccountWei({ l1FeeWei: 1_001n, l2Gas: 0n, maxFeePerGasWei: 3n }, 2)).toBe(501n);
  });

  it('holds a batch over the fee cap unless it is full, urgent or has waited long enough', () => {
    const base = {
      perAccountWei: 200n,
      capWei: 100n,
      records: 10,
      maxRecords: 50,
      urgent: false,
      oldestWaitMs: 1_000,
      maxHoldMs: 5_000,
    };
    expect(batchDecision({ ...base, perAccountWei: 100n })).toEqual({ go: true, overCap: false });
    expect(batchDecision(base)).toEqual({ go: false });
    expect(batchDecision({ ...base, records: 50 })).toEqual({ go: true, overCap: true });
    expect(batchDecision({ ...base, urgent: true })).toEqual({ go: true, overCap: true });
    expect(batchDecision({ ...base, oldestWaitMs: 5_000 })).toEqual({ go: true, overCap: true });
  });
});

describe('replacement fees', () => {
  it('raises a fee by 12.5 % rounded up, and by at least 1 wei', () => {
    expect(bumped(1_000_000_000n)).toBe(1_125_000_000n);
    expect(bumped(1_000_000_001n)).toBe(1_125_000_002n);
    expect(bumped(0n)).toBe(1n);
    expect(bumped(1n)).toBe(2n);
  });

  it('keeps both fees at least 12.5 % above the stuck ones and follows a higher network fee', () => {
    const stuck = { maxFeePerGas: 2_000n, maxPriorityFeePerGas: 1_000n };
    expect(replacementFees(stuck, { maxFeePerGas: 100n, maxPriorityFeePerGas: 1n })).toEqual({
      maxFeePerGas: 2_250n,
      maxPriorityFeePerGas: 1_125n,
    });
    expect(replacementFees(stuck, { maxFeePerGas: 9_000n, maxPriorityFeePerGas: 4_000n })).toEqual({
      maxFeePerGas: 9_000n,
      maxPriorityFeePerGas: 4_000n,
    });
    // The priority fee never exceeds the max fee.
    const r = replacementFees(
      { maxFeePerGas: 10n, maxPriorityFeePerGas: 10n },
      { maxFeePerGas: 1n, maxPriorityFeePerGas: 50n },
    );
    expect(r.maxFeePerGas).toBeGreaterThanOrEqual(r.maxPriorityFeePerGas);
    expect(r).toEqual({ maxFeePerGas: 50n, maxPriorityFeePerGas: 50n });
  });

  it('calls a transaction stuck after N blocks or T ms, whichever comes first', () => {
    const base = {
      sentAtBlock: 10n,
      headBlock: 11n,
      sentAtMs: 0,
      nowMs: 1_000,
      stuckBlocks: 3n,
      stuckMs: 5_000,
    };
    expect(isStuck(base)).toBe(false);
    expect(isStuck({ ...base, headBlock: 13n })).toBe(true);
    expect(isStuck({ ...base, nowMs: 5_000 })).toBe(true);
  });
});

describe('journal recovery decisions', () => {
  const open = { mined: null, minedNonce: 7, nonce: 7, hasSignedTx: true } as const;

  it('marks a batch whose transaction mined as posted, and frees one that reverted', () => {
    expect(recoveryDecision({ ...open, mined: 'success', minedNonce: 8 })).toBe('posted');
    expect(recoveryDecision({ ...open, mined: 'reverted', minedNonce: 8 })).toBe('release');
  });

  it('re-broadcasts a batch whose nonce is still open', () => {
    expect(recoveryDecision(open)).toBe('rebroadcast');
  });

  it('frees a batch whose nonce another transaction took, or that never got a signed transaction', () => {
    expect(recoveryDecision({ ...open, minedNonce: 8 })).toBe('release');
    expect(recoveryDecision({ ...open, hasSignedTx: false })).toBe('release');
  });

  it('continues after the chain pending count or past a journaled nonce the node does not hold yet', () => {
    expect(nextNonce(5, [])).toBe(5);
    expect(nextNonce(5, [5])).toBe(6);
    expect(nextNonce(5, [3])).toBe(5);
  });
});
