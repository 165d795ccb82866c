// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title ERC721Lite
/// @notice The ERC-721 core both venues need for their account tokens: ownership, approvals, transfers,
/// `Transfer`/`Approval`/`ApprovalForAll` events and ERC-165. Safe transfers call
/// `onERC721Received` on contract receivers. No metadata URI; a token contract that needs enumeration
/// keeps its own index through the `_afterTokenTransfer` hook.
abstract contract ERC721Lite {
    event Transfer(address indexed from, address indexed to, uint256 indexed tokenId);
    event Approval(address indexed owner, address indexed approved, uint256 indexed tokenId);
    event ApprovalForAll(address indexed owner, address indexed operator, bool approved);

    /// @notice The token does not exist.
    error TokenDoesNotExist(uint256 tokenId);
    /// @notice The token id is already minted.
    error TokenAlreadyMinted(uint256 tokenId);
    /// @notice The caller is neither the owner nor approved for the token.
    error NotOwnerOrApproved(address caller, uint256 tokenId);
    /// @notice `from` does not own the token.
    error WrongFrom(address from, uint256 tokenId);
    /// @notice Tokens cannot be sent to the zero address.
    error InvalidRecipient(address to);
    /// @notice A contract recipient did not accept the token.
    error UnsafeRecipient(address to);

    string public name;
    string public symbol;

    mapping(uint256 tokenId => address) internal _ownerOf;
    mapping(address owner => uint256) internal _balanceOf;
    mapping(uint256 tokenId => address) public getApproved;
    mapping(address owner => mapping(address operator => bool)) public isApprovedForAll;

    constructor(string memory name_, string memory symbol_) {
        name = name_;
        symbol = symbol_;
    }

    function ownerOf(uint256 tokenId) public view returns (address owner) {
        owner = _ownerOf[tokenId];
        if (owner == address(0)) revert TokenDoesNotExist(tokenId);
    }

    function balanceOf(address owner) external view returns (uint256) {
        if (owner == address(0)) revert InvalidRecipient(owner);
        return _balanceOf[owner];
    }

    function approve(address spender, uint256 tokenId) external {
        address owner = ownerOf(tokenId);
        if (msg.sender != owner && !isApprovedForAll[owner][msg.sender]) revert NotOwnerOrApproved(msg.sender, tokenId);
        getApproved[tokenId] = spender;
        emit Approval(owner, spender, tokenId);
    }

    function setApprovalForAll(address operator, bool approved) external {
        isApprovedForAll[msg.sender][operator] = approved;
        emit ApprovalForAll(msg.sender, operator, approved);
    }

    function transferFrom(address from, address to, uint256 tokenId) public {
        address owner = ownerOf(tokenId);
        if (owner != from) revert WrongFrom(from, tokenId);
        if (to == address(0)) revert InvalidRecipient(to);
        if (!_isApprovedOrOwner(msg.sender, tokenId)) revert NotOwnerOrApproved(msg.sender, tokenId);
        unchecked {
            _balanceOf[from]--;
            _balanceOf[to]++;
        }
        _ownerOf[tokenId] = to;
        delete getApproved[tokenId];
        _afterTokenTransfer(from, to, tokenId);
        emit Transfer(from, to, tokenId);
    }

    function safeTransferFrom(address from, address to, uint256 tokenId) external {
        safeTransferFrom(from, to, tokenId, "");
    }

    function safeTransferFrom(address from, address to, uint256 tokenId, bytes memory data) public {
        transferFrom(from, to, tokenId);
        _checkReceiver(from, to, tokenId, data);
    }

    function supportsInterface(bytes4 interfaceId) public view virtual returns (bool) {
        // ERC-165 and ERC-721
        return interfaceId == 0x01ffc9a7 || interfaceId == 0x80ac58cd;
    }

    function _isApprovedOrOwner(address spender, uint256 tokenId) internal view returns (bool) {
        address owner = _ownerOf[tokenId];
        return spender == owner || isApprovedForAll[owner][spender] || getApproved[tokenId] == spender;
    }

    function _mint(address to, uint256 tokenId) internal {
        if (to == address(0)) revert InvalidRecipient(to);
        if (_ownerOf[tokenId] != address(0)) revert TokenAlreadyMinted(tokenId);
        unchecked {
            _balanceOf[to]++;
        }
        _ownerOf[tokenId] = to;
        _afterTokenTransfer(address(0), to, tokenId);
        emit Transfer(address(0), to, tokenId);
    }

    /// @dev Called after every ownership change (mint: from = address(0)).
    function _afterTokenTransfer(address from, address to, uint256 tokenId) internal virtual {}

    function _checkReceiver(address from, address to, uint256 tokenId, bytes memory data) internal {
        if (to.code.length == 0) return;
        try IERC721ReceiverLite(to).onERC721Received(msg.sender, from, tokenId, data) returns (bytes4 ret) {
            if (ret != IERC721ReceiverLite.onERC721Received.selector) revert UnsafeRecipient(to);
        } catch {
            revert UnsafeRecipient(to);
        }
    }
}

interface IERC721ReceiverLite {
    function onERC721Received(address operator, address from, uint256 tokenId, bytes calldata data)
        external
        returns (bytes4);
}
