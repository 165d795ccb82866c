// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {MarginAggregator} from "../../src/aggregator/MarginAggregator.sol";
import {AggregatorBase} from "./AggregatorBase.sol";

/// @notice Gas per account of `postAttestations` for batches of 1, 10, 100 and 500 updates of accounts
/// that already hold an attestation (the steady state: every slot is written non-zero → non-zero).
/// setUp attests 500 accounts in its own transaction, so each test starts with cold storage, as a real
/// posting transaction does. Reported per account: execution gas (gasleft delta around the call),
/// calldata bytes of the whole call, and the L2 gas a transaction would be charged
/// (21,000 + 4/16 per zero/non-zero calldata byte + execution). Run with `-vv` to see the log lines;
/// the L1 data fee comes from `npm run gas:report` on the devnet.
/// Target (docs/specs.md S3.13): ≤ 15,000 L2 gas and ≤ 120 calldata bytes per account at 100.
contract AggregatorGasTest is AggregatorBase {
    address internal constant CONSOLE = 0x000000000000000000636F6e736F6c652e6c6f67;
    uint256 internal constant MAX_BATCH = 500;
    uint160 internal constant FIRST_ACCOUNT = uint160(0xa000000000000000000000000000000000001000);

    function setUp() public override {
        super.setUp();
        _post(_records(MAX_BATCH, uint64(block.number)));
        vm.roll(block.number + 10);
    }

    /// @dev Records for accounts 0xa000…1000 onward with realistic, non-zero fields, written into one
    /// allocation (concatenating in a loop would grow this contract's memory quadratically).
    function _records(uint256 n, uint64 blockNumber) internal pure returns (bytes memory recs) {
        recs = new bytes(n * 84);
        for (uint256 i = 0; i < n; i++) {
            uint64 im = uint64(1_000_000e6 + i * 1_234_567);
            bytes memory one = abi.encodePacked(
                address(FIRST_ACCOUNT + uint160(i)),
                im,
                im / 2 + 17,
                int64(-123_456_789) - int64(int256(i)),
                blockNumber,
                keccak256(abi.encode("inputs", i, blockNumber))
            );
            for (uint256 j = 0; j < 84; j++) {
                recs[i * 84 + j] = one[j];
            }
        }
    }

    struct Measured {
        uint256 execGas;
        uint256 calldataBytes;
        uint256 calldataGas;
        uint256 l2GasPerAccount;
        uint256 calldataBytesPerAccount;
    }

    function _measure(uint256 n) internal returns (Measured memory m) {
        bytes memory recs = _records(n, uint64(block.number));
        uint64 ts = uint64(block.timestamp);
        bytes memory sigs = _signSorted(_digest(recs, ts, ts + 600, block.chainid, address(agg)), _twoKeys());
        bytes memory callData =
            abi.encodeCall(MarginAggregator.postAttestations, (PARAMS_HASH, ts, ts + 600, recs, sigs));
        m.calldataBytes = callData.length;
        for (uint256 i = 0; i < callData.length; i++) {
            m.calldataGas += callData[i] == 0 ? 4 : 16;
        }
        uint256 g0 = gasleft();
        (bool ok,) = address(agg).call(callData);
        m.execGas = g0 - gasleft();
        assertTrue(ok, "post succeeded");
        assertEq(uint256(agg.attestationOf(address(FIRST_ACCOUNT)).blockNumber), block.number, "updated");
        m.l2GasPerAccount = (21_000 + m.calldataGas + m.execGas) / n;
        m.calldataBytesPerAccount = (m.calldataBytes + n - 1) / n;
        _log("batch", n);
        _log("  execution gas per account", m.execGas / n);
        _log("  L2 gas per account (incl. 21000 + calldata)", m.l2GasPerAccount);
        _log("  calldata bytes per account", m.calldataBytesPerAccount);
    }

    function _log(string memory key, uint256 value) internal {
        (bool ok,) = CONSOLE.call(abi.encodeWithSignature("log(string,uint256)", key, value));
        ok; // console is a forge-only address; nothing to do if absent
    }

    function test_gas_S3_13_batchOf1() public {
        Measured memory m = _measure(1);
        assertGt(m.l2GasPerAccount, 0, "measured");
    }

    function test_gas_S3_13_batchOf10() public {
        Measured memory m = _measure(10);
        assertGt(m.l2GasPerAccount, 0, "measured");
    }

    function test_gas_S3_13_batchOf100_meetsTarget() public {
        Measured memory m = _measure(100);
        assertTrue(m.l2GasPerAccount <= 15_000, "L2 gas per account <= 15,000 at batch 100");
        assertTrue(m.calldataBytesPerAccount <= 120, "calldata bytes per account <= 120 at batch 100");
    }

    function test_gas_S3_13_batchOf500() public {
        Measured memory m = _measure(500);
        assertTrue(m.l2GasPerAccount <= 15_000, "L2 gas per account <= 15,000 at batch 500");
    }
}
