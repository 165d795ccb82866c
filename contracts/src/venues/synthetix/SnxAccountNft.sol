// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ERC721Lite} from "../common/ERC721Lite.sol";

/// @title SnxAccountNft
/// @notice Stand-in for Synthetix v3's AccountProxy: the ERC-721 whose token ids are perps account ids.
/// Only the market that deployed it mints; holders transfer freely and the market reads `ownerOf` for
/// every permission check, so an account's owner always follows its token.
contract SnxAccountNft is ERC721Lite {
    /// @notice The market allowed to mint.
    address public immutable market;

    /// @notice Only the market mints account tokens.
    error OnlyMarket(address caller);

    constructor() ERC721Lite("Synthetix Account", "SACCT") {
        market = msg.sender;
    }

    /// @notice Mints account `tokenId` to `to` (market only).
    function mint(address to, uint256 tokenId) external {
        if (msg.sender != market) revert OnlyMarket(msg.sender);
        _mint(to, tokenId);
    }
}
