// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

/// @title Per-member, per-category snapshots of the risk lists each member shares.
interface IContributionRegistry {
    struct Snapshot {
        /// Live (unexpired) entries in the member's list for the category.
        uint64 liveCount;
        /// The commitment to the member's base tag filter for the category and key epoch:
        /// keccak256(uint64 byteLength ‖ Merkle root over its 1 KiB chunks) (docs/PROTOCOL.md).
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

    /// @dev Where a spot-check of a snapshot stands.
    enum ChallengeState {
        None,
        /// Opened by a member; the provider has until the deadline to answer with proofs.
        Open,
        /// The provider proved the challenged commitment.
        Answered,
        /// The deadline passed unanswered: the snapshot counts as unproven until answered or replaced.
        Expired,
        /// The provider published a new snapshot before answering: the new one may be challenged.
        Superseded
    }

    struct Challenge {
        address challenger;
        ChallengeState state;
        uint64 openedAt;
        uint64 deadline;
        /// The live count and commitment challenged (the provider's latest snapshot when opened).
        uint64 liveCount;
        bytes32 filterHash;
        /// Picks the chunks to prove, fixed when the challenge opens.
        bytes32 seed;
    }

    /// @dev One chunk of a committed filter and its Merkle path, leaf first.
    struct ChunkProof {
        bytes chunk;
        bytes32[] siblings;
    }

    /// @dev The response window and the challenge cooldown are both longer than zero.
    error ContributionRegistryInvalidChallengeParameters();
    /// @dev Challenges are opened by Active members, against another member's non-empty snapshot.
    error ContributionRegistryCannotChallenge(address challenger, address provider, uint8 categoryId);
    /// @dev One challenge of a snapshot is open at a time.
    error ContributionRegistryChallengeOpen(address provider, uint8 categoryId, uint64 deadline);
    /// @dev A challenger challenges the same provider and category at most once per cooldown.
    error ContributionRegistryChallengeTooSoon(address provider, uint8 categoryId, uint64 notBefore);
    /// @dev There is no challenge in a state that allows the call (answer: Open or Expired; expire: Open).
    error ContributionRegistryNoChallenge(address provider, uint8 categoryId);
    /// @dev The challenge's deadline has not passed yet.
    error ContributionRegistryChallengeNotDue(address provider, uint8 categoryId, uint64 deadline);
    /// @dev The proofs do not open the challenged commitment (index: which proof; 0 is the header chunk).
    error ContributionRegistryBadProof(uint8 categoryId, uint256 index);
    /// @dev The header chunk does not describe a filter of the challenged live count.
    error ContributionRegistryBadHeader(uint8 categoryId);

    event ContributionPublished(
        address indexed member,
        uint8 indexed categoryId,
        uint32 keyEpoch,
        uint64 liveCount,
        bytes32 filterHash,
        uint64 publishedAt
    );

    event ChallengeOpened(
        address indexed provider, uint8 indexed categoryId, address indexed challenger, bytes32 filterHash, bytes32 seed, uint64 deadline
    );
    event ChallengeAnswered(address indexed provider, uint8 indexed categoryId, bytes32 filterHash);
    event ChallengeExpired(address indexed provider, uint8 indexed categoryId, bytes32 filterHash);
    event ChallengeSuperseded(address indexed provider, uint8 indexed categoryId, bytes32 filterHash);

    function challenge(address provider, uint8 categoryId) external;
    function answerChallenge(uint8 categoryId, uint64 byteLength, ChunkProof[] calldata proofs) external;
    function expireChallenge(address provider, uint8 categoryId) external;
    function challengeOf(address provider, uint8 categoryId) external view returns (Challenge memory);
    function isUnproven(address provider, uint8 categoryId) external view returns (bool);
    function challengeChunks(bytes32 seed, uint256 chunkCount) external pure returns (uint256[] memory);
    function challengeParameters() external view returns (uint64 responseWindow, uint64 cooldown);

    function publish(uint8 categoryId, uint32 keyEpoch, uint64 liveCount, bytes32 filterHash) external;
    function latest(address member, uint8 categoryId) external view returns (Snapshot memory);
    function registry() external view returns (address);
}
