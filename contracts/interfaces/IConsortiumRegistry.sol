// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {RiskshareTypes} from "../libraries/RiskshareTypes.sol";

/// @title Members, roles, categories, policy and governance of a riskshare consortium.
interface IConsortiumRegistry {
    // ----- errors -----
    error ConsortiumRegistryNotAdmin(address caller);
    error ConsortiumRegistryAdminRenounced();
    error ConsortiumRegistryNotRegulator(address account);
    error ConsortiumRegistryInvalidAddress(address account);
    error ConsortiumRegistryMemberExists(address account, RiskshareTypes.MemberStatus status);
    error ConsortiumRegistryPeerIdTaken(bytes peerId);
    error ConsortiumRegistryInvalidPeerId();
    error ConsortiumRegistryInvalidName();
    error ConsortiumRegistryInvalidStatus(address account, RiskshareTypes.MemberStatus status);
    error ConsortiumRegistryRegulatorExists(address account);
    error ConsortiumRegistryCategoryUnknown(uint8 categoryId);
    error ConsortiumRegistryCategoryInactive(uint8 categoryId);
    error ConsortiumRegistryCategoryLimit();
    error ConsortiumRegistryInvalidQuorum(uint16 numerator, uint16 denominator);
    error ConsortiumRegistryInvalidPolicy(uint8 categoryId);
    error ConsortiumRegistryInvalidPayload(RiskshareTypes.ProposalKind kind);
    error ConsortiumRegistryProposalUnknown(uint256 proposalId);
    error ConsortiumRegistryProposalExpired(uint256 proposalId, uint64 expiresAt);
    error ConsortiumRegistryProposalExecuted(uint256 proposalId);
    error ConsortiumRegistryAlreadyVoted(uint256 proposalId, address voter);
    error ConsortiumRegistryQuorumNotReached(uint256 proposalId, uint32 votes, uint32 quorum);
    error ConsortiumRegistryInvalidVotingPeriod(uint64 votingPeriod);
    error ConsortiumRegistryCategoryExists(uint8 categoryId);
    error ConsortiumRegistryIndexOutOfRange(uint256 index, uint256 count);
    error ConsortiumRegistryCompanionsAlreadySet(address contributions, address ledger);
    error ConsortiumRegistryNotCompanion(address account);
    /// @dev An OPRF public key of zero: no member may be admitted or rotate to one.
    error ConsortiumRegistryInvalidOprfKey();
    /// @dev {rotateOprfKey} with the key already in force: a rotation must change the key.
    error ConsortiumRegistryOprfKeyUnchanged(address account, uint32 keyEpoch);
    error ConsortiumRegistryInvalidKeyEpochLength(uint64 keyEpochLengthSeconds);
    /// @dev A constructor limit out of range (a zero suspension length, cooldown, open-proposal limit
    /// or admission delay).
    error ConsortiumRegistryInvalidGovernanceLimits();
    /// @dev {propose} or {vote} by an account without a vote: not a member, suspended by vote, or removed.
    error ConsortiumRegistryNotVotingMember(address account);
    /// @dev {vote} by a member that was not entitled when the proposal was made (admitted, or
    /// reinstated, after it): E is fixed at creation.
    error ConsortiumRegistryNotEntitled(uint256 proposalId, address account);
    /// @dev A regulator may open Suspend and Remove proposals only.
    error ConsortiumRegistryRegulatorMayNotPropose(RiskshareTypes.ProposalKind kind);
    /// @dev The same (kind, payload) is already open as `proposalId`: vote for it instead.
    error ConsortiumRegistryDuplicateProposal(uint256 proposalId);
    /// @dev `account` already has `limit` open proposals.
    error ConsortiumRegistryTooManyOpenProposals(address account, uint256 limit);
    /// @dev A suspension or removal by vote would leave `remaining` voting members, fewer than `floor`
    /// = max(2, the proposal's quorum).
    error ConsortiumRegistryVotingFloor(uint256 remaining, uint256 floor);
    /// @dev A Removed account is never admitted or seeded again (its institution joins under a new account).
    error ConsortiumRegistryMemberRemoved(address account);
    /// @dev A regulator's suspension must end after now and at most `latest` (now + the longest suspension).
    error ConsortiumRegistryInvalidSuspensionEnd(uint64 until, uint64 latest);
    /// @dev A regulator suspended `account` recently: it cannot be suspended by a regulator before `notBefore`.
    error ConsortiumRegistrySuspensionCooldown(address account, uint64 notBefore);
    /// @dev Regulators together already hold `limit` members suspended (max(1, voting members / 3)).
    error ConsortiumRegistryRegulatorSuspensionLimit(uint256 limit);
    /// @dev {endSuspension} for an account no regulator holds suspended.
    error ConsortiumRegistryNotRegulatorSuspended(address account);
    /// @dev {endSuspension} before the suspension's end, `until`.
    error ConsortiumRegistrySuspensionNotOver(address account, uint64 until);
    /// @dev A constructor delay of zero (the timelock delay or the seeding window).
    error ConsortiumRegistryInvalidDelays();
    /// @dev {enact} of a proposal that is not Queued (still open, applied at execute, or enacted).
    error ConsortiumRegistryProposalNotQueued(uint256 proposalId);
    /// @dev {enact} before the proposal's `eta`.
    error ConsortiumRegistryProposalTimelocked(uint256 proposalId, uint64 eta);
    /// @dev {enact} once the window after the eta (one voting period) is over: the proposal lapsed.
    error ConsortiumRegistryProposalLapsed(uint256 proposalId, uint64 lapsedAt);
    /// @dev A seed* call after a proposal executed or after the seeding window ({seedingEndsAt}).
    error ConsortiumRegistrySeedingClosed();
    /// @dev {acceptAdmin} by an account the admin did not nominate.
    error ConsortiumRegistryNotPendingAdmin(address account);
    /// @dev An Admit's public key is not 64 bytes x‖y of a point on secp256k1.
    error ConsortiumRegistryInvalidPublicKey();
    /// @dev An Admit's public key does not hash to its account.
    error ConsortiumRegistryPublicKeyNotAccount(address account);
    /// @dev An Admit's PeerId is not the libp2p identity multihash of its public key.
    error ConsortiumRegistryPeerIdNotKey();
    /// @dev An Admit's signature is not 65 bytes r‖s‖v with v 27 or 28 and s at most n/2.
    error ConsortiumRegistryMalformedSignature();
    /// @dev An Admit's signature was made by `signer`, not by the candidate `account` (another key,
    /// or another registry or chain: the EIP-712 domain binds both).
    error ConsortiumRegistryNotSignedByCandidate(address account, address signer);
    /// @dev {activate} before `activeFrom`, the end of the admission delay.
    error ConsortiumRegistryAdmissionPending(address account, uint64 activeFrom);
    /// @dev {vetoAdmission} at or after `activeFrom`: the veto window is over.
    error ConsortiumRegistryVetoWindowClosed(address account, uint64 activeFrom);
    /// @dev A regulator's pause must end after now and at most `latest` (now + the longest pause).
    error ConsortiumRegistryInvalidPauseEnd(uint64 until, uint64 latest);
    /// @dev The consortium was paused less than the pause cooldown ago: no regulator may pause it before `notBefore`.
    error ConsortiumRegistryPauseCooldown(uint64 notBefore);
    /// @dev An Unpause proposal while lookups are not paused.
    error ConsortiumRegistryNotPaused();
    /// @dev {markDormant} before `account`'s dormancy period has passed since its last action: not before `dormantFrom`.
    error ConsortiumRegistryNotDormant(address account, uint64 dormantFrom);
    /// @dev {rotateMemberKey} while a Suspend or Remove proposal naming the caller is open or queued:
    /// a member does not slip a vote on it by moving to a new account.
    error ConsortiumRegistryRotationBlocked(uint256 proposalId);
    /// @dev A zero warninglist hash, seeded or proposed: the hash names the lists members should ship.
    error ConsortiumRegistryInvalidWarninglistHash();

