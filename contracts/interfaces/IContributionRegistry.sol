// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

/// @title Per-member, per-category snapshots of the risk lists each member shares.
interface IContributionRegistry {
    struct Snapshot {
        /// Live (unexpired) entries in the member's list for the category.
        uint64 liveCount;
        /// Deterministic digest of the sorted entry hashes (node/store computes it).
        bytes32 root;
        /// Block timestamp of publication.
        uint64 publishedAt;
    }

    error ContributionRegistryNotActiveMember(address account);
    error ContributionRegistryCategoryInactive(uint8 categoryId);

    event ContributionPublished(
        address indexed member, uint8 indexed categoryId, uint64 liveCount, bytes32 root, uint64 publishedAt
    );

    function publish(uint8 categoryId, uint64 liveCount, bytes32 root) external;
    function latest(address member, uint8 categoryId) external view returns (Snapshot memory);
    function registry() external view returns (address);
}
