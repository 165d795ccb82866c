// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {MockV3Aggregator} from "@chainlink/contracts/src/v0.8/tests/MockV3Aggregator.sol";
import {AggregatorV3Interface} from "@chainlink/contracts/src/v0.8/shared/interfaces/AggregatorV3Interface.sol";

import {MarginAggregator} from "../../src/aggregator/MarginAggregator.sol";
import {IMarginAggregator} from "../../src/aggregator/interfaces/IMarginAggregator.sol";
import {MockERC20} from "../utils/MockERC20.sol";
import {Test} from "../utils/Test.sol";

/// @notice Stand-in for the Aave V3 pool: only the liquidity index the aggregator reads. Forge tests use
/// it instead of a full Aave deployment; the devnet end-to-end test runs against the real pool.
contract MockAavePool {
    uint256 internal constant RAY = 1e27;
    mapping(address asset => uint256) internal _indexRay;

    function setIndex(address asset, uint256 indexRay) external {
        _indexRay[asset] = indexRay;
    }

    function getReserveNormalizedIncome(address asset) external view returns (uint256) {
        uint256 i = _indexRay[asset];
        return i == 0 ? RAY : i;
    }
}

/// @notice An aToken with Aave's accounting: scaled balances, `balanceOf = scaled ⋅ index` and transfers
/// that move `amount / index` scaled units, both rounded half-up as Aave's WadRayMath does.
contract MockAToken {
    uint256 internal constant RAY = 1e27;
    MockAavePool public immutable pool;
    address public immutable underlying;
    uint8 public immutable decimals;
    mapping(address => uint256) public scaledBalanceOf;
    mapping(address => mapping(address => uint256)) public allowance;

    constructor(MockAavePool pool_, address underlying_, uint8 decimals_) {
        pool = pool_;
        underlying = underlying_;
        decimals = decimals_;
    }

    function _index() internal view returns (uint256) {
        return pool.getReserveNormalizedIncome(underlying);
    }

    function balanceOf(address user) external view returns (uint256) {
        return (scaledBalanceOf[user] * _index() + RAY / 2) / RAY;
    }

    function mint(address to, uint256 amount) external {
        uint256 i = _index();
        scaledBalanceOf[to] += (amount * RAY + i / 2) / i;
    }

    function approve(address spender, uint256 amount) external returns (bool) {
        allowance[msg.sender][spender] = amount;
        return true;
    }

    function transfer(address to, uint256 amount) external returns (bool) {
        _move(msg.sender, to, amount);
        return true;
    }

    function transferFrom(address from, address to, uint256 amount) external returns (bool) {
        uint256 allowed = allowance[from][msg.sender];
        if (allowed != type(uint256).max) allowance[from][msg.sender] = allowed - amount;
        _move(from, to, amount);
        return true;
    }

    function _move(address from, address to, uint256 amount) internal {
        uint256 i = _index();
        uint256 scaled = (amount * RAY + i / 2) / i;
        scaledBalanceOf[from] -= scaled;
        scaledBalanceOf[to] += scaled;
    }
}

/// @notice A bare ERC-20 whose transfers are virtual, for the misbehaving tokens below.
abstract contract TestToken {
    uint8 public constant decimals = 18;
    uint256 public totalSupply;
    mapping(address => uint256) public balanceOf;
    mapping(address => mapping(address => uint256)) public allowance;

    function mint(address to, uint256 amount) external {
        totalSupply += amount;
        balanceOf[to] += amount;
    }

    function approve(address spender, uint256 amount) external returns (bool) {
        allowance[msg.sender][spender] = amount;
        return true;
    }

    function transfer(address to, uint256 amount) external virtual returns (bool) {
        _move(msg.sender, to, amount);
        return true;
    }

    function transferFrom(address from, address to, uint256 amount) external virtual returns (bool) {
        uint256 allowed = allowance[from][msg.sender];
        if (allowed != type(uint256).max) allowance[from][msg.sender] = allowed - amount;
        _move(from, to, amount);
        return true;
    }

    function _move(address from, address to, uint256 amount) internal virtual {
        balanceOf[from] -= amount;
        balanceOf[to] += amount;
    }
}

/// @notice Burns `feeBps` of every transfer, like fee-on-transfer tokens do.
contract FeeOnTransferToken is TestToken {
    uint256 public immutable feeBps;

    constructor(uint256 feeBps_) {
        feeBps = feeBps_;
    }

    function _move(address from, address to, uint256 amount) internal override {
        uint256 fee = (amount * feeBps) / 10_000;
        balanceOf[from] -= amount;
        balanceOf[to] += amount - fee;
        totalSupply -= fee;
    }
}