    // ----- events -----
    event AdminTransferred(address indexed previousAdmin, address indexed newAdmin);
    /// @dev The admin nominated `pendingAdmin` (the zero address: the nomination is withdrawn); the
    /// role moves when the nominee calls {acceptAdmin}.
    event AdminTransferStarted(address indexed admin, address indexed pendingAdmin);
    /// @dev `oprfKey` is in force from now for `keyEpoch` (1 at a first admission).
    event MemberActivated(address indexed account, string name, bytes peerId, bytes32 oprfKey, uint32 keyEpoch);
    /// @dev The member's OPRF key for `keyEpoch`, in force from this block; earlier epochs' keys stay readable.
    event OprfKeyRotated(address indexed account, uint32 keyEpoch, bytes32 oprfKey);
    /// @dev `by` is the regulator who suspended the member (until `until`, keeping its vote), or the
    /// registry itself after a vote (`until` = 0: until a Reinstate vote).
    event MemberSuspended(address indexed account, address indexed by, uint64 until);
    event MemberReinstated(address indexed account);
    event MemberRemoved(address indexed account);
    event RegulatorAdded(address indexed account);
    event RegulatorRemoved(address indexed account);
    event CategoryAdded(uint8 indexed categoryId, string name);
    event CategoryRetired(uint8 indexed categoryId);
    event PolicySet(uint8 indexed categoryId, RiskshareTypes.CategoryPolicy policy);
    event KeyEpochLengthSet(uint64 keyEpochLengthSeconds);
    /// @dev The hash of the warninglists members should ship changed (seeded, or a SetWarninglistHash vote).
    event WarninglistHashSet(bytes32 warninglistHash);
    event QuorumSet(uint16 numerator, uint16 denominator);
    event ProposalCreated(
        uint256 indexed proposalId,
        RiskshareTypes.ProposalKind kind,
        address indexed proposer,
        uint64 expiresAt,
        uint32 quorum,
        bytes payload
    );
    event Voted(uint256 indexed proposalId, address indexed voter, uint32 votes);
    event ProposalExecuted(uint256 indexed proposalId);
    /// @dev An executed proposal of a time-locked kind waits until `eta`; {enact} then applies it.
    event ProposalQueued(uint256 indexed proposalId, uint64 eta);
    /// @dev A queued proposal was applied (its effect's event precedes this one).
    event ProposalEnacted(uint256 indexed proposalId);
    /// @dev An Admit executed: `account` is Admitted, in force (by {activate}) from `activeFrom`;
    /// until then a regulator may veto it.
    event MemberAdmitted(address indexed account, uint64 activeFrom);
    /// @dev A regulator vetoed `account`'s admission before it came into force; the account is back
    /// to None, its PeerId free, and a fresh Admit may be proposed. `reason` is a short code or text.
    event AdmissionVetoed(address indexed account, address indexed regulator, bytes32 reason);
    /// @dev The ContributionRegistry and QueryLedger bound to this registry, set once at bootstrap.
    event CompanionsSet(address contributions, address ledger);
    /// @dev A regulator paused every lookup of the consortium until `until`.
    event ConsortiumPaused(address indexed by, uint64 until);
    /// @dev An Unpause vote lifted the pause before its end.
    event ConsortiumUnpaused();
    /// @dev `account` took no on-chain action for the dormancy period: it has no vote until it acts again.
    event MemberDormant(address indexed account);
    /// @dev A dormant member acted again: its vote is back, for proposals made from now on.
    event MemberAwake(address indexed account);
    /// @dev The member of `oldAccount` moved to `newAccount` (its name, joinedAt and vote with it), with
    /// `peerId` and `oprfKey` in force from now for `keyEpoch` (the old account's epoch + 1); the old
    /// account is Rotated, its PeerId and keys stay bound to it for audits.
    event MemberKeyRotated(
        address indexed oldAccount, address indexed newAccount, bytes peerId, uint32 keyEpoch, bytes32 oprfKey
    );

