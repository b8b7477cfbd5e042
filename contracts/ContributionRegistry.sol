// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IConsortiumRegistry} from "./interfaces/IConsortiumRegistry.sol";
import {IContributionRegistry} from "./interfaces/IContributionRegistry.sol";

/// @title ContributionRegistry: each Active member's latest snapshot of its list, per category.
///
/// @notice A snapshot is (live entry count, a 32-byte root of the list, publication time). Only a
/// member publishes its own; the latest is kept in storage for reciprocity checks, every one is in
/// the {ContributionPublished} events, and everyone can read both.
///
/// @dev Storage layout:
///   slot 0   `_latest` (member => categoryId => PackedSnapshot), where a PackedSnapshot takes two
///            slots: `liveCount` (uint64, bytes 0-7) | `publishedAt` (uint64, 8-15), then `root`.
///   `_registry` is immutable and takes no slot.
contract ContributionRegistry is IContributionRegistry {
    /// @dev The public Snapshot's field order, packed: count and time share a slot.
    struct PackedSnapshot {
        uint64 liveCount;
        uint64 publishedAt;
        bytes32 root;
    }

    IConsortiumRegistry private immutable _registry;

    mapping(address member => mapping(uint8 categoryId => PackedSnapshot)) private _latest;

    /// @param registry_ The ConsortiumRegistry that says who is an Active member and which
    /// categories are active.
    constructor(IConsortiumRegistry registry_) {
        _registry = registry_;
    }

    /// @notice Publishes the caller's snapshot of its list for `categoryId`, replacing the previous one.
    /// @param liveCount Live (unexpired) entries in the caller's list for the category.
    /// @param root Deterministic digest of the sorted entry hashes.
    ///
    /// Requirements:
    /// - the caller is an Active member.
    /// - `categoryId` is a known, active category.
    ///
    /// Emits a {ContributionPublished} event.
    function publish(uint8 categoryId, uint64 liveCount, bytes32 root) external {
        if (!_registry.isActiveMember(msg.sender)) revert ContributionRegistryNotActiveMember(msg.sender);
        if (!_registry.isActiveCategory(categoryId)) revert ContributionRegistryCategoryInactive(categoryId);
        uint64 publishedAt = uint64(block.timestamp);
        _latest[msg.sender][categoryId] = PackedSnapshot({liveCount: liveCount, publishedAt: publishedAt, root: root});
        emit ContributionPublished(msg.sender, categoryId, liveCount, root, publishedAt);
    }

    /// @notice The latest snapshot `member` published for `categoryId`; all zero if none.
    function latest(address member, uint8 categoryId) external view returns (Snapshot memory) {
        PackedSnapshot storage s = _latest[member][categoryId];
        return Snapshot({liveCount: s.liveCount, root: s.root, publishedAt: s.publishedAt});
    }

    /// @notice The ConsortiumRegistry this registry defers to.
    function registry() external view returns (address) {
        return address(_registry);
    }
}
