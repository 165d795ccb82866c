// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title AttestationLib
/// @notice EIP-712 hashing, packed-record decoding and signature checks for margin attestation batches.
/// @dev Why a batch struct with an array of records: m-of-n signatures per account would cost m
/// ecrecovers and 65·m calldata bytes per account; signing one `MarginBatch` spreads that over the whole
/// batch, while the array-of-structs encoding keeps it standard EIP-712 so any `eth_signTypedData_v4`
/// signer (viem's `signTypedData`) produces the signature. Records travel packed (84 bytes) and are
/// re-expanded here only to be hashed. See docs/aggregator.md and docs/specs.md S3.
library AttestationLib {
    /// @notice Bytes per packed record: account 20 | imUsd6 8 | mmUsd6 8 | mtmUsd6 8 | blockNumber 8 | inputsHash 32.
    uint256 internal constant RECORD_BYTES = 84;
    /// @notice Bytes per signature: r 32 | s 32 | v 1. Compact 64-byte signatures are rejected (S3.7).
    uint256 internal constant SIGNATURE_BYTES = 65;

    bytes32 internal constant RECORD_TYPEHASH = keccak256(
        "MarginRecord(address account,uint64 imUsd6,uint64 mmUsd6,int64 mtmUsd6,uint64 blockNumber,bytes32 inputsHash)"
    );
    bytes32 internal constant BATCH_TYPEHASH = keccak256(
        "MarginBatch(bytes32 paramsHash,uint64 timestamp,uint64 deadline,MarginRecord[] records)"
        "MarginRecord(address account,uint64 imUsd6,uint64 mmUsd6,int64 mtmUsd6,uint64 blockNumber,bytes32 inputsHash)"
    );
    bytes32 internal constant DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");
    bytes32 internal constant NAME_HASH = keccak256("netmargin MarginAggregator");
    bytes32 internal constant VERSION_HASH = keccak256("1");

    /// @dev secp256k1n / 2: signatures with a larger `s` are the malleable twin of a low-s one.
    uint256 internal constant HALF_CURVE_ORDER = 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0;

    /// @notice The EIP-712 domain separator for `verifyingContract` on the chain `chainId`.
    function domainSeparator(uint256 chainId, address verifyingContract) internal pure returns (bytes32) {
        return keccak256(abi.encode(DOMAIN_TYPEHASH, NAME_HASH, VERSION_HASH, chainId, verifyingContract));
    }

    /// @notice Reads record `i` from packed calldata. The caller checks the length is a multiple of 84.
    function decode(bytes calldata records, uint256 i)
        internal
        pure
        returns (address account, uint64 imUsd6, uint64 mmUsd6, int64 mtmUsd6, uint64 blockNumber, bytes32 inputsHash)
    {
        assembly ("memory-safe") {
            let p := add(records.offset, mul(i, 84))
            account := shr(96, calldataload(p))
            imUsd6 := shr(192, calldataload(add(p, 20)))
            mmUsd6 := shr(192, calldataload(add(p, 28)))
            mtmUsd6 := signextend(7, shr(192, calldataload(add(p, 36))))
            blockNumber := shr(192, calldataload(add(p, 44)))
            inputsHash := calldataload(add(p, 52))
        }
    }

    /// @notice EIP-712 `hashStruct(MarginRecord)`, computed in scratch memory without allocating.
    function hashRecord(
        address account,
        uint64 imUsd6,
        uint64 mmUsd6,
        int64 mtmUsd6,
        uint64 blockNumber,
        bytes32 inputsHash
    ) internal pure returns (bytes32 h) {
        bytes32 typeHash = RECORD_TYPEHASH;
        assembly ("memory-safe") {
            let m := mload(0x40)
            mstore(m, typeHash)
            mstore(add(m, 0x20), account)
            mstore(add(m, 0x40), imUsd6)
            mstore(add(m, 0x60), mmUsd6)
            mstore(add(m, 0x80), mtmUsd6)
            mstore(add(m, 0xa0), blockNumber)
            mstore(add(m, 0xc0), inputsHash)
            h := keccak256(m, 0xe0)
        }
    }

    /// @notice EIP-712 `hashStruct(MarginBatch)` given the record hashes in order.
    function hashBatch(bytes32 paramsHash, uint64 timestampSec, uint64 deadlineSec, bytes32[] memory recordHashes)
        internal
        pure
        returns (bytes32)
    {
        bytes32 recordsHash;
        assembly ("memory-safe") {
            recordsHash := keccak256(add(recordHashes, 0x20), mul(mload(recordHashes), 0x20))
        }
        return keccak256(abi.encode(BATCH_TYPEHASH, paramsHash, timestampSec, deadlineSec, recordsHash));
    }

    /// @notice The digest the signers sign: `keccak256("\x19\x01" ‖ domainSeparator ‖ structHash)`.
    function typedDataDigest(bytes32 separator, bytes32 structHash) internal pure returns (bytes32 digest) {
        assembly ("memory-safe") {
            let m := mload(0x40)
            mstore(m, hex"1901")
            mstore(add(m, 0x02), separator)
            mstore(add(m, 0x22), structHash)
            digest := keccak256(m, 0x42)
        }
    }

    /// @notice Reads signature `k` and recovers its signer. Returns `(address(0), reason)` on a bad
    /// signature so the caller reverts with its own error: reason 1 = high s, 2 = bad v or no signer.
    function recover(bytes32 digest, bytes calldata signatures, uint256 k)
        internal
        pure
        returns (address signer, uint256 reason)
    {
        bytes32 r;
        bytes32 s;
        uint8 v;
        assembly ("memory-safe") {
            let p := add(signatures.offset, mul(k, 65))
            r := calldataload(p)
            s := calldataload(add(p, 32))
            v := byte(0, calldataload(add(p, 64)))
        }
        if (uint256(s) > HALF_CURVE_ORDER) return (address(0), 1);
        if (v != 27 && v != 28) return (address(0), 2);
        signer = ecrecover(digest, v, r, s);
        if (signer == address(0)) return (address(0), 2);
        return (signer, 0);
    }
}