    // ----- bootstrap (admin only, until renounced) -----
    function seedMember(address account, string calldata name, bytes calldata peerId, bytes32 oprfKey) external;
    function seedRegulator(address account) external;
    function seedCategory(string calldata name) external returns (uint8 categoryId);
    function seedPolicy(uint8 categoryId, RiskshareTypes.CategoryPolicy calldata policy) external;
    function seedWarninglistHash(bytes32 hash) external;
    function seedCompanions(address contributions, address ledger) external;
    function transferAdmin(address newAdmin) external;
    function acceptAdmin() external;
    function renounceAdmin() external;

    // ----- governance -----
    function propose(RiskshareTypes.ProposalKind kind, bytes calldata payload) external returns (uint256 proposalId);
    function vote(uint256 proposalId) external;
    function execute(uint256 proposalId) external;
    function enact(uint256 proposalId) external;

    // ----- members -----
    function rotateOprfKey(bytes32 newKey) external;
    function rotateMemberKey(
        address newAccount,
        bytes calldata peerId,
        bytes calldata publicKey,
        bytes32 oprfKey,
        bytes calldata signature
    ) external;
    function successorOf(address account) external view returns (address);
    function predecessorOf(address account) external view returns (address);
    function activate(address account) external;

    // ----- regulator -----
    function regulatorSuspend(address account, uint64 until) external;
    function endSuspension(address account) external;
    function vetoAdmission(address account, bytes32 reason) external;
    function regulatorPause(uint64 until) external;

    // ----- dormancy and companions -----
    function markDormant(address account) external;
    /// @dev Called by the QueryLedger or ContributionRegistry for the member acting through them
    /// (records its activity); from any other caller it only reads.
    function noteCompanionActivity(address account)
        external
        returns (RiskshareTypes.MemberStatus status, uint64 removedAt);

