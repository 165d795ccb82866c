// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AttestationLib} from "../../src/aggregator/libraries/AttestationLib.sol";
import {Test} from "../utils/Test.sol";

/// @notice Exposes AttestationLib's calldata functions to the test.
contract AttestationHarness {
    function digest(
        uint256 chainId,
        address verifyingContract,
        bytes32 paramsHash,
        uint64 timestampSec,
        uint64 deadlineSec,
        bytes calldata records
    ) external pure returns (bytes32) {
        uint256 n = records.length / AttestationLib.RECORD_BYTES;
        bytes32[] memory hashes = new bytes32[](n);
        for (uint256 i = 0; i < n; i++) {
            (address a, uint64 im, uint64 mm, int64 mtm, uint64 blk, bytes32 inputsHash) =
                AttestationLib.decode(records, i);
            hashes[i] = AttestationLib.hashRecord(a, im, mm, mtm, blk, inputsHash);
        }
        return AttestationLib.typedDataDigest(
            AttestationLib.domainSeparator(chainId, verifyingContract),
            AttestationLib.hashBatch(paramsHash, timestampSec, deadlineSec, hashes)
        );
    }

    function recover(bytes32 d, bytes calldata signatures, uint256 k) external pure returns (address, uint256) {
        return AttestationLib.recover(d, signatures, k);
    }
}

/// @notice S3.3: the contract's EIP-712 hashing equals what viem's `hashTypedData` / `signTypedData`
/// produce for the documented types (docs/aggregator.md), so an off-chain signer using viem is accepted.
/// The golden values were produced with viem 2.57.1:
///
///   const domain = { name: 'netmargin MarginAggregator', version: '1', chainId: 31337,
///                    verifyingContract: '0x00000000000000000000000000000000000a6617' };
///   // types: MarginBatch / MarginRecord exactly as in docs/aggregator.md
///   const records = [
///     { account: '0x00000000000000000000000000000000000A11cE', imUsd6: 1000000000n, mmUsd6: 600000000n,
///       mtmUsd6: -25000000n, blockNumber: 1000n, inputsHash: keccak256(toHex('inputs-1')) },
///     { account: '0x0000000000000000000000000000000000000B0b', imUsd6: 5n, mmUsd6: 0n,
///       mtmUsd6: 9223372036854775807n, blockNumber: 999n, inputsHash: keccak256(toHex('inputs-2')) } ];
///   const message = { paramsHash: keccak256(toHex('pmrm2-params-v1')), timestamp: 1700000000n,
///                     deadline: 1700000600n, records };
///   hashTypedData({ domain, types, primaryType: 'MarginBatch', message });
///   privateKeyToAccount(pad('0x5151')).signTypedData({ domain, types, primaryType: 'MarginBatch', message });
contract AttestationGoldenTest is Test {
    bytes32 internal constant VIEM_DIGEST = 0x601af6ced090cc7015d03a4acfca660b875e961962b8618bac33100b89e4b29f;
    bytes internal constant VIEM_SIGNATURE =
        hex"1d3f1d9c5bef29c5da103dacc71dc422be83c69d63d175081e062d8475963a213423c5c2af5517d505ae44894896bb71f80fe9248a10ab21f31fc2560f96f8ec1b";

    AttestationHarness internal harness = new AttestationHarness();

    function _records() internal pure returns (bytes memory) {
        return abi.encodePacked(
            address(0xA11cE),
            uint64(1_000_000_000),
            uint64(600_000_000),
            int64(-25_000_000),
            uint64(1000),
            keccak256("inputs-1"),
            address(0xB0b),
            uint64(5),
            uint64(0),
            type(int64).max,
            uint64(999),
            keccak256("inputs-2")
        );
    }

    function test_S3_3_digestEqualsViemHashTypedData() public view {
        bytes32 d = harness.digest(
            31337, address(0xa6617), keccak256("pmrm2-params-v1"), 1_700_000_000, 1_700_000_600, _records()
        );
        assertEq(d, VIEM_DIGEST, "EIP-712 digest differs from viem's");
    }

    function test_S3_7_viemSignatureRecoversToSigner() public view {
        (address signer, uint256 reason) = harness.recover(VIEM_DIGEST, VIEM_SIGNATURE, 0);
        assertEq(reason, 0, "accepted as a 65-byte low-s signature");
        assertEq(signer, vm.addr(0x5151), "recovers the viem account");
    }
}