/// @notice Calls back into the aggregator from inside `transferFrom` / `transfer` when armed, and
/// records whether the re-entrant call was rejected with `Reentrancy()`.
contract ReentrantToken is TestToken {
    address public target;
    bytes public callData;
    bool public reentered;
    bool public reentryRejected;
    bytes public reentryReturn;

    function arm(address target_, bytes calldata callData_) external {
        target = target_;
        callData = callData_;
        reentered = false;
    }

    function _move(address from, address to, uint256 amount) internal override {
        if (target != address(0) && !reentered) {
            reentered = true;
            (bool ok, bytes memory ret) = target.call(callData);
            reentryReturn = ret;
            reentryRejected = !ok && ret.length == 4 && bytes4(ret) == bytes4(keccak256("Reentrancy()"));
        }
        balanceOf[from] -= amount;
        balanceOf[to] += amount;
    }
}

/// @notice Shared fixture: an aggregator with USDC (settlement, 6 decimals), WETH (18), WBTC (8) and an
/// aToken on USDC, Chainlink mock feeds, a sequencer uptime feed, three signers with threshold 2, and
/// helpers that build packed records and sign batches exactly as an off-chain signer would.
abstract contract AggregatorBase is Test {
    uint256 internal constant T0 = 1_700_000_000;
    uint256 internal constant RAY = 1e27;
    uint256 internal constant HEARTBEAT = 1 days;
    uint32 internal constant MAX_AGE = 1 hours;
    uint32 internal constant GRACE = 1 hours;

    // Written out here rather than read from the library, so a wrong type string in the contract fails.
    bytes32 internal constant RECORD_TYPEHASH = keccak256(
        "MarginRecord(address account,uint64 imUsd6,uint64 mmUsd6,int64 mtmUsd6,uint64 blockNumber,bytes32 inputsHash)"
    );
    bytes32 internal constant BATCH_TYPEHASH = keccak256(
        "MarginBatch(bytes32 paramsHash,uint64 timestamp,uint64 deadline,MarginRecord[] records)MarginRecord(address account,uint64 imUsd6,uint64 mmUsd6,int64 mtmUsd6,uint64 blockNumber,bytes32 inputsHash)"
    );
    bytes32 internal constant PARAMS_HASH = keccak256("pmrm2-params-v1");
    uint256 internal constant SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141;

    MarginAggregator internal agg;
    MockERC20 internal usdc;
    MockERC20 internal weth;
    MockERC20 internal wbtc;
    MockAavePool internal aavePool;
    MockAToken internal aUsdc;
    MockV3Aggregator internal usdcFeed;
    MockV3Aggregator internal ethFeed;
    MockV3Aggregator internal btcFeed;
    MockV3Aggregator internal sequencer;

    address internal guardian = address(0x6A4D);
    address internal alice = address(0xA11CE);
    address internal bob = address(0xB0B);
    address internal liquidator = address(0x11D);

    uint256[3] internal signerKeys = [uint256(0x5151), uint256(0x5252), uint256(0x5353)];
    address[3] internal signerAddrs;

    function setUp() public virtual {
        vm.warp(T0);
        vm.roll(1_000);
        usdc = new MockERC20("USD Coin", "USDC", 6);
        weth = new MockERC20("Wrapped Ether", "WETH", 18);
        wbtc = new MockERC20("Wrapped BTC", "WBTC", 8);
        aavePool = new MockAavePool();
        aUsdc = new MockAToken(aavePool, address(usdc), 6);
        usdcFeed = new MockV3Aggregator(8, 1e8);
        ethFeed = new MockV3Aggregator(8, 2_000e8);
        btcFeed = new MockV3Aggregator(8, 60_000e8);
        sequencer = new MockV3Aggregator(0, 0);
        sequencer.updateRoundData(1, 0, T0 - 2 days, T0 - 2 days); // up for two days

        address[] memory signers = new address[](3);
        for (uint256 i = 0; i < 3; i++) {
            signerAddrs[i] = vm.addr(signerKeys[i]);
            signers[i] = signerAddrs[i];
        }
        agg = new MarginAggregator(address(this), address(usdc), signers, 2, MAX_AGE);
        agg.configureAsset(address(usdc), _config(usdcFeed, 0, 0.9e8, 1.1e8, false));
        agg.configureAsset(address(weth), _config(ethFeed, 2_000, 100e8, 100_000e8, false));
        agg.configureAsset(address(wbtc), _config(btcFeed, 1_500, 1_000e8, 1_000_000e8, false));
        agg.configureAsset(address(aUsdc), _config(usdcFeed, 1_000, 0.9e8, 1.1e8, true));
        agg.setRiskParams(MAX_AGE, AggregatorV3Interface(address(sequencer)), GRACE);
        agg.setGuardian(guardian);
    }

    function _config(MockV3Aggregator feed, uint16 haircutBps, int256 minAnswer, int256 maxAnswer, bool isAToken)
        internal
        view
        returns (IMarginAggregator.AssetConfig memory c)
    {
        c.feed = AggregatorV3Interface(address(feed));
        c.heartbeatSec = uint32(HEARTBEAT);
        c.haircutBps = haircutBps;
        c.minAnswer = minAnswer;
        c.maxAnswer = maxAnswer;
        c.supplyCap = type(uint128).max;
        c.isAToken = isAToken;
        if (isAToken) {
            c.aavePool = address(aavePool);
            c.underlying = address(usdc);
        }
    }

    // ------------------------------------------------------------ collateral helpers

    function _deposit(address account, MockERC20 token, uint256 amount) internal {
        token.mint(account, amount);
        vm.startPrank(account);
        token.approve(address(agg), amount);
        agg.deposit(account, address(token), amount);
        vm.stopPrank();
    }

    // ------------------------------------------------------------ attestation helpers

    function _record(address account, uint64 imUsd6, uint64 mmUsd6, int64 mtmUsd6, uint64 blockNumber)
        internal
        pure
        returns (bytes memory)
    {
        return abi.encodePacked(
            account, imUsd6, mmUsd6, mtmUsd6, blockNumber, keccak256(abi.encode(account, blockNumber))
        );
    }

    /// @dev EIP-712 digest computed from the packed records independently of AttestationLib.
    function _digest(
        bytes memory records,
        uint64 timestampSec,
        uint64 deadlineSec,
        uint256 chainId,
        address verifyingContract
    ) internal pure returns (bytes32) {
        uint256 n = records.length / 84;
        bytes32[] memory hashes = new bytes32[](n);
        for (uint256 i = 0; i < n; i++) {
            hashes[i] = _hashPackedRecord(records, i * 84);
        }
        bytes32 structHash = keccak256(
            abi.encode(BATCH_TYPEHASH, PARAMS_HASH, timestampSec, deadlineSec, keccak256(abi.encodePacked(hashes)))
        );
        bytes32 domain = keccak256(
            abi.encode(
                keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"),
                keccak256("netmargin MarginAggregator"),
                keccak256("1"),
                chainId,
                verifyingContract
            )
        );
        return keccak256(abi.encodePacked("\x19\x01", domain, structHash));
    }

    function _hashPackedRecord(bytes memory records, uint256 off) internal pure returns (bytes32) {
        address account;
        uint64 im;
        uint64 mm;
        int64 mtm;
        uint64 blk;
        bytes32 inputsHash;
        assembly {
            let p := add(add(records, 0x20), off)
            account := shr(96, mload(p))
            im := shr(192, mload(add(p, 20)))
            mm := shr(192, mload(add(p, 28)))
            mtm := signextend(7, shr(192, mload(add(p, 36))))
            blk := shr(192, mload(add(p, 44)))
            inputsHash := mload(add(p, 52))
        }
        return keccak256(abi.encode(RECORD_TYPEHASH, account, im, mm, mtm, blk, inputsHash));
    }

    /// @dev Signs with the given keys, ordered by signer address as the contract requires.
    function _signSorted(bytes32 digest, uint256[] memory keys) internal pure returns (bytes memory sigs) {
        for (uint256 i = 0; i < keys.length; i++) {
            for (uint256 j = i + 1; j < keys.length; j++) {
                if (vm.addr(keys[j]) < vm.addr(keys[i])) (keys[i], keys[j]) = (keys[j], keys[i]);
            }
        }
        for (uint256 i = 0; i < keys.length; i++) {
            (uint8 v, bytes32 r, bytes32 s) = vm.sign(keys[i], digest);
            sigs = abi.encodePacked(sigs, r, s, v);
        }
    }

    function _twoKeys() internal view returns (uint256[] memory keys) {
        keys = new uint256[](2);
        keys[0] = signerKeys[0];
        keys[1] = signerKeys[1];
    }

    /// @dev Posts `records` signed by two signers for this chain and aggregator, timestamped now.
    function _post(bytes memory records) internal returns (uint256 accepted) {
        uint64 ts = uint64(block.timestamp);
        uint64 deadline = ts + 600;
        bytes memory sigs = _signSorted(_digest(records, ts, deadline, block.chainid, address(agg)), _twoKeys());
        return agg.postAttestations(PARAMS_HASH, ts, deadline, records, sigs);
    }

    function _attest(address account, uint64 imUsd6, uint64 mmUsd6, int64 mtmUsd6) internal {
        _post(_record(account, imUsd6, mmUsd6, mtmUsd6, uint64(block.number)));
    }

    /// @dev Advances time and block, re-publishing every feed's price so nothing goes stale.
    function _advance(uint256 secondsForward) internal {
        vm.warp(block.timestamp + secondsForward);
        vm.roll(block.number + 1 + secondsForward / 2);
        (, int256 u,,,) = usdcFeed.latestRoundData();
        usdcFeed.updateAnswer(u);
        (, int256 e,,,) = ethFeed.latestRoundData();
        ethFeed.updateAnswer(e);
        (, int256 b,,,) = btcFeed.latestRoundData();
        btcFeed.updateAnswer(b);
    }

    function _netMargin(address account) internal view returns (int256) {
        (,, uint256 collateralUsd6,,,) = agg.marginOf(account);
        return int256(collateralUsd6) + agg.attestationOf(account).mtmUsd6;
    }
}