    // ----- views -----
    function admin() external view returns (address);
    /// @dev The account nominated by {transferAdmin}, until it accepts; the zero address if none.
    function pendingAdmin() external view returns (address);
    /// @dev Seconds between {execute} and the earliest {enact} of a time-locked kind.
    function timelockDelay() external view returns (uint64);
    /// @dev When seed* calls stop: deployment + the seeding window, or 0 once a proposal executed.
    function seedingEndsAt() external view returns (uint64);
    /// @dev The companion contracts, so that the registry address alone finds the rest; zero until seeded.
    function contributions() external view returns (address);
    function ledger() external view returns (address);
    function isActiveMember(address account) external view returns (bool);
    function memberStatus(address account) external view returns (RiskshareTypes.MemberStatus);
    function isRegulator(address account) external view returns (bool);
    function member(address account) external view returns (RiskshareTypes.Member memory);
    function memberByPeerId(bytes calldata peerId) external view returns (RiskshareTypes.Member memory);
    function memberCount() external view returns (uint256);
    function memberAt(uint256 index) external view returns (RiskshareTypes.Member memory);
    function activeMemberCount() external view returns (uint256);
    /// @dev Members with a vote: Active, or suspended by a regulator.
    function votingMemberCount() external view returns (uint256);
    function isVotingMember(address account) external view returns (bool);
    /// @dev End of `account`'s regulator suspension (0 if none), and the earliest time a regulator
    /// may suspend it again (0 if it never was).
    function regulatorSuspension(address account) external view returns (uint64 until, uint64 notBefore);
    function regulatorSuspendedCount() external view returns (uint256);
    /// @dev The longest regulator suspension, the cooldown after one, and the open proposals per account.
    function governanceLimits()
        external
        view
        returns (uint64 maxRegulatorSuspensionSeconds, uint64 regulatorCooldownSeconds, uint8 maxOpenProposals);
    /// @dev The quorum of a proposal whose electorate is `electorate`, under the current fraction.
    function quorumFor(uint256 electorate) external view returns (uint32);
    /// @dev Votes of `proposalId` that still count: cast by members still entitled to vote on it.
    function countedVotes(uint256 proposalId) external view returns (uint32);
    function isEntitled(uint256 proposalId, address account) external view returns (bool);
    function regulators() external view returns (address[] memory);
    function category(uint8 categoryId) external view returns (RiskshareTypes.Category memory);
    function categoryCount() external view returns (uint8);
    function policy(uint8 categoryId) external view returns (RiskshareTypes.CategoryPolicy memory);
    /// @dev Seconds after which a member should rotate its OPRF key (nodes report an older key).
    function keyEpochLength() external view returns (uint64);
    function warninglistHash() external view returns (bytes32);
    /// @dev The key epoch in force for `account` (0 for an account never proposed or seeded).
    function keyEpochOf(address account) external view returns (uint32);
    /// @dev The OPRF key `account` held in `keyEpoch`; zero when it held none.
    function oprfKeyOf(address account, uint32 keyEpoch) external view returns (bytes32);
    /// @dev How long an executed Admit waits before it may be activated (and a regulator may veto it).
    function admissionDelay() external view returns (uint64);
    /// @dev When `account`'s executed admission may be activated; 0 unless it is Admitted.
    function admissionActiveFrom(address account) external view returns (uint64);
    /// @dev The EIP-712 domain separator admission requests are signed under.
    function admissionDomainSeparator() external view returns (bytes32);
    function quorumFraction() external view returns (uint16 numerator, uint16 denominator);
    function votingPeriod() external view returns (uint64);
    function proposal(uint256 proposalId) external view returns (RiskshareTypes.Proposal memory);
    function proposalCount() external view returns (uint256);
    function hasVoted(uint256 proposalId, address voter) external view returns (bool);
    function isActiveCategory(uint8 categoryId) external view returns (bool);
    /// @dev End of the regulator's pause of lookups; 0 if never paused or lifted by a vote (a past
    /// time once over).
    function pausedUntil() external view returns (uint64);
    /// @dev `account`'s last on-chain action, whether it is marked dormant, and when it was removed (0 if not).
    function activityOf(address account) external view returns (uint64 lastActionAt, bool dormant, uint64 removedAt);

    // ----- roles, for tooling (MEMBER = Active status; ADMIN = the bootstrap admin until renounced) -----
    function MEMBER_ROLE() external view returns (bytes32);
    function REGULATOR_ROLE() external view returns (bytes32);
    function ADMIN_ROLE() external view returns (bytes32);
    function hasRole(bytes32 role, address account) external view returns (bool);
}
