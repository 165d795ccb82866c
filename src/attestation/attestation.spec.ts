import { getAddress, hexToBigInt, keccak256, pad, size, slice, toHex, type Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { InvalidInputError, NetmarginError } from '../common/errors';
import {
  buildMarginBatch,
  checkSignatureEncoding,
  collectSignatures,
  marginBatchDigest,
  marginBatchTypedData,
  packRecords,
  postAttestationsArgs,
  RECORD_BYTES,
  SECP256K1_HALF_N,
  type AttestationSigner,
  type MarginBatch,
  type MarginRecord,
} from './index';

// Golden case of contracts/test/aggregator/AttestationGolden.t.sol: the forge test asserts that the
// contract's digest of these records equals VIEM_DIGEST and that VIEM_SIGNATURE recovers to key 0x5151.
const GOLDEN = {
  target: { chainId: 31337, aggregator: getAddress('0x00000000000000000000000000000000000a6617') },
  digest: '0x601af6ced090cc7015d03a4acfca660b875e961962b8618bac33100b89e4b29f' as Hex,
  signature:
    '0x1d3f1d9c5bef29c5da103dacc71dc422be83c69d63d175081e062d8475963a213423c5c2af5517d505ae44894896bb71f80fe9248a10ab21f31fc2560f96f8ec1b' as Hex,
  signerKey: pad('0x5151'),
  batch: {
    paramsHash: keccak256(toHex('pmrm2-params-v1')),
    timestampSec: 1_700_000_000n,
    deadlineSec: 1_700_000_600n,
    records: [
      {
        account: getAddress('0x00000000000000000000000000000000000A11cE'),
        imUsd6: 1_000_000_000n,
        mmUsd6: 600_000_000n,
        mtmUsd6: -25_000_000n,
        blockNumber: 1000n,
        inputsHash: keccak256(toHex('inputs-1')),
      },
      {
        account: getAddress('0x0000000000000000000000000000000000000B0b'),
        imUsd6: 5n,
        mmUsd6: 0n,
        mtmUsd6: (1n << 63n) - 1n,
        blockNumber: 999n,
        inputsHash: keccak256(toHex('inputs-2')),
      },
    ],
  } satisfies MarginBatch,
};
const NOW = GOLDEN.batch.timestampSec;

function withRecord(patch: Partial<Record<keyof MarginRecord, unknown>>): MarginBatch {
  const [first, ...rest] = GOLDEN.batch.records;
  return { ...GOLDEN.batch, records: [{ ...first!, ...patch } as MarginRecord, ...rest] };
}

function expectInvalid(f: () => unknown, field: string, text: RegExp): void {
  let caught: unknown;
  try {
    f();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(InvalidInputError);
  expect((caught as InvalidInputError).field).toBe(field);
  expect((caught as InvalidInputError).message).toMatch(text);
}

describe('EIP-712 digest and packing', () => {
  it('equals the digest the contract computes in the forge golden test', () => {
    const batch = buildMarginBatch(GOLDEN.batch, { nowSec: NOW });
    expect(marginBatchDigest(batch, GOLDEN.target)).toBe(GOLDEN.digest);
  });

  it('changes the digest with the chain id and with the aggregator address', () => {
    const d = marginBatchDigest(GOLDEN.batch, GOLDEN.target);
    expect(marginBatchDigest(GOLDEN.batch, { ...GOLDEN.target, chainId: 901 })).not.toBe(d);
    expect(
      marginBatchDigest(GOLDEN.batch, {
        ...GOLDEN.target,
        aggregator: getAddress(pad('0xa6618', { size: 20 })),
      }),
    ).not.toBe(d);
  });

  it('packs 84 big-endian bytes per record with mtm in two’s complement', () => {
    const packed = packRecords(GOLDEN.batch.records);
    expect(size(packed)).toBe(2 * RECORD_BYTES);
    const r0 = slice(packed, 0, RECORD_BYTES);
    expect(getAddress(slice(r0, 0, 20))).toBe(GOLDEN.batch.records[0]!.account);
    expect(hexToBigInt(slice(r0, 20, 28))).toBe(1_000_000_000n);
    expect(hexToBigInt(slice(r0, 28, 36))).toBe(600_000_000n);
    expect(hexToBigInt(slice(r0, 36, 44))).toBe((1n << 64n) - 25_000_000n);
    expect(hexToBigInt(slice(r0, 44, 52))).toBe(1000n);
    expect(slice(r0, 52, 84)).toBe(keccak256(toHex('inputs-1')));
    const r1 = slice(packed, RECORD_BYTES, 2 * RECORD_BYTES);
    expect(hexToBigInt(slice(r1, 36, 44))).toBe((1n << 63n) - 1n);
  });

  it('puts the packed records and signatures into postAttestations arguments in contract order', () => {
    const args = postAttestationsArgs(GOLDEN.batch, GOLDEN.signature);
    expect(args[0]).toBe(GOLDEN.batch.paramsHash);
    expect(args[1]).toBe(1_700_000_000n);
    expect(args[2]).toBe(1_700_000_600n);
    expect(args[3]).toBe(packRecords(GOLDEN.batch.records));
    expect(args[4]).toBe(GOLDEN.signature);
  });
});

describe('batch validation', () => {
  it('rejects an account that is not checksummed', () => {
    expectInvalid(
      () =>
        buildMarginBatch(withRecord({ account: '0x00000000000000000000000000000000000a11ce' }), {
          nowSec: NOW,
        }),
      'batch.records[0].account',
      /not EIP-55 checksummed/,
    );
  });

  it('rejects amounts outside the packed field widths', () => {
    expectInvalid(
      () => buildMarginBatch(withRecord({ imUsd6: 1n << 64n }), { nowSec: NOW }),
      'batch.records[0].imUsd6',
      /outside/,
    );
    expectInvalid(
      () => buildMarginBatch(withRecord({ mmUsd6: -1n }), { nowSec: NOW }),
      'batch.records[0].mmUsd6',
      /outside/,
    );
    expectInvalid(
      () => buildMarginBatch(withRecord({ mtmUsd6: -(1n << 63n) - 1n }), { nowSec: NOW }),
      'batch.records[0].mtmUsd6',
      /outside/,
    );
    expectInvalid(
      () => buildMarginBatch(withRecord({ blockNumber: 1n << 32n }), { nowSec: NOW }),
      'batch.records[0].blockNumber',
      /outside/,
    );
    expectInvalid(
      () => buildMarginBatch(withRecord({ imUsd6: 5 }), { nowSec: NOW }),
      'batch.records[0].imUsd6',
      /expected a bigint/,
    );
  });

  it('rejects maintenance above initial margin', () => {
    expectInvalid(
      () => buildMarginBatch(withRecord({ mmUsd6: 1_000_000_001n }), { nowSec: NOW }),
      'batch.records[0].mmUsd6',
      /exceeds imUsd6/,
    );
  });

  it('rejects a deadline that is not in the future and a timestamp after now', () => {
    expectInvalid(
      () => buildMarginBatch(GOLDEN.batch, { nowSec: GOLDEN.batch.deadlineSec }),
      'batch.deadlineSec',
      /not in the future/,
    );
    expectInvalid(
      () => buildMarginBatch(GOLDEN.batch, { nowSec: NOW - 1n }),
      'batch.timestampSec',
      /after now/,
    );
  });

  it('rejects an empty batch, a malformed hash and a repeated account', () => {
    expectInvalid(
      () => buildMarginBatch({ ...GOLDEN.batch, records: [] }, { nowSec: NOW }),
      'batch.records',
      /at least one/,
    );
    expectInvalid(
      () => buildMarginBatch(withRecord({ inputsHash: '0x1234' }), { nowSec: NOW }),
      'batch.records[0].inputsHash',
      /32 bytes/,
    );
    const r = GOLDEN.batch.records[0]!;
    expectInvalid(
      () =>
        buildMarginBatch({ ...GOLDEN.batch, records: [r, { ...r, blockNumber: 1001n }] }, { nowSec: NOW }),
      'batch.records[1].account',
      /already appears/,
    );
  });
});

describe('signature collection', () => {
  const keys = [pad('0x5151'), pad('0x7777'), pad('0x0abc'), pad('0x1234')];
  const accounts = keys.map((k) => privateKeyToAccount(k));

  it('reproduces the forge golden signature with a viem local account', async () => {
    const got = await collectSignatures(
      GOLDEN.batch,
      GOLDEN.target,
      [privateKeyToAccount(GOLDEN.signerKey)],
      1,
    );
    expect(got.signatures).toBe(GOLDEN.signature);
  });

  it('returns m signatures from the lowest signer addresses, sorted by address', async () => {
    const got = await collectSignatures(GOLDEN.batch, GOLDEN.target, accounts, 3);
    const sorted = [...accounts.map((a) => a.address)].sort((a, b) =>
      hexToBigInt(a) < hexToBigInt(b) ? -1 : 1,
    );
    expect(got.signers).toEqual(sorted.slice(0, 3));
    expect(size(got.signatures)).toBe(3 * 65);
    for (let i = 0; i < 3; i++) {
      const one = await accounts
        .find((a) => a.address === got.signers[i])!
        .signTypedData(marginBatchTypedData(GOLDEN.batch, GOLDEN.target));
      expect(slice(got.signatures, i * 65, (i + 1) * 65)).toBe(one);
    }
  });

  it('skips a failing signer and reports every failure when too few remain', async () => {
    const broken: AttestationSigner = {
      address: accounts[0]!.address,
      signTypedData: () => Promise.reject(new Error('KMS timeout')),
    };
    const ok = await collectSignatures(GOLDEN.batch, GOLDEN.target, [broken, accounts[1]!, accounts[2]!], 2);
    expect(ok.signers).not.toContain(accounts[0]!.address);
    await expect(collectSignatures(GOLDEN.batch, GOLDEN.target, [broken, accounts[1]!], 2)).rejects.toThrow(
      /Only 1 of 2 required signatures collected[\s\S]*KMS timeout/,
    );
    await expect(
      collectSignatures(GOLDEN.batch, GOLDEN.target, [broken, accounts[1]!], 2),
    ).rejects.toBeInstanceOf(NetmarginError);
  });

  it('rejects a signer whose signature recovers to another address', async () => {
    const liar: AttestationSigner = {
      address: accounts[0]!.address,
      signTypedData: (td) => accounts[1]!.signTypedData(td),
    };
    await expect(collectSignatures(GOLDEN.batch, GOLDEN.target, [liar], 1)).rejects.toThrow(/recovers to/);
  });

  it('rejects the same signer twice', async () => {
    await expect(
      collectSignatures(GOLDEN.batch, GOLDEN.target, [accounts[0]!, accounts[0]!], 2),
    ).rejects.toThrow(/not greater than/);
  });

  it('rejects compact, wrong-v and high-s encodings', () => {
    const sig = GOLDEN.signature;
    expect(() => checkSignatureEncoding(slice(sig, 0, 64), 'sig')).toThrow(/65-byte/);
    expect(() => checkSignatureEncoding(`${slice(sig, 0, 64)}01` as Hex, 'sig')).toThrow(/v is 1/);
    const s = hexToBigInt(slice(sig, 32, 64));
    const highS = toHex(0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n - s, {
      size: 32,
    });
    expect(s <= SECP256K1_HALF_N).toBe(true);
    expect(() => checkSignatureEncoding(`${slice(sig, 0, 32)}${highS.slice(2)}1c` as Hex, 'sig')).toThrow(
      /upper half/,
    );
    expect(checkSignatureEncoding(sig, 'sig')).toBe(sig);
  });
});
