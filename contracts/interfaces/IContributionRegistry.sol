// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

/// @title Per-member, per-category snapshots of the risk lists each member shares.
interface IContributionRegistry {
    struct Snapshot {
        /// Live (unexpired) entries in the member's list for the category.
        uint64 liveCount;
        /// keccak256 of the bytes of the member's base tag filter for the category and key epoch.
        bytes32 filterHash;
        /// The member's key epoch the filter's tags were computed under.
        uint32 keyEpoch;
        /// Block timestamp of publication.
        uint64 publishedAt;
    }

    error ContributionRegistryNotActiveMember(address account);
    error ContributionRegistryCategoryInactive(uint8 categoryId);
    /// @dev A snapshot may only be published under the member's key epoch in force.
    error ContributionRegistryWrongKeyEpoch(address account, uint32 expected, uint32 given);
    /// @dev A non-zero live count must come with the hash of the filter over those entries.
    error ContributionRegistryCountWithoutFilter(uint64 liveCount);
    /// @dev An empty list publishes count 0 with the zero hash; a filter hash with count 0 commits to nothing.
    error ContributionRegistryFilterWithoutCount(bytes32 filterHash);
    /// @dev No category of one member holds more than the ceiling's entries.
    error ContributionRegistryCountTooLarge(uint64 liveCount, uint64 maxLiveCount);

    event ContributionPublished(
        address indexed member,
        uint8 indexed categoryId,
        uint32 keyEpoch,
        uint64 liveCount,
        bytes32 filterHash,
        uint64 publishedAt
    );

    function publish(uint8 categoryId, uint32 keyEpoch, uint64 liveCount, bytes32 filterHash) external;
    function latest(address member, uint8 categoryId) external view returns (Snapshot memory);
    function registry() external view returns (address);
}
