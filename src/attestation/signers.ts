/**
 * Collecting the m-of-n signatures of a batch.
 *
 * `AttestationSigner` is the one thing the poster needs from a key: its address and EIP-712 signing.
 * A viem local account (`privateKeyToAccount`) implements it as is; a KMS-backed signer can implement it
 * later without touching the poster. Every signature is checked here before it is posted (65 bytes,
 * `v` 27/28, low `s`, recovers to the signer's address), because the contract rejects the whole batch
 * for one bad signature and a remote signer's mistakes should fail loudly and early, naming the signer.
 *
 * The contract wants signatures ordered by strictly increasing signer address (that is how it rejects
 * duplicates without a set), so they are sorted here.
 */
import {
  concat,
  getAddress,
  hexToBigInt,
  recoverTypedDataAddress,
  size,
  slice,
  type Address,
  type Hex,
} from 'viem';
import { InvalidInputError, NetmarginError } from '../common/errors';
import {
  marginBatchTypedData,
  type AggregatorTarget,
  type MarginBatch,
  type MarginBatchTypedData,
} from './batch';

/** secp256k1 n / 2: a signature with a larger `s` is the malleable twin and is rejected on chain. */
export const SECP256K1_HALF_N = 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0n;

export interface AttestationSigner {
  readonly address: Address;
  signTypedData(typedData: MarginBatchTypedData): Promise<Hex>;
}

export interface CollectedSignatures {
  /** Concatenated 65-byte signatures, ordered by signer address: the `signatures` calldata. */
  signatures: Hex;
  /** Who signed, in the same order. */
  signers: Address[];
}

/** Signer addresses must be strictly increasing as numbers (which also excludes duplicates). */
export function assertSignersIncreasing(addresses: readonly Address[], field = 'signers'): void {
  for (let i = 1; i < addresses.length; i++) {
    const prev = addresses[i - 1]!;
    const next = addresses[i]!;
    if (hexToBigInt(next) <= hexToBigInt(prev)) {
      throw new InvalidInputError(
        `${field}[${i}]`,
        `${next} is not greater than ${field}[${i - 1}] ${prev}`,
        {
          hint: 'Order signatures by increasing signer address, each signer once (the contract checks this).',
        },
      );
    }
  }
}

/** Checks the encoding the contract accepts; returns the signature unchanged. */
export function checkSignatureEncoding(signature: Hex, field: string): Hex {
  if (size(signature) !== 65) {
    throw new InvalidInputError(field, `expected a 65-byte r‖s‖v signature, got ${size(signature)} bytes`, {
      hint: 'Expand 64-byte compact (EIP-2098) signatures to r‖s‖v; the contract rejects compact ones.',
    });
  }
  const s = hexToBigInt(slice(signature, 32, 64));
  const v = hexToBigInt(slice(signature, 64, 65));
  if (v !== 27n && v !== 28n) {
    throw new InvalidInputError(field, `v is ${v}, expected 27 or 28`, {
      hint: 'Encode the recovery id as v = 27 + yParity.',
    });
  }
  if (s > SECP256K1_HALF_N) {
    throw new InvalidInputError(field, 's is in the upper half of the curve order', {
      hint: 'Normalise to low-s (s → n − s, flip v); the contract rejects high-s signatures.',
    });
  }
  return signature;
}

/**
 * Signs `batch` with the given signers and returns `threshold` signatures from the lowest addresses that
 * succeeded, sorted by address. A signer that throws is skipped; if fewer than `threshold` succeed the
 * error lists each failure.
 */
export async function collectSignatures(
  batch: MarginBatch,
  target: AggregatorTarget,
  signers: readonly AttestationSigner[],
  threshold: number,
): Promise<CollectedSignatures> {
  if (!Number.isInteger(threshold) || threshold < 1) {
    throw new InvalidInputError('threshold', `expected an integer ≥ 1, got ${threshold}`, {
      hint: "Pass the aggregator's `threshold()` (the manifest's aggregator.threshold on the devnet).",
    });
  }
  if (signers.length < threshold) {
    throw new InvalidInputError('signers', `${signers.length} signer(s) given, threshold is ${threshold}`, {
      hint: 'Configure at least `threshold` attestation signers.',
    });
  }
  const ordered = [...signers].sort((a, b) => {
    const x = hexToBigInt(a.address);
    const y = hexToBigInt(b.address);
    return x < y ? -1 : x > y ? 1 : 0;
  });
  assertSignersIncreasing(
    ordered.map((s) => getAddress(s.address)),
    'signers (sorted)',
  );

  const typedData = marginBatchTypedData(batch, target);
  const results = await Promise.allSettled(
    ordered.map(async (signer) => {
      const field = `signature of ${signer.address}`;
      const sig = checkSignatureEncoding(await signer.signTypedData(typedData), field);
      const recovered = await recoverTypedDataAddress({ ...typedData, signature: sig });
      if (getAddress(recovered) !== getAddress(signer.address)) {
        throw new InvalidInputError(field, `recovers to ${recovered}, not to the signer`, {
          hint: 'The signer signed different data or reports the wrong address; check its key and domain.',
        });
      }
      return sig;
    }),
  );

  const signatures: Hex[] = [];
  const used: Address[] = [];
  const failures: { signer: Address; reason: string }[] = [];
  results.forEach((r, i) => {
    const signer = getAddress(ordered[i]!.address);
    if (r.status === 'fulfilled') {
      if (signatures.length < threshold) {
        signatures.push(r.value);
        used.push(signer);
      }
    } else {
      failures.push({ signer, reason: r.reason instanceof Error ? r.reason.message : String(r.reason) });
    }
  });
  if (signatures.length < threshold) {
    throw new NetmarginError(`Only ${signatures.length} of ${threshold} required signatures collected`, {
      code: 'NOT_ENOUGH_SIGNATURES',
      hint: failures.map((f) => `${f.signer}: ${f.reason}`).join('; '),
      details: { failures },
    });
  }
  return { signatures: concat(signatures), signers: used };
}
