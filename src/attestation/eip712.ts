/**
 * The EIP-712 domain and types of `MarginAggregator` attestations, as constants.
 *
 * These must match `contracts/src/aggregator/libraries/AttestationLib.sol` byte for byte: the contract
 * hashes the packed records itself and recovers the signers from that digest, so any drift here makes
 * every batch recover to unknown addresses. `attestation.spec.ts` pins them to the forge golden test
 * (`contracts/test/aggregator/AttestationGolden.t.sol`); the devnet end-to-end test pins them to the
 * deployed contract's `domainSeparator()` and the digest it emits in `BatchPosted`.
 */
import type { Address, TypedDataDomain } from 'viem';

export const AGGREGATOR_EIP712_NAME = 'netmargin MarginAggregator';
export const AGGREGATOR_EIP712_VERSION = '1';

/** One packed record in `postAttestations(…, bytes records, …)`: 20 + 8 + 8 + 8 + 8 + 32 bytes. */
export const RECORD_BYTES = 84;
/** One `r ‖ s ‖ v` signature; the contract rejects 64-byte compact (EIP-2098) signatures. */
export const SIGNATURE_BYTES = 65;

/** EIP-712 types; the order of fields is part of the type hash. */
export const MARGIN_BATCH_TYPES = {
  MarginBatch: [
    { name: 'paramsHash', type: 'bytes32' },
    { name: 'timestamp', type: 'uint64' },
    { name: 'deadline', type: 'uint64' },
    { name: 'records', type: 'MarginRecord[]' },
  ],
  MarginRecord: [
    { name: 'account', type: 'address' },
    { name: 'imUsd6', type: 'uint64' },
    { name: 'mmUsd6', type: 'uint64' },
    { name: 'mtmUsd6', type: 'int64' },
    { name: 'blockNumber', type: 'uint64' },
    { name: 'inputsHash', type: 'bytes32' },
  ],
} as const;

export const MARGIN_BATCH_PRIMARY_TYPE = 'MarginBatch' as const;

/** The domain of one aggregator deployment. `chainId` must be the live chain's id. */
export function aggregatorDomain(chainId: number, verifyingContract: Address): TypedDataDomain {
  return {
    name: AGGREGATOR_EIP712_NAME,
    version: AGGREGATOR_EIP712_VERSION,
    chainId,
    verifyingContract,
  };
}
