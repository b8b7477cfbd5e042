// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IConsortiumRegistry} from "./interfaces/IConsortiumRegistry.sol";
import {IContributionRegistry} from "./interfaces/IContributionRegistry.sol";
import {RiskshareTypes} from "./libraries/RiskshareTypes.sol";

/// @title ContributionRegistry: each Active member's latest snapshot of its list, per category.
///
/// @notice A snapshot is (key epoch, live entry count, hash of the base tag filter, publication
/// time). Only a member publishes its own, under its key epoch in force; the latest is kept in
/// storage for reciprocity checks and filter checks, every one is in the {ContributionPublished}
/// events, and everyone can read both.
///
/// @dev Storage layout:
///   slot 0   `_latest` (member => categoryId => PackedSnapshot), where a PackedSnapshot takes two
///            slots: `liveCount` (uint64, bytes 0-7) | `publishedAt` (uint64, 8-15)
///            | `keyEpoch` (uint32, 16-19), then `filterHash`.
///   `_registry` is immutable and takes no slot.
contract ContributionRegistry is IContributionRegistry {
    /// @dev The public Snapshot's fields, packed: count, time and epoch share a slot.
    struct PackedSnapshot {
        uint64 liveCount;
        uint64 publishedAt;
        uint32 keyEpoch;
        bytes32 filterHash;
    }

    /// @notice The most live entries one member may claim in one category: 2^32, the most a tag
    /// filter's u32 count field (docs/PROTOCOL.md) can hold, and far above any bank's list. A count
    /// above it cannot be true, and would only buy a quota without bound.
    uint64 public constant MAX_LIVE_COUNT = 1 << 32;

    IConsortiumRegistry private immutable _registry;

    mapping(address member => mapping(uint8 categoryId => PackedSnapshot)) private _latest;

    /// @param registry_ The ConsortiumRegistry that says who is an Active member, which categories
    /// are active and each member's key epoch.
    constructor(IConsortiumRegistry registry_) {
        _registry = registry_;
    }

    /// @notice Publishes the caller's snapshot of its list for `categoryId`, replacing the previous one.
    /// @param keyEpoch The caller's key epoch the filter's tags were computed under.
    /// @param liveCount Live (unexpired) entries in the caller's list for the category.
    /// @param filterHash keccak256 of the bytes of the caller's base tag filter for the category.
    ///
    /// Requirements:
    /// - the caller is an Active member (the registry records the publication as its activity).
    /// - `categoryId` is a known, active category.
    /// - `keyEpoch` is the caller's key epoch in force ({IConsortiumRegistry-keyEpochOf}): a snapshot
    ///   under a rotated-away key would commit to tags no querier derives any more.
    /// - the snapshot is plausible: an empty list publishes `liveCount` 0 with the zero `filterHash`;
    ///   any other list a non-zero `filterHash` and a `liveCount` of at most {MAX_LIVE_COUNT}.
    ///   (Whether the filter really holds `liveCount` entries every querier checks off chain.)
    ///
    /// Emits a {ContributionPublished} event.
    function publish(uint8 categoryId, uint32 keyEpoch, uint64 liveCount, bytes32 filterHash) external {
        // Also tells the registry the member acted (its dormancy clock starts again).
        (RiskshareTypes.MemberStatus status,) = _registry.noteCompanionActivity(msg.sender);
        if (status != RiskshareTypes.MemberStatus.Active) revert ContributionRegistryNotActiveMember(msg.sender);
        if (!_registry.isActiveCategory(categoryId)) revert ContributionRegistryCategoryInactive(categoryId);
        uint32 current = _registry.keyEpochOf(msg.sender);
        if (keyEpoch != current) revert ContributionRegistryWrongKeyEpoch(msg.sender, current, keyEpoch);
        if (liveCount > MAX_LIVE_COUNT) revert ContributionRegistryCountTooLarge(liveCount, MAX_LIVE_COUNT);
        if (liveCount != 0 && filterHash == bytes32(0)) revert ContributionRegistryCountWithoutFilter(liveCount);
        if (liveCount == 0 && filterHash != bytes32(0)) revert ContributionRegistryFilterWithoutCount(filterHash);
        uint64 publishedAt = uint64(block.timestamp);
        _latest[msg.sender][categoryId] =
            PackedSnapshot({liveCount: liveCount, publishedAt: publishedAt, keyEpoch: keyEpoch, filterHash: filterHash});
        emit ContributionPublished(msg.sender, categoryId, keyEpoch, liveCount, filterHash, publishedAt);
    }

    /// @notice The latest snapshot `member` published for `categoryId`; all zero if none.
    function latest(address member, uint8 categoryId) external view returns (Snapshot memory) {
        PackedSnapshot storage s = _latest[member][categoryId];
        return Snapshot({liveCount: s.liveCount, filterHash: s.filterHash, keyEpoch: s.keyEpoch, publishedAt: s.publishedAt});
    }

    /// @notice The ConsortiumRegistry this registry defers to.
    function registry() external view returns (address) {
        return address(_registry);
    }
}
