// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IConsortiumRegistry} from "./interfaces/IConsortiumRegistry.sol";
import {IContributionRegistry} from "./interfaces/IContributionRegistry.sol";
import {RiskshareTypes} from "./libraries/RiskshareTypes.sol";

/// @title ContributionRegistry: each Active member's latest snapshot of its list, per category,
/// and spot-checks of those snapshots.
///
/// @notice A snapshot is (key epoch, live entry count, commitment to the base tag filter,
/// publication time). Only a member publishes its own, under its key epoch in force; the latest is
/// kept in storage for reciprocity checks and filter checks, every one is in the
/// {ContributionPublished} events, and everyone can read both.
///
/// Every member downloads the filters it queries and checks them whole off chain. What the chain
/// adds is a verdict no single member's word makes: any Active member may {challenge} another's
/// latest snapshot; the provider then has `responseWindow` (24 h by default) to post, with
/// {answerChallenge}, Merkle proofs of the filter's header chunk (which must state the challenged
/// count and a layout of that count's size) and of chunks picked by the challenge's seed. If it
/// does not, anyone may {expireChallenge}, and the snapshot is unproven ({isUnproven}) — nodes then
/// refuse that member's lookups as if it contributed nothing — until the provider answers or
/// publishes a new snapshot. A challenger may challenge the same provider and category once per
/// `cooldown`, and one challenge of a snapshot is open at a time.
///
/// @dev Storage layout:
///   slot 0   `_latest` (member => categoryId => PackedSnapshot), where a PackedSnapshot takes two
///            slots: `liveCount` (uint64, bytes 0-7) | `publishedAt` (uint64, 8-15)
///            | `keyEpoch` (uint32, 16-19), then `filterHash`.
///   slot 1   `_challenges` (provider => categoryId => Challenge), four slots each.
///   slot 2   `_unproven` (provider => categoryId => bool).
///   slot 3   `_lastChallenge` (challenger => provider => categoryId => when it last challenged them).
///   `_registry`, `_responseWindow` and `_cooldown` are immutable and take no slot.
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
    /// @notice Bytes of a filter chunk, the leaf of the commitment's Merkle tree (the last may be shorter).
    uint256 public constant CHUNK_BYTES = 1024;
    /// @notice Chunks a challenge picks at random, besides the header chunk.
    uint256 public constant CHALLENGE_SAMPLES = 4;

    /// @dev The filter header (node/store/filter.ts): "RSF1", seed, segmentLength, segmentCount,
    /// count, each a little-endian u32, then u16 fingerprints × (segmentCount + 2) × segmentLength.
    uint256 private constant HEADER_BYTES = 20;
    bytes4 private constant FILTER_MAGIC = "RSF1";

    IConsortiumRegistry private immutable _registry;
    uint64 private immutable _responseWindow;
    uint64 private immutable _cooldown;

    mapping(address member => mapping(uint8 categoryId => PackedSnapshot)) private _latest;
    mapping(address provider => mapping(uint8 categoryId => Challenge)) private _challenges;
    mapping(address provider => mapping(uint8 categoryId => bool)) private _unproven;
    mapping(address challenger => mapping(address provider => mapping(uint8 categoryId => uint64 at))) private _lastChallenge;

    /// @param registry_ The ConsortiumRegistry that says who is an Active member, which categories
    /// are active and each member's key epoch.
    /// @param responseWindow_ How long a challenged provider has to answer (24 h in production).
    /// @param cooldown_ How long before a challenger may challenge the same provider and category again (7 days).
    constructor(IConsortiumRegistry registry_, uint64 responseWindow_, uint64 cooldown_) {
        if (responseWindow_ == 0 || cooldown_ == 0) revert ContributionRegistryInvalidChallengeParameters();
        _registry = registry_;
        _responseWindow = responseWindow_;
        _cooldown = cooldown_;
    }

    /// @notice Publishes the caller's snapshot of its list for `categoryId`, replacing the previous one.
    /// @param keyEpoch The caller's key epoch the filter's tags were computed under.
    /// @param liveCount Live (unexpired) entries in the caller's list for the category.
    /// @param filterHash The commitment to the caller's base tag filter for the category:
    /// keccak256(uint64 byteLength ‖ Merkle root over its 1 KiB chunks) (docs/PROTOCOL.md).
    ///
    /// Requirements:
    /// - the caller is an Active member, or one a regulator suspended (which stops lookups only); the
    ///   registry records the publication as its activity.
    /// - `categoryId` is a known, active category.
    /// - `keyEpoch` is the caller's key epoch in force ({IConsortiumRegistry-keyEpochOf}): a snapshot
    ///   under a rotated-away key would commit to tags no querier derives any more.
    /// - the snapshot is plausible: an empty list publishes `liveCount` 0 with the zero `filterHash`;
    ///   any other list a non-zero `filterHash` and a `liveCount` of at most {MAX_LIVE_COUNT}.
    ///   (Whether the filter really holds `liveCount` entries every querier checks off chain.)
    ///
    /// Emits a {ContributionPublished} event; a challenge of the previous snapshot still open or
    /// expired is superseded ({ChallengeSuperseded}), and the new snapshot is not unproven.
    function publish(uint8 categoryId, uint32 keyEpoch, uint64 liveCount, bytes32 filterHash) external {
        // Also tells the registry the member acted (its dormancy clock starts again).
        (RiskshareTypes.MemberStatus status,) = _registry.noteCompanionActivity(msg.sender);
        // A regulator's suspension stops the member's lookups only: it keeps publishing, so its
        // reciprocity does not lapse meanwhile (a suspension by vote stops that too).
        if (status != RiskshareTypes.MemberStatus.Active && !_regulatorSuspended(msg.sender, status)) {
            revert ContributionRegistryNotActiveMember(msg.sender);
        }
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
        // A new snapshot is a new commitment: what was challenged of the old one no longer counts.
        Challenge storage c = _challenges[msg.sender][categoryId];
        if (c.state == ChallengeState.Open || c.state == ChallengeState.Expired) {
            c.state = ChallengeState.Superseded;
            emit ChallengeSuperseded(msg.sender, categoryId, c.filterHash);
        }
        delete _unproven[msg.sender][categoryId];
    }

    function _regulatorSuspended(address account, RiskshareTypes.MemberStatus status) private view returns (bool) {
        if (status != RiskshareTypes.MemberStatus.Suspended) return false;
        (uint64 until,) = _registry.regulatorSuspension(account);
        return until != 0;
    }

    /// @notice Challenges `provider`'s latest snapshot for `categoryId`: the provider must prove it
    /// ({answerChallenge}) within the response window.
    ///
    /// Requirements:
    /// - the caller is an Active member other than `provider`, and `provider` published a non-empty
    ///   snapshot for the category.
    /// - no challenge of that provider and category is open.
    /// - the caller did not challenge that provider and category within the cooldown.
    ///
    /// Emits a {ChallengeOpened} event.
    function challenge(address provider, uint8 categoryId) external {
        PackedSnapshot storage snapshot = _latest[provider][categoryId];
        if (provider == msg.sender || snapshot.liveCount == 0 || !_registry.isActiveMember(msg.sender)) {
            revert ContributionRegistryCannotChallenge(msg.sender, provider, categoryId);
        }
        Challenge storage c = _challenges[provider][categoryId];
        if (c.state == ChallengeState.Open) revert ContributionRegistryChallengeOpen(provider, categoryId, c.deadline);
        uint64 last = _lastChallenge[msg.sender][provider][categoryId];
        if (last != 0 && block.timestamp < uint256(last) + _cooldown) {
            revert ContributionRegistryChallengeTooSoon(provider, categoryId, last + _cooldown);
        }
        uint64 nowSec = uint64(block.timestamp);
        _lastChallenge[msg.sender][provider][categoryId] = nowSec;
        bytes32 seed = keccak256(abi.encode(blockhash(block.number - 1), provider, categoryId, msg.sender, snapshot.filterHash));
        uint64 deadline = nowSec + _responseWindow;
        _challenges[provider][categoryId] = Challenge({
            challenger: msg.sender,
            state: ChallengeState.Open,
            openedAt: nowSec,
            deadline: deadline,
            liveCount: snapshot.liveCount,
            filterHash: snapshot.filterHash,
            seed: seed
        });
        emit ChallengeOpened(provider, categoryId, msg.sender, snapshot.filterHash, seed, deadline);
    }

    /// @notice Answers the challenge of the caller's snapshot for `categoryId` with proofs of the
    /// header chunk (first) and of the chunks {challengeChunks} picks, in that order. Clears an
    /// expired challenge too: a late answer makes the snapshot proven again.
    ///
    /// Requirements:
    /// - a challenge of the caller's snapshot is Open or Expired.
    /// - every proof opens the challenged commitment for a filter of `byteLength` bytes.
    /// - the header chunk starts with "RSF1", states the challenged live count, and `byteLength`
    ///   is the size its layout gives.
    ///
    /// Emits a {ChallengeAnswered} event.
    function answerChallenge(uint8 categoryId, uint64 byteLength, ChunkProof[] calldata proofs) external {
        Challenge storage c = _challenges[msg.sender][categoryId];
        if (c.state != ChallengeState.Open && c.state != ChallengeState.Expired) {
            revert ContributionRegistryNoChallenge(msg.sender, categoryId);
        }
        if (byteLength <= HEADER_BYTES) revert ContributionRegistryBadHeader(categoryId);
        uint256 chunkCount = (uint256(byteLength) + CHUNK_BYTES - 1) / CHUNK_BYTES;
        uint256[] memory indices = _challengeChunks(c.seed, chunkCount);
        if (proofs.length != indices.length) revert ContributionRegistryBadProof(categoryId, proofs.length);
        uint256 depth = _depth(chunkCount);
        for (uint256 i = 0; i < proofs.length; i++) {
            if (!_opens(c.filterHash, byteLength, chunkCount, depth, indices[i], proofs[i])) {
                revert ContributionRegistryBadProof(categoryId, i);
            }
        }
        _checkHeader(proofs[0].chunk, byteLength, c.liveCount, categoryId);
        c.state = ChallengeState.Answered;
        delete _unproven[msg.sender][categoryId];
        emit ChallengeAnswered(msg.sender, categoryId, c.filterHash);
    }

    /// @notice Closes an unanswered challenge after its deadline: the provider's snapshot for the
    /// category is unproven until it answers or publishes a new one. Anyone may call it.
    ///
    /// Emits a {ChallengeExpired} event.
    function expireChallenge(address provider, uint8 categoryId) external {
        Challenge storage c = _challenges[provider][categoryId];
        if (c.state != ChallengeState.Open) revert ContributionRegistryNoChallenge(provider, categoryId);
        if (block.timestamp <= c.deadline) revert ContributionRegistryChallengeNotDue(provider, categoryId, c.deadline);
        c.state = ChallengeState.Expired;
        _unproven[provider][categoryId] = true;
        emit ChallengeExpired(provider, categoryId, c.filterHash);
    }

    /// @notice The latest challenge of `provider`'s snapshot for `categoryId` (state None if never).
    function challengeOf(address provider, uint8 categoryId) external view returns (Challenge memory) {
        return _challenges[provider][categoryId];
    }

    /// @notice Whether `provider`'s latest snapshot for `categoryId` failed a challenge, unanswered.
    function isUnproven(address provider, uint8 categoryId) external view returns (bool) {
        return _unproven[provider][categoryId];
    }

    /// @notice The chunk indices a challenge with `seed` asks for, for a filter of `chunkCount`
    /// chunks: 0 (the header), then {CHALLENGE_SAMPLES} picked by the seed (they may repeat).
    function challengeChunks(bytes32 seed, uint256 chunkCount) external pure returns (uint256[] memory) {
        return _challengeChunks(seed, chunkCount);
    }

    /// @notice How long a provider has to answer, and how long a challenger waits to challenge again.
    function challengeParameters() external view returns (uint64 responseWindow, uint64 cooldown) {
        return (_responseWindow, _cooldown);
    }

    function _challengeChunks(bytes32 seed, uint256 chunkCount) private pure returns (uint256[] memory indices) {
        indices = new uint256[](1 + CHALLENGE_SAMPLES);
        for (uint256 j = 1; j <= CHALLENGE_SAMPLES; j++) {
            indices[j] = uint256(keccak256(abi.encode(seed, j))) % chunkCount;
        }
    }

    /// @dev Levels of the tree over `chunkCount` leaves padded to a power of two.
    function _depth(uint256 chunkCount) private pure returns (uint256 depth) {
        while ((uint256(1) << depth) < chunkCount) depth++;
    }

    /// @dev Whether `proof` opens chunk `index` of the commitment keccak256(uint64 byteLength ‖ root).
    function _opens(bytes32 commitment, uint64 byteLength, uint256 chunkCount, uint256 depth, uint256 index, ChunkProof calldata proof)
        private
        pure
        returns (bool)
    {
        uint256 expectedBytes = index + 1 < chunkCount ? CHUNK_BYTES : uint256(byteLength) - CHUNK_BYTES * (chunkCount - 1);
        if (proof.chunk.length != expectedBytes || proof.siblings.length != depth) return false;
        bytes32 node = keccak256(abi.encodePacked(bytes1(0x00), proof.chunk));
        uint256 at = index;
        for (uint256 level = 0; level < depth; level++) {
            bytes32 sibling = proof.siblings[level];
            node = at & 1 == 0
                ? keccak256(abi.encodePacked(bytes1(0x01), node, sibling))
                : keccak256(abi.encodePacked(bytes1(0x01), sibling, node));
            at >>= 1;
        }
        return keccak256(abi.encodePacked(byteLength, node)) == commitment;
    }

    /// @dev The header chunk states the challenged count, and the filter's size is its layout's.
    function _checkHeader(bytes calldata chunk, uint64 byteLength, uint64 liveCount, uint8 categoryId) private pure {
        if (bytes4(chunk[0:4]) != FILTER_MAGIC) revert ContributionRegistryBadHeader(categoryId);
        uint256 segmentLength = _u32le(chunk, 8);
        uint256 segmentCount = _u32le(chunk, 12);
        uint256 count = _u32le(chunk, 16);
        if (count != liveCount || segmentCount == 0 || HEADER_BYTES + 2 * (segmentCount + 2) * segmentLength != byteLength) {
            revert ContributionRegistryBadHeader(categoryId);
        }
    }

    function _u32le(bytes calldata b, uint256 at) private pure returns (uint256) {
        return uint256(uint8(b[at])) | (uint256(uint8(b[at + 1])) << 8) | (uint256(uint8(b[at + 2])) << 16)
            | (uint256(uint8(b[at + 3])) << 24);
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
