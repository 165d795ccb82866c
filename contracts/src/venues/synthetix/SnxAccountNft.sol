// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ERC721Lite} from "../common/ERC721Lite.sol";

/// @title SnxAccountNft
/// @notice Stand-in for Synthetix v3's AccountProxy: the ERC-721 whose token ids are perps account ids.
/// Only the market that deployed it mints; holders transfer freely and the market reads `ownerOf` for
/// every permission check, so an account's owner always follows its token. Enumerable like Synthetix's
/// account token, so `balanceOf` + `tokenOfOwnerByIndex` list an owner's accounts.
contract SnxAccountNft is ERC721Lite {
    /// @notice The market allowed to mint.
    address public immutable market;

    /// @notice Only the market mints account tokens.
    error OnlyMarket(address caller);
    /// @notice Index past the owner's or the collection's token count.
    error IndexOverrun(uint256 requestedIndex, uint256 length);

    uint256[] internal _allTokens;
    mapping(address owner => mapping(uint256 index => uint256 tokenId)) internal _ownedTokens;
    mapping(uint256 tokenId => uint256 index) internal _ownedIndex;

    constructor() ERC721Lite("Synthetix Account", "SACCT") {
        market = msg.sender;
    }

    /// @notice Mints account `tokenId` to `to` (market only).
    function mint(address to, uint256 tokenId) external {
        if (msg.sender != market) revert OnlyMarket(msg.sender);
        _mint(to, tokenId);
    }

    /// @notice Number of accounts ever created.
    function totalSupply() external view returns (uint256) {
        return _allTokens.length;
    }

    /// @notice The `index`-th account id created.
    function tokenByIndex(uint256 index) external view returns (uint256) {
        if (index >= _allTokens.length) revert IndexOverrun(index, _allTokens.length);
        return _allTokens[index];
    }

    /// @notice The `index`-th account id held by `owner` (order changes when tokens move).
    function tokenOfOwnerByIndex(address owner, uint256 index) external view returns (uint256) {
        if (index >= _balanceOf[owner]) revert IndexOverrun(index, _balanceOf[owner]);
        return _ownedTokens[owner][index];
    }

    function supportsInterface(bytes4 interfaceId) public view override returns (bool) {
        return interfaceId == 0x780e9d63 || super.supportsInterface(interfaceId); // + ERC721Enumerable
    }

    /// @dev Keeps the per-owner index: balances are already updated when this runs.
    function _afterTokenTransfer(address from, address to, uint256 tokenId) internal override {
        if (from == to) return;
        if (from == address(0)) {
            _allTokens.push(tokenId);
        } else {
            uint256 lastIndex = _balanceOf[from]; // `from` had lastIndex + 1 tokens before the move
            uint256 index = _ownedIndex[tokenId];
            if (index != lastIndex) {
                uint256 lastToken = _ownedTokens[from][lastIndex];
                _ownedTokens[from][index] = lastToken;
                _ownedIndex[lastToken] = index;
            }
            delete _ownedTokens[from][lastIndex];
        }
        uint256 newIndex = _balanceOf[to] - 1;
        _ownedTokens[to][newIndex] = tokenId;
        _ownedIndex[tokenId] = newIndex;
    }
}
