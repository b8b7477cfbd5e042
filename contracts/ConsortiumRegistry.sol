// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IConsortiumRegistry} from "./interfaces/IConsortiumRegistry.sol";
import {IContributionRegistry} from "./interfaces/IContributionRegistry.sol";
import {IQueryLedger} from "./interfaces/IQueryLedger.sol";
import {RiskshareTypes} from "./libraries/RiskshareTypes.sol";
import {AdmissionVerifier} from "./libraries/AdmissionVerifier.sol";
import {ConsortiumHolds} from "./libraries/ConsortiumHolds.sol";

/// @title ConsortiumRegistry: who is a member (with its OPRF public key per key epoch), who
/// regulates, the categories, the sharing policy, and the proposals and votes that change them.
///
/// @notice A bootstrap admin seeds the founding members, regulators, categories and policies, and
/// names the companion ContributionRegistry and QueryLedger (so the registry address alone finds
/// them), then renounces; from then on only a vote of the voting members changes membership or policy
/// (docs/GOVERNANCE.md: who votes, the quorum, the bounds that keep governance from freezing). A
/// regulator may suspend a member's lookups for a while, within bounds, and open Suspend and Remove
/// proposals; it never votes. Members and regulators are disjoint: an account that holds a membership
/// (Active, Suspended or Admitted) cannot be a regulator, and a regulator cannot be admitted as a
/// member. An Admit carries the candidate's own signed request (AdmissionVerifier); the member record
/// is written only when it executes, as Admitted, and comes into force after the admission delay
/// ({activate}) unless a regulator vetoes it first ({vetoAdmission}). Each member rotates its own OPRF key at will
/// ({rotateOprfKey}); every key it ever held stays readable per epoch ({oprfKeyOf}), so answers
/// given under an earlier key can still be verified. How often a key should be rotated
/// ({keyEpochLength}) is a governance parameter that nodes report against, not enforced here.
///
/// @dev Storage layout (declaration order; immutables and constants take no slot):
///   slot 0   `_admin` (address, bytes 0-19) | `_keyEpochLength` (uint64, 20-27)
///            | `_quorumNumerator` (uint16, 28-29) | `_quorumDenominator` (uint16, 30-31)
///   slot 1   `_categoryCount` (uint8)
///   slot 2   `_activeMemberCount` (uint256): kept as a counter so no write path loops over members
///   slot 3   `_memberList` (address[]): every account ever admitted or seeded, in order, never shrinks
///   slot 4   `_members` (address => Member), a Member taking five slots: `account`; `name`;
///            `peerId`; `status` (uint8, byte 0) | `joinedAt` (uint64, 1-8) | `keyEpoch` (uint32, 9-12)
///            | `keyRotatedAt` (uint64, 13-20); `oprfKey`
///   slot 5   `_accountByPeerIdHash` (keccak256(peerId) => address)
///   slot 6   `_votingMemberCount` (uint256): members with a vote (Active, or suspended by a regulator)
///   slot 7   `_regulatorList` (address[]): current regulators, unordered (swap-and-pop on removal)
///   slot 8   `_regulatorPosition` (address => index in `_regulatorList` + 1; 0 = not a regulator)
///   slot 9   `_categories` (uint8 => Category): ids 1..63, assigned in order, never reused
///   slot 10  `_categoryIdByNameHash` (keccak256(name) => id): names are unique, retired ones stay taken
///   slot 11  `_policies` (uint8 => CategoryPolicy)
///   slot 12  `_proposalCount` (uint256): proposal ids are 1..count
///   slot 13  `_proposals` (uint256 => Proposal)
///   slot 14  `_voted` (proposal id => voter => bool)
///   slot 15  `_contributions` (address): the companion ContributionRegistry, zero until seeded
///   slot 16  `_ledger` (address): the companion QueryLedger, zero until seeded
///   slot 17  `_oprfKeys` (address => key epoch => OPRF key): every key a member held, written once
///            per (account, epoch) when it comes into force
///   slot 18  `_votingSince` (address => `_proposalCount` when the account last gained its vote): it
///            is entitled to vote on proposal p while it keeps its vote, if p > that count
///   slot 19  `_regulatorSuspendedUntil` (address => end of its regulator suspension; 0 = none)
///   slot 20  `_regulatorSuspensionLapse` (address => end of its latest regulator suspension, for the cooldown)
///   slot 21  `_regulatorSuspendedCount` (uint256)
///   slot 22  `_openProposalByHash` (keccak256(kind, payload) => latest proposal id with them)
///   slot 23  `_openProposalsOf` (proposer => ids of its proposals, pruned of closed ones at each propose)
///   slot 24  `_voters` (proposal id => voters, in order): read by {execute} and {countedVotes}, at
///            most the proposal's electorate long
///   slot 25  `_pendingAdmin` (address, bytes 0-19): nominated by {transferAdmin}, until it accepts
///            | `_proposalExecuted` (bool, byte 20): a proposal executed, so seeding is over for good
///   slot 26  `_admissionActiveFrom` (address => when its executed Admit may be activated; 0 unless Admitted)
///   slot 27  `_pause` (ConsortiumHolds.Pause, one slot): `until` (uint64, bytes 0-7), end of the
///            regulator's pause of lookups (0 = none, or lifted by a vote) | `lastPausedAt` (uint64,
///            8-15), when the latest pause began, for the consortium-wide cooldown
///   slot 28  `_activity` (address => ConsortiumHolds.Activity, one slot): `lastActionAt` (uint64, bytes 0-7), the
///            member's latest on-chain action (its propose, vote, execute or key rotation, a ledger batch
///            or a contribution snapshot) | `removedAt` (uint64, 8-15), when a Remove vote removed it
///            (0 = never) | `dormant` (bool, 16), marked by {markDormant}: no vote until it acts again
///            | `actions` (uint32, 17-20), a wrapping count of its recorded actions (see ConsortiumHolds)
///   slot 29  `_successor` (account => the account its member moved to by {rotateMemberKey}; 0 = none)
///   slot 30  `_predecessor` (account => the account its member moved from; 0 = none)
///   slot 31  `_warninglistHash` (bytes32): SHA-256 of the warninglists members should ship (0 = none
///            pinned), seeded by the admin or set by a SetWarninglistHash vote
contract ConsortiumRegistry is IConsortiumRegistry {
    /// @notice Role of Active members (derived from the member's status, never granted directly).
    bytes32 public constant MEMBER_ROLE = keccak256("MEMBER_ROLE");
    /// @notice Role of regulators: read everything, suspend a member at once.
    bytes32 public constant REGULATOR_ROLE = keccak256("REGULATOR_ROLE");
    /// @notice Role of the bootstrap admin, held by nobody once renounced.
    bytes32 public constant ADMIN_ROLE = keccak256("ADMIN_ROLE");

    /// @notice Highest category id: queries carry categories as a uint64 bitmask whose bit 0 is unused.
    uint8 public constant MAX_CATEGORIES = 63;
    /// @notice Longest member or category name, in bytes of UTF-8.
    uint256 public constant MAX_NAME_BYTES = 128;
    /// @notice Longest libp2p PeerId, in bytes (an identity multihash of a secp256k1 key is 39).
    uint256 public constant MAX_PEER_ID_BYTES = 64;
    /// @notice The key epoch length a new registry starts with: 90 days.
    uint64 public constant DEFAULT_KEY_EPOCH_LENGTH = 90 days;
    /// @notice Shortest key epoch length a vote may set.
    uint64 public constant MIN_KEY_EPOCH_LENGTH = 1 hours;
    /// @notice Longest key epoch length a vote may set: two years.
    uint64 public constant MAX_KEY_EPOCH_LENGTH = 730 days;

    /// @dev ABI-encoded length of the payload of each fixed-size proposal kind.
    uint256 private constant ONE_WORD = 32;
    uint256 private constant TWO_WORDS = 64;
    uint256 private constant POLICY_PAYLOAD_BYTES = 6 * 32;
    /// @dev Bit k set = ProposalKind k waits `_timelockDelay` between execute and enact: Remove (3),
    /// AddRegulator (4), RemoveRegulator (5), SetPolicy (6), RetireCategory (8), SetQuorum (10).
    uint256 private constant TIMELOCKED_KINDS = (1 << 3) | (1 << 4) | (1 << 5) | (1 << 6) | (1 << 8) | (1 << 10);

    address private _admin;
    uint64 private _keyEpochLength;
    uint16 private _quorumNumerator;
    uint16 private _quorumDenominator;
    uint8 private _categoryCount;
    uint256 private _activeMemberCount;
    address[] private _memberList;
    mapping(address account => RiskshareTypes.Member) private _members;
    mapping(bytes32 peerIdHash => address account) private _accountByPeerIdHash;
    uint256 private _votingMemberCount;
    address[] private _regulatorList;
    mapping(address account => uint256 positionPlusOne) private _regulatorPosition;
    mapping(uint8 categoryId => RiskshareTypes.Category) private _categories;
    mapping(bytes32 nameHash => uint8 categoryId) private _categoryIdByNameHash;
    mapping(uint8 categoryId => RiskshareTypes.CategoryPolicy) private _policies;
    uint256 private _proposalCount;
    mapping(uint256 proposalId => RiskshareTypes.Proposal) private _proposals;
    mapping(uint256 proposalId => mapping(address voter => bool)) private _voted;
    address private _contributions;
    address private _ledger;
    mapping(address account => mapping(uint32 keyEpoch => bytes32 oprfKey)) private _oprfKeys;
    mapping(address account => uint256 proposalCount) private _votingSince;
    mapping(address account => uint64 until) private _regulatorSuspendedUntil;
    mapping(address account => uint64 until) private _regulatorSuspensionLapse;
    uint256 private _regulatorSuspendedCount;
    mapping(bytes32 kindAndPayloadHash => uint256 proposalId) private _openProposalByHash;
    mapping(address proposer => uint256[] proposalIds) private _openProposalsOf;
    mapping(uint256 proposalId => address[] voters) private _voters;
    address private _pendingAdmin;
    bool private _proposalExecuted;
    mapping(address account => uint64 activeFrom) private _admissionActiveFrom;
    ConsortiumHolds.Pause private _pause;
    mapping(address account => ConsortiumHolds.Activity) private _activity;
    mapping(address account => address successor) private _successor;
    mapping(address account => address predecessor) private _predecessor;
    bytes32 private _warninglistHash;

    uint64 private immutable _votingPeriod;
    uint64 private immutable _maxRegulatorSuspension;
    uint64 private immutable _regulatorCooldown;
    uint8 private immutable _maxOpenProposals;
    uint64 private immutable _timelockDelay;
    uint64 private immutable _seedingEndsAt;
    uint64 private immutable _admissionDelay;
    uint64 private immutable _maxPause;
    uint64 private immutable _pauseCooldown;
    uint64 private immutable _dormancyPeriod;

    /// @param admin_ The bootstrap admin, who seeds the consortium and then renounces.
    /// @param quorumNumerator Numerator of the quorum fraction f (e.g. 2).
    /// @param quorumDenominator Denominator of f (e.g. 3).
    /// @param votingPeriodSeconds How long a proposal stays open for votes and execution.
    /// @param maxRegulatorSuspensionSeconds The longest a regulator may suspend a member (e.g. 14 days).
    /// @param regulatorCooldownSeconds How long after a regulator suspension lapses before a regulator
    /// may suspend the same member again (e.g. 30 days).
    /// @param maxOpenProposals How many open proposals one account may have at once (e.g. 3).
    /// @param timelockDelaySeconds How long an executed Remove, AddRegulator, RemoveRegulator,
    /// SetPolicy, RetireCategory or SetQuorum waits before {enact} applies it (e.g. 48 hours).
    /// @param seedWindowSeconds How long after deployment the admin may seed (e.g. 30 days); seeding
    /// also ends when a first proposal executes.
    /// @param admissionDelaySeconds How long after an Admit executes before the member may be activated,
    /// the window in which a regulator may veto it (e.g. 7 days).
    /// @param maxPauseSeconds The longest a regulator may pause every lookup (e.g. 72 hours).
    /// @param pauseCooldownSeconds How long after a pause began before any regulator may pause again
    /// (e.g. 30 days; counted for the whole consortium).
    /// @param dormancyPeriodSeconds How long a member may take no on-chain action before anyone may
    /// mark it dormant (e.g. 180 days).
    ///
    /// Requirements:
    /// - `admin_` is not the zero address.
    /// - 1/2 < `quorumNumerator` / `quorumDenominator` <= 3/4.
    /// - `votingPeriodSeconds` is not zero.
    /// - `maxRegulatorSuspensionSeconds`, `regulatorCooldownSeconds`, `maxOpenProposals`,
    ///   `admissionDelaySeconds`, `maxPauseSeconds` and `dormancyPeriodSeconds` are not zero;
    ///   `pauseCooldownSeconds` >= `maxPauseSeconds`.
    /// - `timelockDelaySeconds` and `seedWindowSeconds` are not zero.
    ///
    /// Emits an {AdminTransferred}, a {QuorumSet} and a {KeyEpochLengthSet} (DEFAULT_KEY_EPOCH_LENGTH) event.
    constructor(
        address admin_,
        uint16 quorumNumerator,
        uint16 quorumDenominator,
        uint64 votingPeriodSeconds,
        uint64 maxRegulatorSuspensionSeconds,
        uint64 regulatorCooldownSeconds,
        uint8 maxOpenProposals,
        uint64 timelockDelaySeconds,
        uint64 seedWindowSeconds,
        uint64 admissionDelaySeconds,
        uint64 maxPauseSeconds,
        uint64 pauseCooldownSeconds,
        uint64 dormancyPeriodSeconds
    ) {
        if (admin_ == address(0)) revert ConsortiumRegistryInvalidAddress(admin_);
        _checkQuorum(quorumNumerator, quorumDenominator);
        if (votingPeriodSeconds == 0) revert ConsortiumRegistryInvalidVotingPeriod(votingPeriodSeconds);
        if (
            maxRegulatorSuspensionSeconds == 0 || regulatorCooldownSeconds == 0 || maxOpenProposals == 0
                || admissionDelaySeconds == 0
                || maxPauseSeconds == 0 || pauseCooldownSeconds < maxPauseSeconds || dormancyPeriodSeconds == 0
        ) {
            revert ConsortiumRegistryInvalidGovernanceLimits();
        }
        _votingPeriod = votingPeriodSeconds;
        _maxRegulatorSuspension = maxRegulatorSuspensionSeconds;
        _regulatorCooldown = regulatorCooldownSeconds;
        _maxOpenProposals = maxOpenProposals;
        if (timelockDelaySeconds == 0 || seedWindowSeconds == 0) revert ConsortiumRegistryInvalidDelays();
        _timelockDelay = timelockDelaySeconds;
        _seedingEndsAt = uint64(block.timestamp) + seedWindowSeconds;
        _admissionDelay = admissionDelaySeconds;
        _maxPause = maxPauseSeconds;
        _pauseCooldown = pauseCooldownSeconds;
        _dormancyPeriod = dormancyPeriodSeconds;

        _admin = admin_;
        emit AdminTransferred(address(0), admin_);
        _quorumNumerator = quorumNumerator;
        _quorumDenominator = quorumDenominator;
        emit QuorumSet(quorumNumerator, quorumDenominator);
        _keyEpochLength = DEFAULT_KEY_EPOCH_LENGTH;
        emit KeyEpochLengthSet(DEFAULT_KEY_EPOCH_LENGTH);
    }

    // =====================================================================================
    // Bootstrap (admin only, until renounced)
    // =====================================================================================

    /// @notice Seeds a founding member, Active at once with `joinedAt` = now and `oprfKey` in force
    /// for key epoch 1. Unlike an Admit, a seeding carries no signature of the member and takes no
    /// delay: the bootstrap admin is trusted until it renounces (docs/GOVERNANCE.md), and a PeerId
    /// that is not the member's own key only keeps the member's node from being recognised.
    ///
    /// Requirements:
    /// - the caller is the admin, and the admin has not renounced.
    /// - seeding is open ({seedingEndsAt}).
    /// - `account` is not the zero address, was never a member (a Removed account never comes back)
    ///   and is not a regulator.
    /// - `name` is 1..MAX_NAME_BYTES bytes; `peerId` is 1..MAX_PEER_ID_BYTES bytes and not another
    ///   member's; `oprfKey` is not zero.
    ///
    /// Emits a {MemberActivated} event.
    function seedMember(address account, string calldata name, bytes calldata peerId, bytes32 oprfKey) external {
        _requireSeeding();
        _checkNewMember(account, name, peerId, oprfKey);
        _writeMember(account, name, peerId, oprfKey);
        _activate(account, _members[account]);
    }

    /// @notice Seeds a regulator.
    ///
    /// Requirements:
    /// - the caller is the admin, and the admin has not renounced.
    /// - seeding is open ({seedingEndsAt}).
    /// - `account` is not the zero address, not a regulator already, and holds no membership.
    ///
    /// Emits a {RegulatorAdded} event.
    function seedRegulator(address account) external {
        _requireSeeding();
        _checkNewRegulator(account);
        _addRegulator(account);
    }

    /// @notice Seeds a risk category, active at once; ids are assigned 1, 2, … 63.
    /// @return categoryId The new category's id.
    ///
    /// Requirements:
    /// - the caller is the admin, and the admin has not renounced.
    /// - seeding is open ({seedingEndsAt}).
    /// - fewer than MAX_CATEGORIES categories exist (retired ones count).
    /// - `name` is 1..MAX_NAME_BYTES bytes and no other category, active or retired, bears it.
    ///
    /// Emits a {CategoryAdded} event.
    function seedCategory(string calldata name) external returns (uint8 categoryId) {
        _requireSeeding();
        _checkNewCategory(name);
        return _addCategory(name);
    }

    /// @notice Seeds (or overwrites) the reciprocity policy of a category.
    ///
    /// Requirements:
    /// - the caller is the admin, and the admin has not renounced.
    /// - seeding is open ({seedingEndsAt}).
    /// - `categoryId` is a known, active category.
    /// - `policy_.maxSnapshotAge` is not zero, and at least one of `quotaBase`, `quotaRatioBps` is not.
    /// - `policy_.quotaCeiling` is not zero and at least `quotaBase`.
    ///
    /// Emits a {PolicySet} event, unless the policy equals the current one.
    function seedPolicy(uint8 categoryId, RiskshareTypes.CategoryPolicy calldata policy_) external {
        _requireSeeding();
        _checkPolicy(categoryId, policy_);
        _setPolicy(categoryId, policy_);
    }

    /// @notice Seeds (or overwrites) the hash of the warninglists members should ship (see {warninglistHash}).
    ///
    /// Requirements:
    /// - the caller is the admin, and the admin has not renounced.
    /// - seeding is open ({seedingEndsAt}).
    /// - `hash` is not zero.
    ///
    /// Emits a {WarninglistHashSet} event, unless `hash` is the current one.
    function seedWarninglistHash(bytes32 hash) external {
        _requireSeeding();
        _setWarninglistHash(hash);
    }

    /// @notice Names the ContributionRegistry and QueryLedger that defer to this registry, once, so
    /// that readers (auditors, regulators, nodes) need only the registry's address to find them.
    ///
    /// Requirements:
    /// - the caller is the admin, and the admin has not renounced.
    /// - seeding is open ({seedingEndsAt}).
    /// - the companions were not seeded before: they are fixed for the consortium's life.
    /// - neither address is zero.
    /// - `contributions` is a ContributionRegistry and `ledger` a QueryLedger (each answers a view
    ///   only its kind has, so the two cannot be swapped), and each one's `registry()` is this contract.
    ///
    /// Emits a {CompanionsSet} event.
    function seedCompanions(address contributions_, address ledger_) external {
        _requireSeeding();
        if (_contributions != address(0)) revert ConsortiumRegistryCompanionsAlreadySet(_contributions, _ledger);
        _checkCompanion(contributions_, abi.encodeCall(IContributionRegistry.latest, (address(0), 0)), 4 * 32);
        _checkCompanion(ledger_, abi.encodeCall(IQueryLedger.domainSeparator, ()), 32);
        _contributions = contributions_;
        _ledger = ledger_;
        emit CompanionsSet(contributions_, ledger_);
    }

    /// @notice Nominates `newAdmin` for the bootstrap admin role; the role moves only when the nominee
    /// calls {acceptAdmin}, so a mistyped address never takes it. A later call replaces the nominee;
    /// the zero address withdraws the nomination.
    ///
    /// Requirements:
    /// - the caller is the admin, and the admin has not renounced.
    ///
    /// Emits an {AdminTransferStarted} event, unless `newAdmin` is already the nominee.
    function transferAdmin(address newAdmin) external {
        _requireAdmin();
        if (newAdmin == _pendingAdmin) return;
        _pendingAdmin = newAdmin;
        emit AdminTransferStarted(msg.sender, newAdmin);
    }

    /// @notice Takes the bootstrap admin role the admin nominated the caller for.
    ///
    /// Requirements:
    /// - the caller is the nominee of {transferAdmin} (a renouncement withdraws every nomination).
    ///
    /// Emits an {AdminTransferred} event.
    function acceptAdmin() external {
        if (msg.sender != _pendingAdmin) revert ConsortiumRegistryNotPendingAdmin(msg.sender);
        address previousAdmin = _admin;
        _admin = msg.sender;
        delete _pendingAdmin;
        emit AdminTransferred(previousAdmin, msg.sender);
    }

    /// @notice Gives the bootstrap admin role up for good: from now on only votes change the registry.
    ///
    /// Requirements:
    /// - the caller is the admin, and the admin has not renounced.
    ///
    /// Emits an {AdminTransferred} event with `newAdmin` = the zero address (and withdraws a nomination).
    function renounceAdmin() external {
        _requireAdmin();
        address previousAdmin = _admin;
        _admin = address(0);
        delete _pendingAdmin;
        emit AdminTransferred(previousAdmin, address(0));
    }

    // =====================================================================================
    // Governance
    // =====================================================================================

    /// @notice Opens a proposal of `kind` with its ABI-encoded `payload` (see RiskshareTypes.ProposalKind)
    /// and, when the proposer is a voting member, counts its vote. The electorate E (the voting members
    /// now) and the quorum ({quorumFor}(E)) are fixed now; only members entitled now vote on it.
    /// An Admit proposal writes nothing: the candidate's record is written when it executes. It carries
    /// the candidate's public key and EIP-712 signature, checked here and again at execution.
    /// @return proposalId The new proposal's id (ids start at 1).
    ///
    /// Requirements:
    /// - the caller is a voting member (a dormant member wakes: proposing is an action), or a
    ///   regulator opening a Suspend or Remove proposal.
    /// - `payload` is the canonical ABI encoding of the kind's arguments.
    /// - the proposal would execute were it executed now (e.g. Admit names an account that was never a
    ///   member and is not a regulator, with a valid name and a free PeerId, a public key on secp256k1
    ///   that hashes to the account and that the PeerId encodes, signed by that key; Suspend names a voting
    ///   member; Reinstate one suspended by vote; Remove an Active or Suspended one; SetQuorum a
    ///   fraction in (1/2, 3/4]), and a Suspend or Remove leaves at least max(2, quorum) voting members.
    /// - no proposal with the same kind and payload is open.
    /// - the caller has fewer than `maxOpenProposals` open proposals.
    ///
    /// Emits a {ProposalCreated} event, then a {Voted} event when the proposer votes.
    function propose(RiskshareTypes.ProposalKind kind, bytes calldata payload)
        external
        returns (uint256 proposalId)
    {
        // A dormant member wakes by proposing: it votes again, this proposal included.
        bool proposerVotes = _hasVote(msg.sender);
        if (proposerVotes) _touch(msg.sender);
        if (!proposerVotes) {
            if (_regulatorPosition[msg.sender] == 0) revert ConsortiumRegistryNotVotingMember(msg.sender);
            if (kind != RiskshareTypes.ProposalKind.Suspend && kind != RiskshareTypes.ProposalKind.Remove) {
                revert ConsortiumRegistryRegulatorMayNotPropose(kind);
            }
        }
        bytes memory payloadCopy = payload;
        uint256 electorate = _votingMemberCount;
        uint32 quorum = _quorumFor(electorate);
        _checkProposal(kind, payloadCopy, quorum);

        bytes32 key = keccak256(abi.encode(kind, payloadCopy));
        uint256 twin = _openProposalByHash[key];
        // A queued twin still counts: the same change would be applied twice, or fail at enact.
        if (twin != 0 && _isPending(_proposals[twin])) revert ConsortiumRegistryDuplicateProposal(twin);
        _claimProposalSlot(msg.sender);

        proposalId = ++_proposalCount;
        _openProposalByHash[key] = proposalId;
        _openProposalsOf[msg.sender].push(proposalId);
        uint64 expiresAt = uint64(block.timestamp) + _votingPeriod;
        RiskshareTypes.Proposal storage p = _proposals[proposalId];
        p.kind = kind;
        p.proposer = msg.sender;
        p.createdAt = uint64(block.timestamp);
        p.expiresAt = expiresAt;
        p.quorum = quorum;
        p.electorate = uint32(electorate);
        p.payload = payloadCopy;
        emit ProposalCreated(proposalId, kind, msg.sender, expiresAt, quorum, payloadCopy);

        if (proposerVotes) _castVote(proposalId, p);
    }

    /// @notice Votes for an open proposal. There are no votes against: a proposal that does not
    /// reach its quorum before it expires simply lapses.
    ///
    /// Requirements:
    /// - the caller is a voting member, entitled to vote on this proposal: it held its vote when the
    ///   proposal was made and has kept it since.
    /// - the proposal exists, is not executed and has not expired.
    /// - the caller has not voted on it yet.
    ///
    /// Emits a {Voted} event.
    function vote(uint256 proposalId) external {
        if (!_isVotingMember(msg.sender)) revert ConsortiumRegistryNotVotingMember(msg.sender);
        RiskshareTypes.Proposal storage p = _openProposal(proposalId);
        if (_votingSince[msg.sender] >= proposalId) revert ConsortiumRegistryNotEntitled(proposalId, msg.sender);
        if (_voted[proposalId][msg.sender]) revert ConsortiumRegistryAlreadyVoted(proposalId, msg.sender);
        _touch(msg.sender);
        _castVote(proposalId, p);
    }

    /// @notice Carries out a proposal that reached its quorum. Anyone may call it: it only does what
    /// the members decided. Only votes of members still entitled count (a member suspended by vote or
    /// removed since it voted has lost its vote), and the registry's state is checked again, since it
    /// may have changed since the proposal was made (e.g. the member to suspend was removed meanwhile).
    /// A time-locked kind (Remove, AddRegulator, RemoveRegulator, SetPolicy, RetireCategory,
    /// SetQuorum) is not applied: it is Queued with `eta` = now + {timelockDelay}, for {enact}. The
    /// first execution ends seeding for good.
    ///
    /// Requirements:
    /// - the proposal exists, is not executed and has not expired.
    /// - its counted votes reach its quorum.
    /// - its effect is still valid (same rules as at {propose}).
    ///
    /// Emits the event of its effect (e.g. {MemberAdmitted}, {MemberSuspended}; none when the effect
    /// changes nothing), then a {ProposalExecuted} event; for a time-locked kind, a {ProposalQueued}
    /// event instead of the effect's, then a {ProposalExecuted} event.
    function execute(uint256 proposalId) external {
        RiskshareTypes.Proposal storage p = _openProposal(proposalId);
        uint32 counted = _countVotes(proposalId, p.quorum);
        if (counted < p.quorum) revert ConsortiumRegistryQuorumNotReached(proposalId, counted, p.quorum);
        p.executed = true;
        _proposalExecuted = true;
        // Recorded for any caller: only a member's record is ever read, and a dormant one wakes.
        _touch(msg.sender);
        if ((TIMELOCKED_KINDS >> uint8(p.kind)) & 1 == 0) {
            p.status = RiskshareTypes.ProposalStatus.Executed;
            _applyProposal(p.kind, p.payload, p.quorum);
        } else {
            _checkProposal(p.kind, p.payload, p.quorum);
            uint64 eta = uint64(block.timestamp) + _timelockDelay;
            p.status = RiskshareTypes.ProposalStatus.Queued;
            p.eta = eta;
            emit ProposalQueued(proposalId, eta);
        }
        emit ProposalExecuted(proposalId);
    }

    /// @notice Applies a Queued proposal once its delay is over. Anyone may call it. The registry's
    /// state is checked again (e.g. a Remove must still leave max(2, quorum) voting members): a
    /// proposal that cannot apply now reverts with the reason, may be enacted later while its window
    /// lasts, and lapses one voting period after its eta.
    ///
    /// Requirements:
    /// - the proposal is Queued, its `eta` has come, and less than a voting period has passed since.
    /// - its effect is valid now (same rules as at {propose}).
    ///
    /// Emits the event of its effect (none when it changes nothing), then a {ProposalEnacted} event.
    function enact(uint256 proposalId) external {
        RiskshareTypes.Proposal storage p = _existingProposal(proposalId);
        if (p.status != RiskshareTypes.ProposalStatus.Queued) revert ConsortiumRegistryProposalNotQueued(proposalId);
        uint64 eta = p.eta;
        if (block.timestamp < eta) revert ConsortiumRegistryProposalTimelocked(proposalId, eta);
        if (!_isQueued(p)) revert ConsortiumRegistryProposalLapsed(proposalId, eta + _votingPeriod);
        p.status = RiskshareTypes.ProposalStatus.Enacted;
        _applyProposal(p.kind, p.payload, p.quorum);
        emit ProposalEnacted(proposalId);
    }

    // =====================================================================================
    // Members
    // =====================================================================================

    /// @notice Puts `newKey` in force as the caller's OPRF public key for its next key epoch. The
    /// previous keys stay readable through {oprfKeyOf}, so answers given under them still verify.
    ///
    /// Requirements:
    /// - the caller is an Active or Suspended member (a suspended member keeps its duties, and a
    ///   key it suspects leaked must be replaceable at once).
    /// - `newKey` is not zero and is not the key in force.
    ///
    /// Emits an {OprfKeyRotated} event.
    function rotateOprfKey(bytes32 newKey) external {
        RiskshareTypes.Member storage m = _members[msg.sender];
        RiskshareTypes.MemberStatus status = m.status;
        if (status != RiskshareTypes.MemberStatus.Active && status != RiskshareTypes.MemberStatus.Suspended) {
            revert ConsortiumRegistryInvalidStatus(msg.sender, status);
        }
        if (newKey == bytes32(0)) revert ConsortiumRegistryInvalidOprfKey();
        uint32 epoch = m.keyEpoch;
        if (newKey == m.oprfKey) revert ConsortiumRegistryOprfKeyUnchanged(msg.sender, epoch);
        epoch += 1;
        m.keyEpoch = epoch;
        m.keyRotatedAt = uint64(block.timestamp);
        m.oprfKey = newKey;
        _oprfKeys[msg.sender][epoch] = newKey;
        emit OprfKeyRotated(msg.sender, epoch, newKey);
        _touch(msg.sender);
    }

    /// @notice Moves the caller's membership to `newAccount`, a fresh member key (a key feared exposed,
    /// an HSM migration): the same member, with its name, `joinedAt` and vote, under a new account,
    /// PeerId and OPRF key. The caller's transaction is the old key's consent; `signature` is the new
    /// key's, an EIP-712 KeyRotation(oldAccount, newAccount, peerId, publicKey, oprfKey) for this
    /// registry on this chain, checked as an admission request is (AdmissionVerifier.checkRotation).
    /// The old account becomes Rotated: it keeps its PeerId, its OPRF keys per epoch (answers given
    /// under them still verify against it) and may land its last ledger batches for the ledger's
    /// removal grace. `oprfKey` is in force from now for the old account's key epoch + 1. The new
    /// account keeps the old one's entitlement: it may vote on the proposals the old one could, and
    /// only its own votes count (the old account's no longer do, so the member votes again). The old
    /// account's open proposals still count against the member's `maxOpenProposals`.
    ///
    /// Requirements:
    /// - the caller is an Active member (not suspended, by vote or by a regulator: neither
    ///   suspension is escaped by moving); a dormant caller wakes.
    /// - no Suspend or Remove proposal naming the caller is open or queued (its own included: a twin
    ///   of it cannot be opened meanwhile, so it would shield the member from the vote).
    /// - `newAccount` was never seen by the registry (never a member or candidate) and is not a regulator.
    /// - `publicKey` is on secp256k1 and hashes to `newAccount`; `peerId` encodes it and is free;
    ///   `signature` is `newAccount`'s (low s); `oprfKey` is not zero.
    ///
    /// Emits a {MemberKeyRotated} event.
    function rotateMemberKey(
        address newAccount,
        bytes calldata peerId,
        bytes calldata publicKey,
        bytes32 oprfKey,
        bytes calldata signature
    ) external {
        _requireStatus(msg.sender, RiskshareTypes.MemberStatus.Active);
        _checkNotNamed(RiskshareTypes.ProposalKind.Suspend);
        _checkNotNamed(RiskshareTypes.ProposalKind.Remove);
        if (_regulatorPosition[newAccount] != 0) revert ConsortiumRegistryRegulatorExists(newAccount);
        _touch(msg.sender);
        AdmissionVerifier.rotate(
            _members, _accountByPeerIdHash, _oprfKeys, _openProposalsOf, newAccount, peerId, publicKey, oprfKey, signature
        );
        _memberList.push(newAccount);
        // The counts of active and voting members do not change: the same member holds the vote.
        _votingSince[newAccount] = _votingSince[msg.sender];
        _regulatorSuspensionLapse[newAccount] = _regulatorSuspensionLapse[msg.sender];
        _activity[newAccount].lastActionAt = uint64(block.timestamp);
        // The ledger gives the old account a removed provider's window for its last batches.
        _activity[msg.sender].removedAt = uint64(block.timestamp);
        _successor[msg.sender] = newAccount;
        _predecessor[newAccount] = msg.sender;
    }

    /// @notice The account the member of `account` moved to by {rotateMemberKey}; zero if it did not.
    function successorOf(address account) external view returns (address) {
        return _successor[account];
    }

    /// @notice The account the member of `account` moved from by {rotateMemberKey}; zero if none.
    function predecessorOf(address account) external view returns (address) {
        return _predecessor[account];
    }

    /// @notice Marks a voting member that took no on-chain action for the dormancy period as dormant:
    /// it loses its vote (and its place in the electorate of proposals made from now on) until its
    /// next action, which wakes it. Its lookups, ledger batches and snapshots are unaffected. Anyone
    /// may call it.
    ///
    /// Requirements:
    /// - `account` is a voting member, not dormant already.
    /// - its last action lies at least `dormancyPeriodSeconds` in the past.
    /// - at least max(2, {quorumFor}(voting members)) voting members remain.
    ///
    /// Emits a {MemberDormant} event.
    function markDormant(address account) external {
        if (!_isVotingMember(account)) revert ConsortiumRegistryNotVotingMember(account);
        uint256 voting = _votingMemberCount;
        ConsortiumHolds.markDormant(_activity[account], account, _dormancyPeriod, voting, _quorumFor(voting));
        _votingMemberCount = voting - 1;
    }

    /// @notice The companion QueryLedger and ContributionRegistry report through this that `account`
    /// acted through them (a ledger batch, a snapshot): a member's activity is recorded, and a dormant
    /// one wakes. From any other caller it records nothing and only reads.
    /// @return status `account`'s status.
    /// @return removedAt When a Remove vote removed it (0 if none did).
    ///
    /// Emits a {MemberAwake} event when a dormant member wakes.
    function noteCompanionActivity(address account)
        external
        returns (RiskshareTypes.MemberStatus status, uint64 removedAt)
    {
        status = _members[account].status;
        if (
            (msg.sender == _ledger || msg.sender == _contributions)
                && (status == RiskshareTypes.MemberStatus.Active || status == RiskshareTypes.MemberStatus.Suspended)
        ) _touch(account);
        return (status, _activity[account].removedAt);
    }

    /// @notice Brings an executed admission into force once the admission delay is over: the member
    /// is Active, with a vote (on proposals made from now on), and its OPRF key in force for epoch 1.
    /// Anyone may call it (the new member itself, typically).
    ///
    /// Requirements:
    /// - `account` is Admitted and its `activeFrom` has come.
    ///
    /// Emits a {MemberActivated} event.
    function activate(address account) external {
        _requireStatus(account, RiskshareTypes.MemberStatus.Admitted);
        uint64 activeFrom = _admissionActiveFrom[account];
        if (block.timestamp < activeFrom) revert ConsortiumRegistryAdmissionPending(account, activeFrom);
        delete _admissionActiveFrom[account];
        _activate(account, _members[account]);
    }

    // =====================================================================================
    // Regulator
    // =====================================================================================

    /// @notice Vetoes an executed admission before it comes into force. The account returns to None:
    /// its name, PeerId and OPRF key are cleared and its PeerId is free again, so that the institution
    /// may be proposed afresh (a new vote, a new delay); it stays in the member list ({memberAt}).
    ///
    /// Requirements:
    /// - the caller is a regulator.
    /// - `account` is Admitted and its `activeFrom` has not come.
    ///
    /// Emits an {AdmissionVetoed} event with `reason`.
    function vetoAdmission(address account, bytes32 reason) external {
        _checkRegulator(msg.sender);
        _requireStatus(account, RiskshareTypes.MemberStatus.Admitted);
        uint64 activeFrom = _admissionActiveFrom[account];
        if (block.timestamp >= activeFrom) revert ConsortiumRegistryVetoWindowClosed(account, activeFrom);
        delete _admissionActiveFrom[account];
        RiskshareTypes.Member storage m = _members[account];
        delete _accountByPeerIdHash[keccak256(m.peerId)];
        // `account` stays set: it marks the account as listed in `_memberList` already.
        m.status = RiskshareTypes.MemberStatus.None;
        delete m.name;
        delete m.peerId;
        m.keyEpoch = 0;
        m.oprfKey = bytes32(0);
        emit AdmissionVetoed(account, msg.sender, reason);
    }

    /// @notice Suspends an Active member's lookups until `until`, without a vote. The member keeps
    /// its vote and its place in every electorate; nodes refuse its lookups while its status is
    /// Suspended. After `until`, anyone ends the suspension with {endSuspension}.
    ///
    /// Requirements:
    /// - the caller is a regulator.
    /// - `account` is an Active member.
    /// - now < `until` <= now + `maxRegulatorSuspensionSeconds`.
    /// - no regulator suspension of `account` lapsed less than `regulatorCooldownSeconds` ago.
    /// - regulators together hold fewer than max(1, voting members / 3) members suspended.
    ///
    /// Emits a {MemberSuspended} event with `by` = the regulator and `until`.
    function regulatorSuspend(address account, uint64 until) external {
        if (_regulatorPosition[msg.sender] == 0) revert ConsortiumRegistryNotRegulator(msg.sender);
        _requireStatus(account, RiskshareTypes.MemberStatus.Active);
        uint64 latest = uint64(block.timestamp) + _maxRegulatorSuspension;
        if (until <= block.timestamp || until > latest) revert ConsortiumRegistryInvalidSuspensionEnd(until, latest);
        uint64 lapse = _regulatorSuspensionLapse[account];
        if (lapse != 0 && block.timestamp < uint256(lapse) + _regulatorCooldown) {
            revert ConsortiumRegistrySuspensionCooldown(account, lapse + _regulatorCooldown);
        }
        uint256 limit = _regulatorSuspensionLimit();
        if (_regulatorSuspendedCount >= limit) revert ConsortiumRegistryRegulatorSuspensionLimit(limit);

        _members[account].status = RiskshareTypes.MemberStatus.Suspended;
        _activeMemberCount -= 1;
        _regulatorSuspendedUntil[account] = until;
        _regulatorSuspensionLapse[account] = until;
        _regulatorSuspendedCount += 1;
        emit MemberSuspended(account, msg.sender, until);
    }

    /// @notice Ends a regulator's suspension once its time is over: the member is Active again.
    /// Anyone may call it (the member itself, typically).
    ///
    /// Requirements:
    /// - a regulator holds `account` suspended, and its `until` has come.
    ///
    /// Emits a {MemberReinstated} event.
    function endSuspension(address account) external {
        uint64 until = _regulatorSuspendedUntil[account];
        if (until == 0) revert ConsortiumRegistryNotRegulatorSuspended(account);
        if (block.timestamp < until) revert ConsortiumRegistrySuspensionNotOver(account, until);
        _clearRegulatorSuspension(account);
        _members[account].status = RiskshareTypes.MemberStatus.Active;
        _activeMemberCount += 1;
        emit MemberReinstated(account);
    }

    /// @notice Pauses every lookup of the consortium until `until`, without a vote: nodes refuse and
    /// do not send lookups meanwhile (ledger batches, snapshots and votes go on). An Unpause vote lifts
    /// it earlier. One pause per `pauseCooldownSeconds`, counted from its start for the whole
    /// consortium, so several regulators cannot chain pauses.
    ///
    /// Requirements:
    /// - the caller is a regulator.
    /// - now < `until` <= now + `maxPauseSeconds`.
    /// - no pause began less than `pauseCooldownSeconds` ago.
    ///
    /// Emits a {ConsortiumPaused} event.
    function regulatorPause(uint64 until) external {
        _checkRegulator(msg.sender);
        ConsortiumHolds.pause(_pause, _maxPause, _pauseCooldown, until);
    }

    // =====================================================================================
    // Views
    // =====================================================================================

    /// @notice End of the regulator's pause of lookups: lookups are paused while now < this. 0 if never
    /// paused or lifted by a vote.
    function pausedUntil() external view returns (uint64) {
        return _pause.until;
    }

    /// @notice `account`'s latest on-chain action (its own governance calls, ledger batches and
    /// snapshots; its admission or reinstatement), whether it is marked dormant, and when a Remove vote
    /// removed it (0 if none did). {markDormant} accepts it from lastActionAt + the dormancy period.
    function activityOf(address account) external view returns (uint64 lastActionAt, bool dormant, uint64 removedAt) {
        ConsortiumHolds.Activity storage a = _activity[account];
        return (a.lastActionAt, a.dormant, a.removedAt);
    }

    /// @notice The bootstrap admin, or the zero address once renounced.
    function admin() external view returns (address) {
        return _admin;
    }

    /// @notice The account nominated for the admin role until it accepts; the zero address if none.
    function pendingAdmin() external view returns (address) {
        return _pendingAdmin;
    }

    /// @notice Seconds between {execute} and the earliest {enact} of a time-locked kind.
    function timelockDelay() external view returns (uint64) {
        return _timelockDelay;
    }

    /// @notice When seed* calls stop: deployment + the seeding window, or 0 once a proposal executed.
    function seedingEndsAt() external view returns (uint64) {
        return _proposalExecuted ? 0 : _seedingEndsAt;
    }

    /// @notice The ContributionRegistry bound to this registry, or the zero address until seeded.
    function contributions() external view returns (address) {
        return _contributions;
    }

    /// @notice The QueryLedger bound to this registry, or the zero address until seeded.
    function ledger() external view returns (address) {
        return _ledger;
    }

    /// @notice Whether `account` is an Active member (holds MEMBER_ROLE).
    function isActiveMember(address account) external view returns (bool) {
        return _members[account].status == RiskshareTypes.MemberStatus.Active;
    }

    /// @notice The lifecycle status of `account` (None for an account the registry never saw).
    function memberStatus(address account) external view returns (RiskshareTypes.MemberStatus) {
        return _members[account].status;
    }

    /// @notice Whether `account` is a regulator.
    function isRegulator(address account) external view returns (bool) {
        return _regulatorPosition[account] != 0;
    }

    /// @notice Whether `account` holds `role` (MEMBER_ROLE, REGULATOR_ROLE or ADMIN_ROLE); false for
    /// any other role.
    function hasRole(bytes32 role, address account) external view returns (bool) {
        if (role == MEMBER_ROLE) return _members[account].status == RiskshareTypes.MemberStatus.Active;
        if (role == REGULATOR_ROLE) return _regulatorPosition[account] != 0;
        if (role == ADMIN_ROLE) return account != address(0) && account == _admin;
        return false;
    }

    /// @notice The member record of `account`; status None (and empty fields) if it never was one.
    function member(address account) external view returns (RiskshareTypes.Member memory) {
        return _members[account];
    }

    /// @notice The member record bound to `peerId`; status None (and empty fields) if none is.
    function memberByPeerId(bytes calldata peerId) external view returns (RiskshareTypes.Member memory) {
        return _members[_accountByPeerIdHash[keccak256(peerId)]];
    }

    /// @notice How many accounts were ever seeded or admitted as members (any status).
    function memberCount() external view returns (uint256) {
        return _memberList.length;
    }

    /// @notice The `index`-th account ever seeded or admitted (0-based, in order), for off-chain caches.
    ///
    /// Requirements:
    /// - `index` < {memberCount}.
    function memberAt(uint256 index) external view returns (RiskshareTypes.Member memory) {
        uint256 count = _memberList.length;
        if (index >= count) revert ConsortiumRegistryIndexOutOfRange(index, count);
        return _members[_memberList[index]];
    }

    /// @notice How many members are Active now (may look up; a regulator's suspension stops that).
    function activeMemberCount() external view returns (uint256) {
        return _activeMemberCount;
    }

    /// @notice How many members have a vote now: Active ones and those a regulator suspended.
    function votingMemberCount() external view returns (uint256) {
        return _votingMemberCount;
    }

    /// @notice Whether `account` has a vote: it is Active, or suspended by a regulator.
    function isVotingMember(address account) external view returns (bool) {
        return _isVotingMember(account);
    }

    /// @notice The end of `account`'s regulator suspension (0 if no regulator holds it suspended), and
    /// the earliest time a regulator may suspend it again (0 if none ever did).
    function regulatorSuspension(address account) external view returns (uint64 until, uint64 notBefore) {
        uint64 lapse = _regulatorSuspensionLapse[account];
        return (_regulatorSuspendedUntil[account], lapse == 0 ? 0 : lapse + _regulatorCooldown);
    }

    /// @notice How many members regulators hold suspended now (lapsed ones count until ended).
    function regulatorSuspendedCount() external view returns (uint256) {
        return _regulatorSuspendedCount;
    }

    /// @notice The limits fixed at deployment: the longest regulator suspension, the cooldown after
    /// one, and how many open proposals one account may have.
    function governanceLimits()
        external
        view
        returns (uint64 maxRegulatorSuspensionSeconds, uint64 regulatorCooldownSeconds, uint8 maxOpenProposals)
    {
        return (_maxRegulatorSuspension, _regulatorCooldown, _maxOpenProposals);
    }

    /// @notice The quorum of a proposal made with `electorate` voting members, under the current
    /// fraction f: max(floor(E/2)+1, ceil(E*f)), capped at E-1 when E >= 3.
    function quorumFor(uint256 electorate) external view returns (uint32) {
        return _quorumFor(electorate);
    }

    /// @notice The votes on `proposalId` that count now: cast by members still entitled to vote on it.
    ///
    /// Requirements:
    /// - `proposalId` is 1..{proposalCount}.
    function countedVotes(uint256 proposalId) external view returns (uint32) {
        _existingProposal(proposalId);
        return _countVotes(proposalId, type(uint32).max);
    }

    /// @notice Whether `account` may vote on `proposalId` (or, having voted, whether its vote counts):
    /// it held its vote when the proposal was made and has kept it since.
    function isEntitled(uint256 proposalId, address account) external view returns (bool) {
        return _isEntitled(proposalId, account);
    }

    /// @notice The current regulators, in no particular order.
    function regulators() external view returns (address[] memory) {
        return _regulatorList;
    }

    /// @notice The category `categoryId`.
    ///
    /// Requirements:
    /// - `categoryId` is 1..{categoryCount}.
    function category(uint8 categoryId) external view returns (RiskshareTypes.Category memory) {
        _requireKnownCategory(categoryId);
        return _categories[categoryId];
    }

    /// @notice Whether `categoryId` exists and is not retired; false for unknown ids.
    function isActiveCategory(uint8 categoryId) external view returns (bool) {
        return _categories[categoryId].active;
    }

    /// @notice How many categories exist, retired ones included; ids are 1..categoryCount.
    function categoryCount() external view returns (uint8) {
        return _categoryCount;
    }

    /// @notice The reciprocity policy of `categoryId`; all zero until one is set.
    ///
    /// Requirements:
    /// - `categoryId` is 1..{categoryCount}.
    function policy(uint8 categoryId) external view returns (RiskshareTypes.CategoryPolicy memory) {
        _requireKnownCategory(categoryId);
        return _policies[categoryId];
    }

    /// @notice Seconds after which a member should rotate its OPRF key: DEFAULT_KEY_EPOCH_LENGTH at
    /// deployment, then as the latest SetKeyEpochLength vote set it. Advisory: nodes report an
    /// older key in their health; nothing here refuses one.
    function keyEpochLength() external view returns (uint64) {
        return _keyEpochLength;
    }

    /// @notice The SHA-256 of the warninglists the consortium pinned (`riskshare list warninglists`
    /// shows a build's); zero when none is. Advisory: each node enforces only the lists it ships and
    /// reports in its health a hash that differs; nothing here refuses anything.
    function warninglistHash() external view returns (bytes32) {
        return _warninglistHash;
    }

    /// @notice The key epoch of `account`'s OPRF key in force; 0 for an account never seeded or admitted.
    function keyEpochOf(address account) external view returns (uint32) {
        return _members[account].keyEpoch;
    }

    /// @notice The OPRF public key `account` held in `keyEpoch`; zero when it held none (an unknown
    /// account or epoch).
    function oprfKeyOf(address account, uint32 keyEpoch) external view returns (bytes32) {
        return _oprfKeys[account][keyEpoch];
    }

    /// @notice How long after an Admit executes before the member may be activated: the window in
    /// which a regulator may veto it.
    function admissionDelay() external view returns (uint64) {
        return _admissionDelay;
    }

    /// @notice When `account`'s executed admission may be activated (and a veto is no longer
    /// possible); 0 unless it is Admitted.
    function admissionActiveFrom(address account) external view returns (uint64) {
        return _admissionActiveFrom[account];
    }

    /// @notice The EIP-712 domain separator a candidate signs its admission request under: name
    /// "riskshare", version "1", this chain, this registry.
    function admissionDomainSeparator() external view returns (bytes32) {
        return AdmissionVerifier.domainSeparator(address(this));
    }

    /// @notice The quorum fraction f of the electorate (see {quorumFor}).
    function quorumFraction() external view returns (uint16 numerator, uint16 denominator) {
        return (_quorumNumerator, _quorumDenominator);
    }

    /// @notice How long a proposal stays open, in seconds.
    function votingPeriod() external view returns (uint64) {
        return _votingPeriod;
    }

    /// @notice The proposal `proposalId`.
    ///
    /// Requirements:
    /// - `proposalId` is 1..{proposalCount}.
    function proposal(uint256 proposalId) external view returns (RiskshareTypes.Proposal memory) {
        return _existingProposal(proposalId);
    }

    /// @notice How many proposals were made; ids are 1..proposalCount.
    function proposalCount() external view returns (uint256) {
        return _proposalCount;
    }

    /// @notice Whether `voter` voted for `proposalId` (false for unknown proposals).
    function hasVoted(uint256 proposalId, address voter) external view returns (bool) {
        return _voted[proposalId][voter];
    }

    // =====================================================================================
    // Internal: access checks
    // =====================================================================================

    function _requireAdmin() private view {
        address current = _admin;
        if (current == address(0)) revert ConsortiumRegistryAdminRenounced();
        if (msg.sender != current) revert ConsortiumRegistryNotAdmin(msg.sender);
    }

    /// @dev The admin, while no proposal has executed and the seeding window lasts.
    function _requireSeeding() private view {
        _requireAdmin();
        if (_proposalExecuted || block.timestamp >= _seedingEndsAt) revert ConsortiumRegistrySeedingClosed();
    }

    /// @dev Holds a vote unless dormant: Active, or suspended by a regulator (which stops lookups only).
    function _hasVote(address account) private view returns (bool) {
        RiskshareTypes.MemberStatus status = _members[account].status;
        return status == RiskshareTypes.MemberStatus.Active
            || (status == RiskshareTypes.MemberStatus.Suspended && _regulatorSuspendedUntil[account] != 0);
    }

    /// @dev Votes now: holds a vote and is not dormant.
    function _isVotingMember(address account) private view returns (bool) {
        return _hasVote(account) && !_activity[account].dormant;
    }

    /// @dev Records an action of a member; a dormant one wakes, voting on proposals made from now on.
    function _touch(address account) private {
        ConsortiumHolds.Activity storage a = _activity[account];
        a.lastActionAt = uint64(block.timestamp);
        unchecked {
            a.actions += 1;
        }
        if (a.dormant) {
            a.dormant = false;
            _giveVote(account);
            emit MemberAwake(account);
        }
    }

    /// @dev A voting member that gained its vote before `proposalId` was made and kept it since
    /// (losing it, by a suspension vote or a removal, voids its votes; regaining it moves `_votingSince`).
    function _isEntitled(uint256 proposalId, address account) private view returns (bool) {
        return _isVotingMember(account) && _votingSince[account] < proposalId;
    }

    function _isOpen(RiskshareTypes.Proposal storage p) private view returns (bool) {
        return !p.executed && block.timestamp < p.expiresAt;
    }

    /// @dev Queued and not lapsed: enactable (once its eta has come) until a voting period after its eta.
    function _isQueued(RiskshareTypes.Proposal storage p) private view returns (bool) {
        return p.status == RiskshareTypes.ProposalStatus.Queued && block.timestamp < uint256(p.eta) + _votingPeriod;
    }

    /// @dev Open for votes, or queued: what the duplicate rule looks at.
    function _isPending(RiskshareTypes.Proposal storage p) private view returns (bool) {
        return _isOpen(p) || _isQueued(p);
    }

    /// @dev Counts the votes of `proposalId` cast by members still entitled, stopping at `enough`.
    /// Bounded: only entitled members vote, so at most the proposal's electorate are read.
    function _countVotes(uint256 proposalId, uint32 enough) private view returns (uint32 counted) {
        address[] storage voters = _voters[proposalId];
        uint256 length = voters.length;
        for (uint256 i = 0; i < length && counted < enough; ++i) {
            if (_isEntitled(proposalId, voters[i])) counted += 1;
        }
    }

    /// @dev Drops `proposer`'s closed proposals from its list (at most `_maxOpenProposals` long), then
    /// reverts unless a slot is free.
    function _claimProposalSlot(address proposer) private {
        uint256[] storage ids = _openProposalsOf[proposer];
        uint256 i = 0;
        while (i < ids.length) {
            if (_isOpen(_proposals[ids[i]])) {
                ++i;
            } else {
                ids[i] = ids[ids.length - 1];
                ids.pop();
            }
        }
        if (ids.length >= _maxOpenProposals) revert ConsortiumRegistryTooManyOpenProposals(proposer, _maxOpenProposals);
    }

    /// @dev max(1, floor(voting members / 3)).
    function _regulatorSuspensionLimit() private view returns (uint256) {
        uint256 third = _votingMemberCount / 3;
        return third == 0 ? 1 : third;
    }

    function _requireStatus(address account, RiskshareTypes.MemberStatus expected) private view {
        RiskshareTypes.MemberStatus status = _members[account].status;
        if (status != expected) revert ConsortiumRegistryInvalidStatus(account, status);
    }

    /// @dev Reverts while a proposal of `kind` (Suspend or Remove) naming the caller is open or queued,
    /// whoever made it: the member's own would otherwise shield it (no twin may be opened meanwhile).
    function _checkNotNamed(RiskshareTypes.ProposalKind kind) private view {
        uint256 id = _openProposalByHash[keccak256(abi.encode(kind, abi.encode(msg.sender)))];
        if (id != 0 && _isPending(_proposals[id])) {
            revert ConsortiumRegistryRotationBlocked(id);
        }
    }

    function _requireKnownCategory(uint8 categoryId) private view {
        if (categoryId == 0 || categoryId > _categoryCount) revert ConsortiumRegistryCategoryUnknown(categoryId);
    }

    function _requireActiveCategory(uint8 categoryId) private view {
        _requireKnownCategory(categoryId);
        if (!_categories[categoryId].active) revert ConsortiumRegistryCategoryInactive(categoryId);
    }

    function _existingProposal(uint256 proposalId) private view returns (RiskshareTypes.Proposal storage p) {
        if (proposalId == 0 || proposalId > _proposalCount) revert ConsortiumRegistryProposalUnknown(proposalId);
        return _proposals[proposalId];
    }

    /// @dev A proposal that exists, is not executed and has not expired (expiry is exclusive:
    /// at `expiresAt` the proposal is already closed).
    function _openProposal(uint256 proposalId) private view returns (RiskshareTypes.Proposal storage p) {
        p = _existingProposal(proposalId);
        if (p.executed) revert ConsortiumRegistryProposalExecuted(proposalId);
        if (block.timestamp >= p.expiresAt) revert ConsortiumRegistryProposalExpired(proposalId, p.expiresAt);
    }

    // =====================================================================================
    // Internal: validation shared by seeding, proposing and executing
    // =====================================================================================

    /// @dev Whether `account` holds a membership: Active or Suspended, or Admitted (not yet in force).
    function _holdsMembership(address account) private view returns (bool) {
        RiskshareTypes.MemberStatus status = _members[account].status;
        return status == RiskshareTypes.MemberStatus.Active || status == RiskshareTypes.MemberStatus.Suspended
            || status == RiskshareTypes.MemberStatus.Admitted;
    }

    /// @dev A PeerId stays bound to its member for good, a Removed one included (so peers still
    /// recognise, and refuse, its node); records exist only for admitted members, so a proposal
    /// binds nothing.
    function _checkNewMember(address account, string memory name, bytes memory peerId, bytes32 oprfKey) private view {
        if (account == address(0)) revert ConsortiumRegistryInvalidAddress(account);
        if (oprfKey == bytes32(0)) revert ConsortiumRegistryInvalidOprfKey();
        if (_members[account].status == RiskshareTypes.MemberStatus.Removed) revert ConsortiumRegistryMemberRemoved(account);
        if (_holdsMembership(account) || _members[account].status == RiskshareTypes.MemberStatus.Rotated) revert ConsortiumRegistryMemberExists(account, _members[account].status);
        if (_regulatorPosition[account] != 0) revert ConsortiumRegistryRegulatorExists(account);
        _checkName(bytes(name));
        if (peerId.length == 0 || peerId.length > MAX_PEER_ID_BYTES) revert ConsortiumRegistryInvalidPeerId();
        if (_accountByPeerIdHash[keccak256(peerId)] != address(0)) revert ConsortiumRegistryPeerIdTaken(peerId);
    }

    function _checkName(bytes memory name) private pure {
        if (name.length == 0 || name.length > MAX_NAME_BYTES) revert ConsortiumRegistryInvalidName();
    }

    function _checkNewRegulator(address account) private view {
        if (account == address(0)) revert ConsortiumRegistryInvalidAddress(account);
        if (_regulatorPosition[account] != 0) revert ConsortiumRegistryRegulatorExists(account);
        if (_holdsMembership(account) || _members[account].status == RiskshareTypes.MemberStatus.Rotated) {
            revert ConsortiumRegistryMemberExists(account, _members[account].status);
        }
    }

    function _checkNewCategory(string memory name) private view {
        if (_categoryCount >= MAX_CATEGORIES) revert ConsortiumRegistryCategoryLimit();
        _checkName(bytes(name));
        uint8 existing = _categoryIdByNameHash[keccak256(bytes(name))];
        if (existing != 0) revert ConsortiumRegistryCategoryExists(existing);
    }

    function _checkPolicy(uint8 categoryId, RiskshareTypes.CategoryPolicy memory policy_) private view {
        _requireActiveCategory(categoryId);
        if (
            policy_.maxSnapshotAge == 0 || (policy_.quotaBase == 0 && policy_.quotaRatioBps == 0)
                || policy_.quotaCeiling == 0 || policy_.quotaCeiling < policy_.quotaBase
        ) {
            revert ConsortiumRegistryInvalidPolicy(categoryId);
        }
    }

    /// @dev Reverts unless `account` is a contract whose `registry()` returns this registry and that
    /// answers `probe`, a view only the expected kind of companion has, with `probeReturnBytes` bytes.
    /// Low-level calls, so that an account without code, or a contract without these views, gives
    /// ConsortiumRegistryNotCompanion rather than a revert without reason data.
    function _checkCompanion(address account, bytes memory probe, uint256 probeReturnBytes) private view {
        if (account == address(0)) revert ConsortiumRegistryInvalidAddress(account);
        (bool ok, bytes memory answer) = account.staticcall(abi.encodeCall(IContributionRegistry.registry, ()));
        if (!ok || answer.length != ONE_WORD || abi.decode(answer, (uint256)) != uint256(uint160(address(this)))) {
            revert ConsortiumRegistryNotCompanion(account);
        }
        (ok, answer) = account.staticcall(probe);
        if (!ok || answer.length != probeReturnBytes) revert ConsortiumRegistryNotCompanion(account);
    }

    /// @dev f must be in (1/2, 3/4]: above a half, so two disjoint groups never both pass; at most
    /// three quarters, so that a quarter of the members cannot block everything.
    function _checkQuorum(uint16 numerator, uint16 denominator) private pure {
        if (2 * uint256(numerator) <= denominator || 4 * uint256(numerator) > 3 * uint256(denominator)) {
            revert ConsortiumRegistryInvalidQuorum(numerator, denominator);
        }
    }

    /// @dev max(floor(E/2)+1, ceil(E*f)), capped at E-1 when E >= 3 (so one absent member never
    /// blocks a vote); 1 when E is 0 (nobody can vote then).
    function _quorumFor(uint256 electorate) private view returns (uint32) {
        uint256 denominator = _quorumDenominator;
        uint256 majority = electorate / 2 + 1;
        uint256 fraction = (electorate * _quorumNumerator + denominator - 1) / denominator;
        uint256 quorum = fraction > majority ? fraction : majority;
        if (electorate >= 3 && quorum > electorate - 1) quorum = electorate - 1;
        return uint32(quorum);
    }

    /// @dev A suspension or removal by vote must leave at least max(2, `quorum`) voting members.
    function _checkVotingFloor(address account, uint32 quorum) private view {
        if (!_isVotingMember(account)) return;
        uint256 remaining = _votingMemberCount - 1;
        uint256 floor = quorum > 2 ? quorum : 2;
        if (remaining < floor) revert ConsortiumRegistryVotingFloor(remaining, floor);
    }

    /// @dev Reverts unless a proposal of `kind` with `payload`, whose quorum is `quorum`, would execute now.
    function _checkProposal(RiskshareTypes.ProposalKind kind, bytes memory payload, uint32 quorum) private view {
        if (kind == RiskshareTypes.ProposalKind.Admit) {
            _checkAdmit(payload);
        } else if (kind == RiskshareTypes.ProposalKind.Suspend) {
            address account = _decodeAccount(kind, payload);
            if (!_hasVote(account)) revert ConsortiumRegistryInvalidStatus(account, _members[account].status);
            _checkVotingFloor(account, quorum);
        } else if (kind == RiskshareTypes.ProposalKind.Reinstate) {
            address account = _decodeAccount(kind, payload);
            // Only a suspension by vote: a regulator's ends with {endSuspension}.
            if (_members[account].status != RiskshareTypes.MemberStatus.Suspended || _regulatorSuspendedUntil[account] != 0) {
                revert ConsortiumRegistryInvalidStatus(account, _members[account].status);
            }
        } else if (kind == RiskshareTypes.ProposalKind.Remove) {
            address account = _decodeAccount(kind, payload);
            _checkRemovable(account);
            _checkVotingFloor(account, quorum);
        } else if (kind == RiskshareTypes.ProposalKind.AddRegulator) {
            _checkNewRegulator(_decodeAccount(kind, payload));
        } else if (kind == RiskshareTypes.ProposalKind.RemoveRegulator) {
            _checkRegulator(_decodeAccount(kind, payload));
        } else if (kind == RiskshareTypes.ProposalKind.SetPolicy) {
            (uint8 categoryId, RiskshareTypes.CategoryPolicy memory policy_) = _decodePolicy(payload);
            _checkPolicy(categoryId, policy_);
        } else if (kind == RiskshareTypes.ProposalKind.AddCategory) {
            _checkNewCategory(_decodeName(payload));
        } else if (kind == RiskshareTypes.ProposalKind.RetireCategory) {
            _requireActiveCategory(_decodeCategoryId(payload));
        } else if (kind == RiskshareTypes.ProposalKind.SetKeyEpochLength) {
            _checkKeyEpochLength(_decodeKeyEpochLength(payload));
        } else if (kind == RiskshareTypes.ProposalKind.SetQuorum) {
            (uint16 numerator, uint16 denominator) = _decodeQuorum(payload);
            _checkQuorum(numerator, denominator);
        } else if (kind == RiskshareTypes.ProposalKind.Unpause) {
            if (payload.length != 0) revert ConsortiumRegistryInvalidPayload(kind);
            if (block.timestamp >= _pause.until) revert ConsortiumRegistryNotPaused();
        } else {
            // SetWarninglistHash: the enum has no further value (the ABI decoder rejects out-of-range kinds).
            if (_decodeWarninglistHash(payload) == bytes32(0)) revert ConsortiumRegistryInvalidWarninglistHash();
        }
    }

    /// @dev An Admit's candidate signed its own request (AdmissionVerifier) and is new, as for seeding.
    function _checkAdmit(bytes memory payload)
        private
        view
        returns (address account, string memory name, bytes memory peerId, bytes32 oprfKey)
    {
        (account, name, peerId, oprfKey) = AdmissionVerifier.checkAdmit(payload);
        _checkNewMember(account, name, peerId, oprfKey);
    }

    function _checkRemovable(address account) private view {
        RiskshareTypes.MemberStatus status = _members[account].status;
        if (status != RiskshareTypes.MemberStatus.Active && status != RiskshareTypes.MemberStatus.Suspended) {
            revert ConsortiumRegistryInvalidStatus(account, status);
        }
    }

    function _checkKeyEpochLength(uint64 keyEpochLengthSeconds) private pure {
        if (keyEpochLengthSeconds < MIN_KEY_EPOCH_LENGTH || keyEpochLengthSeconds > MAX_KEY_EPOCH_LENGTH) {
            revert ConsortiumRegistryInvalidKeyEpochLength(keyEpochLengthSeconds);
        }
    }

    function _checkRegulator(address account) private view {
        if (_regulatorPosition[account] == 0) revert ConsortiumRegistryNotRegulator(account);
    }

    // =====================================================================================
    // Internal: payload decoding. Fixed-size payloads must have their exact length; the
    // variable-size ones must be canonical (re-encoding them gives the same bytes). A payload whose
    // words are out of range for their type (e.g. an address with high bits set) is refused by
    // the ABI decoder itself, without reason data.
    // =====================================================================================

    function _decodeAccount(RiskshareTypes.ProposalKind kind, bytes memory payload) private pure returns (address) {
        if (payload.length != ONE_WORD) revert ConsortiumRegistryInvalidPayload(kind);
        return abi.decode(payload, (address));
    }

    function _decodePolicy(bytes memory payload)
        private
        pure
        returns (uint8 categoryId, RiskshareTypes.CategoryPolicy memory policy_)
    {
        if (payload.length != POLICY_PAYLOAD_BYTES) revert ConsortiumRegistryInvalidPayload(RiskshareTypes.ProposalKind.SetPolicy);
        return abi.decode(payload, (uint8, RiskshareTypes.CategoryPolicy));
    }

    function _decodeName(bytes memory payload) private pure returns (string memory name) {
        if (payload.length < TWO_WORDS) revert ConsortiumRegistryInvalidPayload(RiskshareTypes.ProposalKind.AddCategory);
        name = abi.decode(payload, (string));
        if (keccak256(abi.encode(name)) != keccak256(payload)) {
            revert ConsortiumRegistryInvalidPayload(RiskshareTypes.ProposalKind.AddCategory);
        }
    }

    function _decodeCategoryId(bytes memory payload) private pure returns (uint8) {
        if (payload.length != ONE_WORD) revert ConsortiumRegistryInvalidPayload(RiskshareTypes.ProposalKind.RetireCategory);
        return abi.decode(payload, (uint8));
    }

    function _decodeKeyEpochLength(bytes memory payload) private pure returns (uint64) {
        if (payload.length != ONE_WORD) revert ConsortiumRegistryInvalidPayload(RiskshareTypes.ProposalKind.SetKeyEpochLength);
        return abi.decode(payload, (uint64));
    }

    function _decodeWarninglistHash(bytes memory payload) private pure returns (bytes32) {
        if (payload.length != ONE_WORD) revert ConsortiumRegistryInvalidPayload(RiskshareTypes.ProposalKind.SetWarninglistHash);
        return abi.decode(payload, (bytes32));
    }

    function _decodeQuorum(bytes memory payload) private pure returns (uint16 numerator, uint16 denominator) {
        if (payload.length != TWO_WORDS) revert ConsortiumRegistryInvalidPayload(RiskshareTypes.ProposalKind.SetQuorum);
        return abi.decode(payload, (uint16, uint16));
    }

    // =====================================================================================
    // Internal: effects (each followed by its event)
    // =====================================================================================

    /// @dev Re-validates, then applies, an executed proposal whose quorum is `quorum`.
    function _applyProposal(RiskshareTypes.ProposalKind kind, bytes memory payload, uint32 quorum) private {
        if (kind == RiskshareTypes.ProposalKind.Admit) {
            (address account, string memory name, bytes memory peerId, bytes32 oprfKey) = _checkAdmit(payload);
            _writeMember(account, name, peerId, oprfKey);
            // Not in force yet: no vote, not counted, no key in force, until {activate} after the delay.
            uint64 activeFrom = uint64(block.timestamp) + _admissionDelay;
            _members[account].status = RiskshareTypes.MemberStatus.Admitted;
            _admissionActiveFrom[account] = activeFrom;
            emit MemberAdmitted(account, activeFrom);
            return;
        }
        _checkProposal(kind, payload, quorum);
        if (kind == RiskshareTypes.ProposalKind.Suspend) {
            address account = _decodeAccount(kind, payload);
            _takeVote(account);
            _members[account].status = RiskshareTypes.MemberStatus.Suspended;
            emit MemberSuspended(account, address(this), 0);
        } else if (kind == RiskshareTypes.ProposalKind.Reinstate) {
            address account = _decodeAccount(kind, payload);
            _members[account].status = RiskshareTypes.MemberStatus.Active;
            _activeMemberCount += 1;
            _giveVote(account);
            emit MemberReinstated(account);
        } else if (kind == RiskshareTypes.ProposalKind.Remove) {
            address account = _decodeAccount(kind, payload);
            if (_hasVote(account)) _takeVote(account);
            _members[account].status = RiskshareTypes.MemberStatus.Removed;
            _activity[account].removedAt = uint64(block.timestamp);
            emit MemberRemoved(account);
        } else if (kind == RiskshareTypes.ProposalKind.AddRegulator) {
            _addRegulator(_decodeAccount(kind, payload));
        } else if (kind == RiskshareTypes.ProposalKind.RemoveRegulator) {
            _removeRegulator(_decodeAccount(kind, payload));
        } else if (kind == RiskshareTypes.ProposalKind.SetPolicy) {
            (uint8 categoryId, RiskshareTypes.CategoryPolicy memory policy_) = _decodePolicy(payload);
            _setPolicy(categoryId, policy_);
        } else if (kind == RiskshareTypes.ProposalKind.AddCategory) {
            _addCategory(_decodeName(payload));
        } else if (kind == RiskshareTypes.ProposalKind.RetireCategory) {
            uint8 categoryId = _decodeCategoryId(payload);
            _categories[categoryId].active = false;
            emit CategoryRetired(categoryId);
        } else if (kind == RiskshareTypes.ProposalKind.SetKeyEpochLength) {
            uint64 keyEpochLengthSeconds = _decodeKeyEpochLength(payload);
            if (keyEpochLengthSeconds == _keyEpochLength) return;
            _keyEpochLength = keyEpochLengthSeconds;
            emit KeyEpochLengthSet(keyEpochLengthSeconds);
        } else if (kind == RiskshareTypes.ProposalKind.SetQuorum) {
            (uint16 numerator, uint16 denominator) = _decodeQuorum(payload);
            if (numerator == _quorumNumerator && denominator == _quorumDenominator) return;
            _quorumNumerator = numerator;
            _quorumDenominator = denominator;
            emit QuorumSet(numerator, denominator);
        } else if (kind == RiskshareTypes.ProposalKind.Unpause) {
            _pause.until = 0;
            emit ConsortiumUnpaused();
        } else {
            _setWarninglistHash(_decodeWarninglistHash(payload));
        }
    }

    /// @dev Sets the pinned warninglist hash (not zero); no event when it does not change.
    function _setWarninglistHash(bytes32 hash) private {
        if (hash == bytes32(0)) revert ConsortiumRegistryInvalidWarninglistHash();
        if (hash == _warninglistHash) return;
        _warninglistHash = hash;
        emit WarninglistHashSet(hash);
    }

    function _castVote(uint256 proposalId, RiskshareTypes.Proposal storage p) private {
        _voted[proposalId][msg.sender] = true;
        _voters[proposalId].push(msg.sender);
        uint32 votes = p.votes + 1;
        p.votes = votes;
        emit Voted(proposalId, msg.sender, votes);
    }

    /// @dev Writes the record of a new member (a seeding, or an Admit vote executed) and binds its
    /// PeerId; {_activate} makes it Active. Its key takes epoch 1. An account whose admission was
    /// vetoed is listed already.
    function _writeMember(address account, string memory name, bytes memory peerId, bytes32 oprfKey) private {
        RiskshareTypes.Member storage m = _members[account];
        if (m.account == address(0)) _memberList.push(account);
        m.account = account;
        m.name = name;
        m.peerId = peerId;
        m.keyEpoch = 1;
        m.oprfKey = oprfKey;
        _accountByPeerIdHash[keccak256(peerId)] = account;
    }

    /// @dev Makes a freshly written record Active with a vote: its key comes into force for its epoch.
    function _activate(address account, RiskshareTypes.Member storage m) private {
        uint32 epoch = m.keyEpoch;
        bytes32 oprfKey = m.oprfKey;
        m.status = RiskshareTypes.MemberStatus.Active;
        m.joinedAt = uint64(block.timestamp);
        m.keyRotatedAt = uint64(block.timestamp);
        _oprfKeys[account][epoch] = oprfKey;
        _activeMemberCount += 1;
        _giveVote(account);
        emit MemberActivated(account, m.name, m.peerId, oprfKey, epoch);
    }

    /// @dev The account gains a vote (an admission, a reinstatement, a wake): it is entitled on
    /// proposals made from now on, and its dormancy period starts again.
    function _giveVote(address account) private {
        _votingMemberCount += 1;
        _votingSince[account] = _proposalCount;
        _activity[account].lastActionAt = uint64(block.timestamp);
    }

    /// @dev A voting member loses its vote (a suspension or removal by vote): its votes on open
    /// proposals no longer count. Ends a regulator's suspension it may be under.
    function _takeVote(address account) private {
        if (_regulatorSuspendedUntil[account] != 0) {
            _clearRegulatorSuspension(account);
        } else {
            _activeMemberCount -= 1;
        }
        // A dormant member's vote was already out of the count; it is no longer dormant without one.
        ConsortiumHolds.Activity storage a = _activity[account];
        if (a.dormant) a.dormant = false;
        else _votingMemberCount -= 1;
    }

    function _clearRegulatorSuspension(address account) private {
        delete _regulatorSuspendedUntil[account];
        _regulatorSuspendedCount -= 1;
    }

    function _addRegulator(address account) private {
        _regulatorList.push(account);
        _regulatorPosition[account] = _regulatorList.length;
        emit RegulatorAdded(account);
    }

    function _removeRegulator(address account) private {
        uint256 index = _regulatorPosition[account] - 1;
        uint256 lastIndex = _regulatorList.length - 1;
        if (index != lastIndex) {
            address moved = _regulatorList[lastIndex];
            _regulatorList[index] = moved;
            _regulatorPosition[moved] = index + 1;
        }
        _regulatorList.pop();
        delete _regulatorPosition[account];
        emit RegulatorRemoved(account);
    }

    function _addCategory(string memory name) private returns (uint8 categoryId) {
        categoryId = _categoryCount + 1;
        _categoryCount = categoryId;
        _categories[categoryId] = RiskshareTypes.Category({id: categoryId, name: name, active: true});
        _categoryIdByNameHash[keccak256(bytes(name))] = categoryId;
        emit CategoryAdded(categoryId, name);
    }

    function _setPolicy(uint8 categoryId, RiskshareTypes.CategoryPolicy memory policy_) private {
        RiskshareTypes.CategoryPolicy storage current = _policies[categoryId];
        if (
            current.minEntries == policy_.minEntries && current.maxSnapshotAge == policy_.maxSnapshotAge
                && current.quotaBase == policy_.quotaBase && current.quotaRatioBps == policy_.quotaRatioBps
                && current.quotaCeiling == policy_.quotaCeiling
        ) return;
        _policies[categoryId] = policy_;
        emit PolicySet(categoryId, policy_);
    }
}
