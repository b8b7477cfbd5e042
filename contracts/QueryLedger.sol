// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IConsortiumRegistry} from "./interfaces/IConsortiumRegistry.sol";
import {IQueryLedger} from "./interfaces/IQueryLedger.sol";
import {RiskshareTypes} from "./libraries/RiskshareTypes.sol";

/// @title QueryLedger: the tamper-evident record of every lookup a provider answered or refused.
///
/// @notice A provider (an Active member) submits its query records in numbered batches: batch `seq`
/// must be exactly the one after its last, so a retried batch can never land twice and a lost one
/// shows as a gap (DESIGN I-6). Each record becomes a {QueryRecorded} event whose `queryId` is the
/// EIP-712 digest of the querier's LookupRequest with `provider` = the caller; nothing is stored
/// per record. The querier's signature is recorded, not checked: a provider must be able to record
/// the requests it refused for a bad signature, and auditors verify signatures off chain
/// (node/chain/eip712.ts recovers the signer from a record; `riskshare audit verify` requires it for
/// an answer and every refusal made after the signature check). The contract does hold each record
/// to the shape of its outcome: an answer stands for one request (count 1) under a key epoch >= 1; a
/// refusal carries key epoch 0 and the count of refusals it folds (>= 1).
///
/// Credits (docs/PROTOCOL.md "Credits, metering and the bonus pool"): an answered Evaluate record
/// whose querier's signature this contract recovers itself (over the record's queryId) and whose
/// nonce is fresh in the (querier, provider) window moves `itemCount` credits from the querier to
/// the provider. Nothing about credits ever reverts a batch: a record that fails a check is still
/// recorded and moves nothing. Balances start at the starting grant, decay lazily, and may overshoot
/// the overdraft by what was in flight (the node's credit gate, not this contract, refuses requests).
/// A member that rotated its key keeps its credits on the old account: the successor starts afresh.
///
/// @dev Storage layout:
///   slot 0   `_lastSequence` (provider => uint64): the provider's last recorded batch, 0 before any.
///   slot 1   `_accounts` (member => packed word): balance int96 (bits 0-95), day decayed to
///            uint32 (96-127; 0 = never touched), week of the counters uint32 (128-159), items spent
///            in that week uint48 (160-207), credits earned in that week uint48 (208-255).
///   slot 2   `_history` (member => uint256[7]): a ring of 14 past weeks, two 128-bit entries a
///            slot, entry `week % 14` = week uint32 (bits 0-31), spent uint48 (32-79), earned uint48 (80-127).
///   slot 3   `_pairs` (querier => provider => PairState, two slots): highest nonce, evaluated and
///            reported items in the first; the 256-bit nonce window in the second.
///   slot 4   `_weeks` (week => WeekTotals): items metered and confirmations reported in the week.
///   slot 5   `_reporterConfirmed` (week => reporter => confirmations it reported in the week).
///   slot 6   `_providerWeeks` (week => provider => ProviderWeek): its confirmations, settled flag.
///   slot 7   `_confirmations` (week => reporter => provider => confirmations).
///   `_registry`, `_cachedChainId`, `_cachedDomainSeparator`, `_removedGrace`,
///   `_maxRequestLifetime` and the five credit parameters are immutable and take no slot.
contract QueryLedger is IQueryLedger {
    /// @notice keccak256 of the EIP-712 type string of a lookup request.
    bytes32 public constant LOOKUP_REQUEST_TYPEHASH = RiskshareTypes.LOOKUP_REQUEST_TYPEHASH;
    /// @notice keccak256 of the EIP-712 type string of a lookup answer (signed by providers, checked off chain).
    bytes32 public constant LOOKUP_ANSWER_TYPEHASH = RiskshareTypes.LOOKUP_ANSWER_TYPEHASH;

    bytes32 private constant DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");
    /// @dev ABI size of one QueryRecord: thirteen static words, laid out inline in a calldata array.
    uint256 private constant RECORD_BYTES = 13 * 32;

    /// @dev Must equal EIP712_NAME and EIP712_VERSION in node/chain/eip712.ts.
    bytes32 private constant NAME_HASH = keccak256("riskshare");
    bytes32 private constant VERSION_HASH = keccak256("1");

    IConsortiumRegistry private immutable _registry;
    uint256 private immutable _cachedChainId;
    bytes32 private immutable _cachedDomainSeparator;

    uint64 private immutable _removedGrace;
    uint64 private immutable _maxRequestLifetime;

    /// @dev 0.9^(1/30) in 1e18 fixed point: 10 % a month as a daily factor.
    uint256 private constant DAILY_DECAY_WAD = 996494142730415125;
    uint256 private constant WAD = 1e18;
    /// @dev Weeks kept in each member's history ring; a week's bonus is settleable while it is in it.
    uint256 private constant HISTORY_WEEKS = 14;
    /// @dev Weeks of own spend that are kept from decay: this one and the four before (~30 days).
    uint256 private constant SPEND_WEEKS = 5;
    /// @dev Weeks of earnings the overdraft counts: this one and the twelve before (~90 days).
    uint256 private constant EARN_WEEKS = 13;
    /// @dev A member's first days after it became Active, in which its overdraft is 0.
    uint256 private constant NEW_MEMBER_SECONDS = 90 days;
    /// @dev The largest `s` of a canonical secp256k1 signature: half the curve order.
    uint256 private constant HALF_ORDER = 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0;
    uint8 private constant SKIP_BAD_SIGNATURE = 1;
    uint8 private constant SKIP_STALE_NONCE = 2;
    uint256 private constant MAX_UINT48 = type(uint48).max;

    struct PairState {
        uint64 highestNonce;
        uint64 evaluatedItems;
        uint64 reportedItems;
        /// Bit i set = nonce highestNonce - i was seen.
        uint256 window;
    }

    struct WeekTotals {
        uint64 meteredItems;
        uint64 confirmed;
    }

    struct ProviderWeek {
        uint64 confirmed;
        bool settled;
    }

    /// @dev An account word unpacked (see the storage layout).
    struct Account {
        int256 balance;
        uint256 day;
        uint256 week;
        uint256 spent;
        uint256 earned;
    }

    uint256 private immutable _startingCredits;
    uint256 private immutable _overdraftLimit;
    uint16 private immutable _poolPercent;
    uint16 private immutable _providerCapPercent;
    uint256 private immutable _falsePositiveBurn;

    mapping(address provider => uint64 seq) private _lastSequence;
    mapping(address member => uint256 word) private _accounts;
    mapping(address member => uint256[7] ring) private _history;
    mapping(address querier => mapping(address provider => PairState)) private _pairs;
    mapping(uint32 week => WeekTotals) private _weeks;
    mapping(uint32 week => mapping(address reporter => uint64 confirmed)) private _reporterConfirmed;
    mapping(uint32 week => mapping(address provider => ProviderWeek)) private _providerWeeks;
    mapping(uint32 week => mapping(address reporter => mapping(address provider => uint64 confirmed))) private _confirmations;

    /// @param registry_ The ConsortiumRegistry that says who is an Active member.
    /// @param removedGraceSeconds How long after its removal a removed provider may still land its
    /// last batches (e.g. 7 days).
    /// @param maxRequestLifetimeSeconds The longest lifetime of a lookup request: the furthest ahead a
    /// provider accepts a deadline (600 s, node/chain/audit.ts MAX_REQUEST_TTL_SECONDS).
    /// @param startingCredits The grant every member account holds before its first metered record.
    /// @param overdraftLimit L: the most a member past its first 90 days may overdraw (it may also
    /// overdraw no more than it earned in the last 90 days).
    /// @param poolPercent The weekly bonus pool as a percentage of the week's metered items.
    /// @param providerCapPercent The most one provider takes of a week's pool, in percent.
    /// @param falsePositiveBurn Credits burnt from a provider per false positive reported on it.
    ///
    /// Requirements: both percentages at most 100, every amount below 2^64
    /// ({QueryLedgerBadCreditParams}).
    constructor(
        IConsortiumRegistry registry_,
        uint64 removedGraceSeconds,
        uint64 maxRequestLifetimeSeconds,
        uint256 startingCredits,
        uint256 overdraftLimit,
        uint16 poolPercent,
        uint16 providerCapPercent,
        uint256 falsePositiveBurn
    ) {
        if (
            poolPercent > 100 || providerCapPercent > 100 || startingCredits > type(uint64).max
                || overdraftLimit > type(uint64).max || falsePositiveBurn > type(uint64).max
        ) {
            revert QueryLedgerBadCreditParams(startingCredits, overdraftLimit, poolPercent, providerCapPercent, falsePositiveBurn);
        }
        _startingCredits = startingCredits;
        _overdraftLimit = overdraftLimit;
        _poolPercent = poolPercent;
        _providerCapPercent = providerCapPercent;
        _falsePositiveBurn = falsePositiveBurn;
        _registry = registry_;
        _removedGrace = removedGraceSeconds;
        _maxRequestLifetime = maxRequestLifetimeSeconds;
        _cachedChainId = block.chainid;
        _cachedDomainSeparator = _buildDomainSeparator();
    }

    /// @notice Records batch `seq` of the caller's query records, the caller being their provider.
    /// @param seq The caller's next batch number: {lastSequence} + 1 (the first batch is 1).
    /// @param records The records, each as the querier signed it (the querier being the connected
    /// peer) plus the key epoch answered under, the outcome, the count of refusals folded and the
    /// digest of what the querier received. No record carries a hit count: hits stay with the
    /// querier (DESIGN I-7).
    ///
    /// Requirements:
    /// - the caller is, or was, an admitted member: Active, Suspended or Removed. A member suspended
    ///   or removed after answering must still be able to land what it served (I-6: every query
    ///   lands exactly once); `riskshare audit verify` flags any record whose provider was not
    ///   Active while the request was live.
    /// - a Removed or Rotated caller (for a Rotated one, "removal" is its key rotation: the registry's
    ///   `removedAt`) lands batches for `removedGraceSeconds` after its removal only
    ///   ({QueryLedgerRemovalWindowClosed}), and only records whose deadline is at most its removal time
    ///   + `maxRequestLifetimeSeconds` ({QueryLedgerDeadlineAfterRemoval} with the record's index):
    ///   requests it served before its removal, never new ones.
    /// - `records` is not empty.
    /// - `seq` is the caller's {lastSequence} + 1.
    /// - every answer (outcome 0) has count 1 and key epoch >= 1; every refusal key epoch 0 and count >= 1
    ///   (else {QueryLedgerBadRecord} with the record's index).
    ///
    /// Metering (never reverts): an answered record of a member querier other than the caller
    /// whose compact signature recovers to its querier over its queryId (canonical s) and whose nonce
    /// is fresh in the pair's window consumes the nonce and, for kind Evaluate, moves `itemCount`
    /// credits from the querier to the caller; one with a bad signature or nonce moves nothing.
    ///
    /// Emits a {QueryRecorded} event per record, a {CreditsSkipped} event per member's answered
    /// record that failed a check, a {CreditsMoved} event per querier that paid, then a
    /// {BatchRecorded} event.
    function recordBatch(uint64 seq, RiskshareTypes.QueryRecord[] calldata records) external {
        // Also tells the registry the provider acted (its dormancy clock starts again).
        (RiskshareTypes.MemberStatus status, uint64 removedAt) = _registry.noteCompanionActivity(msg.sender);
        uint256 latestDeadline = type(uint64).max;
        // A Rotated account (its member moved to a new key) lands its last batches like a removed one.
        if (status == RiskshareTypes.MemberStatus.Removed || status == RiskshareTypes.MemberStatus.Rotated) {
            uint64 windowEnd = removedAt + _removedGrace;
            if (block.timestamp > windowEnd) revert QueryLedgerRemovalWindowClosed(msg.sender, removedAt, windowEnd);
            latestDeadline = removedAt + _maxRequestLifetime;
        } else if (status != RiskshareTypes.MemberStatus.Active && status != RiskshareTypes.MemberStatus.Suspended) {
            revert QueryLedgerNotMember(msg.sender);
        }
        uint256 count = records.length;
        if (count == 0) revert QueryLedgerEmptyBatch();
        uint64 expected = _lastSequence[msg.sender] + 1;
        if (seq != expected) revert QueryLedgerBadSequence(msg.sender, expected, seq);
        _lastSequence[msg.sender] = seq;

        bytes32[] memory ids = new bytes32[](count);
        _emitRecords(_domainSeparator(), records, latestDeadline, ids);
        _meter(records, ids);
        emit BatchRecorded(msg.sender, seq, uint32(count));
    }

    /// @notice The last batch number `provider` recorded; 0 before its first batch.
    function lastSequence(address provider) external view returns (uint64) {
        return _lastSequence[provider];
    }

    /// @notice How long after its removal a removed provider may land batches, and the longest request
    /// lifetime, which bounds the deadlines of its records (removal time + it).
    function removalLimits() external view returns (uint64 removedGraceSeconds, uint64 maxRequestLifetimeSeconds) {
        return (_removedGrace, _maxRequestLifetime);
    }

    /// @notice The EIP-712 domain separator: name "riskshare", version "1", this chain, this contract.
    function domainSeparator() external view returns (bytes32) {
        return _domainSeparator();
    }

    /// @notice The query id `record` gets when `provider` records it: the EIP-712 digest of its
    /// LookupRequest, which is what the querier signed.
    function queryId(address provider, RiskshareTypes.QueryRecord calldata record) external view returns (bytes32) {
        return _digest(_domainSeparator(), provider, record);
    }

    /// @notice `member`'s balance with decay applied up to now (the starting grant if it was never
    /// touched) and how far it may overdraw: 0 in its first 90 days after it became Active (and for
    /// an account that never did), then min(overdraftLimit, credits it earned in the last 13 weeks).
    function creditsOf(address member) external view returns (int256 balance, uint256 overdraft) {
        (Account memory account, uint256 closed) = _current(member);
        balance = account.balance;
        uint64 joinedAt = _registry.member(member).joinedAt;
        if (joinedAt != 0 && block.timestamp >= uint256(joinedAt) + NEW_MEMBER_SECONDS) {
            overdraft = _recentWeeks(member, account, closed, EARN_WEEKS, false);
            if (overdraft > _overdraftLimit) overdraft = _overdraftLimit;
        }
    }

    /// @notice The nonce state of (querier, provider) and the items metered and reported on it.
    /// @return highestNonce The highest nonce seen (0 before any).
    /// @return window Bit i set = nonce `highestNonce - i` was seen.
    /// @return evaluatedItems Evaluated items metered, ever: the most `querier` may report on `provider`.
    /// @return reportedItems Items `querier` reported feedback on (confirmed + false positive + outdated).
    function pairState(address querier, address provider)
        external
        view
        returns (uint64 highestNonce, uint256 window, uint64 evaluatedItems, uint64 reportedItems)
    {
        PairState storage pair = _pairs[querier][provider];
        return (pair.highestNonce, pair.window, pair.evaluatedItems, pair.reportedItems);
    }

    /// @notice The current week number: block.timestamp / 1 weeks.
    function currentWeek() external view returns (uint32) {
        return _week();
    }

    /// @notice The credit parameters fixed at deployment.
    function creditParams()
        external
        view
        returns (
            uint256 startingCredits,
            uint256 overdraftLimit,
            uint16 poolPercent,
            uint16 providerCapPercent,
            uint256 falsePositiveBurn
        )
    {
        return (_startingCredits, _overdraftLimit, _poolPercent, _providerCapPercent, _falsePositiveBurn);
    }

    /// @notice Items metered in `week` and confirmations reported in it; `provider`'s confirmations
    /// in it and whether its bonus for it was settled.
    function weekState(uint32 week, address provider)
        external
        view
        returns (uint64 meteredItems, uint64 confirmed, uint64 providerConfirmed, bool settled)
    {
        WeekTotals memory totals = _weeks[week];
        ProviderWeek memory providerWeek = _providerWeeks[week][provider];
        return (totals.meteredItems, totals.confirmed, providerWeek.confirmed, providerWeek.settled);
    }

    /// @notice Reports, for the current week, how many of the items the caller was metered for at
    /// each provider turned out confirmed fraud, false positives or outdated. Free; counts only, no
    /// query is named (the reports themselves go to the provider over p2p).
    ///
    /// Requirements:
    /// - the caller is an Active member ({QueryLedgerNotMember}).
    /// - the four arrays have one length ({QueryLedgerFeedbackLengthMismatch}).
    /// - per provider, the caller's reports ever stay within the items it was metered for there
    ///   ({QueryLedgerFeedbackExceedsEvaluated}).
    ///
    /// Emits a {FeedbackReported} event per provider with a nonzero count, and a {CreditsBurned}
    /// event per provider with false positives (each burns `falsePositiveBurn` of its credits).
    function reportFeedback(
        address[] calldata providers,
        uint32[] calldata confirmed,
        uint32[] calldata falsePositive,
        uint32[] calldata outdated
    ) external {
        if (!_registry.isActiveMember(msg.sender)) revert QueryLedgerNotMember(msg.sender);
        uint256 n = providers.length;
        if (confirmed.length != n || falsePositive.length != n || outdated.length != n) {
            revert QueryLedgerFeedbackLengthMismatch(n, confirmed.length, falsePositive.length, outdated.length);
        }
        uint32 week = _week();
        uint64 weekConfirmed;
        for (uint256 i = 0; i < n; ++i) {
            weekConfirmed += _report(week, providers[i], confirmed[i], falsePositive[i], outdated[i]);
        }
        if (weekConfirmed != 0) {
            _reporterConfirmed[week][msg.sender] += weekConfirmed;
            _weeks[week].confirmed += weekConfirmed;
        }
    }

    /// @notice Pays `provider` its bonus from the pool of `week`: pool = poolPercent % of the items
    /// metered in the week. Each reporter directs the pool's share of its confirmations in the week,
    /// at most the pool's share of the items it was metered for in the week, split over the providers
    /// it confirmed in proportion; `provider` takes at most providerCapPercent % of the pool.
    /// @param reporters Every reporter that confirmed `provider` in `week`, in increasing address order
    /// (anyone may settle; a partial list cannot shortchange the provider).
    ///
    /// Requirements:
    /// - `week` has ended ({QueryLedgerWeekNotOver}) and is one of the last 13
    ///   ({QueryLedgerSettlementExpired}).
    /// - (`week`, `provider`) was not settled before ({QueryLedgerBonusAlreadySettled}).
    /// - `reporters` is sorted ({QueryLedgerReportersNotSorted}) and covers every confirmation of
    ///   `provider` in `week` ({QueryLedgerReportersIncomplete}).
    ///
    /// Emits a {BonusPaid} event.
    function settleBonus(uint32 week, address provider, address[] calldata reporters) external {
        {
            uint32 current = _week();
            if (week >= current) revert QueryLedgerWeekNotOver(week, current);
            uint32 oldest = current > HISTORY_WEEKS - 1 ? current - uint32(HISTORY_WEEKS - 1) : 0;
            if (week < oldest) revert QueryLedgerSettlementExpired(week, oldest);
        }
        ProviderWeek storage providerWeek = _providerWeeks[week][provider];
        if (providerWeek.settled) revert QueryLedgerBonusAlreadySettled(week, provider);
        WeekTotals memory totals = _weeks[week];
        uint256 pool = uint256(totals.meteredItems) * _poolPercent / 100;
        uint256 amount;
        uint64 covered;
        for (uint256 i = 0; i < reporters.length; ++i) {
            if (i != 0 && reporters[i] <= reporters[i - 1]) revert QueryLedgerReportersNotSorted(i);
            (uint64 confirmations, uint256 directed) = _directed(week, reporters[i], provider, pool, totals);
            covered += confirmations;
            amount += directed;
        }
        if (covered != providerWeek.confirmed) {
            revert QueryLedgerReportersIncomplete(week, provider, providerWeek.confirmed, covered);
        }
        uint256 cap = pool * _providerCapPercent / 100;
        if (amount > cap) amount = cap;
        providerWeek.settled = true;
        if (amount != 0) {
            Account memory account = _touch(provider);
            account.balance += int256(amount);
            account.earned = _addCapped(account.earned, amount);
            _store(provider, account);
        }
        emit BonusPaid(week, provider, amount);
    }

    /// @notice The ConsortiumRegistry this ledger defers to.
    function registry() external view returns (address) {
        return address(_registry);
    }

    function _domainSeparator() private view returns (bytes32) {
        return block.chainid == _cachedChainId ? _cachedDomainSeparator : _buildDomainSeparator();
    }

    function _buildDomainSeparator() private view returns (bytes32) {
        return keccak256(abi.encode(DOMAIN_TYPEHASH, NAME_HASH, VERSION_HASH, block.chainid, address(this)));
    }

    /// @dev Emits one {QueryRecorded} per record: the hot loop of the ledger, in assembly because
    /// the Solidity version (see {_digest}, which {queryId} uses and the tests compare against)
    /// allocates fresh memory for every hash and event, so its memory cost grows with the square
    /// of the batch size. This loop reuses one scratch area above the free memory pointer, never
    /// allocates, and hashes and logs straight from calldata. Per record:
    ///   structHash = keccak256(TYPEHASH ‖ querier ‖ provider ‖ kind ‖ categoryMask ‖ itemCount ‖
    ///                          itemsCommitment ‖ nonce ‖ deadline)           (EIP-712 hashStruct)
    ///   queryId    = keccak256(0x1901 ‖ separator ‖ structHash)             (EIP-712 digest)
    ///   log4(record words 1..12, QueryRecorded, queryId, querier, provider) (the record's own
    ///                       field order equals the event's non-indexed field order)
    /// Like the ABI decoder, it reverts (without data) on a word that is out of range for its type.
    /// A record whose deadline exceeds `latestDeadline` (a removed provider's bound) reverts with
    /// {QueryLedgerDeadlineAfterRemoval}; the selectors of it and {QueryLedgerBadRecord} and the
    /// record size are written out below as literals: the loop has no stack slot left for another
    /// variable. Record i's queryId is also written to `ids[i]`, the digest metering recovers the
    /// querier's signature over.
    function _emitRecords(
        bytes32 separator,
        RiskshareTypes.QueryRecord[] calldata records,
        uint256 latestDeadline,
        bytes32[] memory ids
    ) private {
        bytes32 topic = QueryRecorded.selector;
        bytes32 typehash = LOOKUP_REQUEST_TYPEHASH;
        assembly ("memory-safe") {
            let scratch := mload(0x40)
            // The ids must be the last allocation: the loop finds ids[i] by its distance from scratch.
            if iszero(eq(add(ids, mul(add(mload(ids), 1), 0x20)), scratch)) { revert(0, 0) }
            // 0x1a0 = RECORD_BYTES
            let end := add(records.offset, mul(records.length, 0x1a0))
            for { let rec := records.offset } lt(rec, end) { rec := add(rec, 0x1a0) } {
                let querier := calldataload(rec)
                {
                    let keyEpoch := calldataload(add(rec, 0xa0))
                    let outcome := calldataload(add(rec, 0xc0))
                    let count := calldataload(add(rec, 0xe0))
                    if or(or(shr(32, keyEpoch), shr(8, outcome)), shr(32, count)) { revert(0, 0) }
                    // An answer: count 1, key epoch >= 1. A refusal: key epoch 0, count >= 1.
                    let shaped := and(iszero(keyEpoch), gt(count, 0))
                    if iszero(outcome) { shaped := and(eq(count, 1), gt(keyEpoch, 0)) }
                    if iszero(shaped) {
                        // QueryLedgerBadRecord(uint256 index)
                        mstore(0, shl(224, 0xaf9e91fe))
                        mstore(0x04, div(sub(rec, records.offset), 0x1a0))
                        revert(0, 0x24)
                    }
                }
                let categoryMask := calldataload(add(rec, 0x20))
                let deadline := calldataload(add(rec, 0x40))
                let itemCount := calldataload(add(rec, 0x60))
                let kind := calldataload(add(rec, 0x80))
                if or(or(shr(160, querier), or(shr(64, categoryMask), shr(64, deadline))), or(shr(32, itemCount), shr(8, kind))) {
                    revert(0, 0)
                }
                if gt(deadline, latestDeadline) {
                    // QueryLedgerDeadlineAfterRemoval(uint256 index, uint64 latestDeadline)
                    mstore(0, shl(224, 0x9ed0b53f))
                    mstore(0x04, div(sub(rec, records.offset), 0x1a0))
                    mstore(0x24, latestDeadline)
                    revert(0, 0x44)
                }

                mstore(scratch, typehash)
                mstore(add(scratch, 0x20), querier)
                mstore(add(scratch, 0x40), caller())
                mstore(add(scratch, 0x60), kind)
                mstore(add(scratch, 0x80), categoryMask)
                mstore(add(scratch, 0xa0), itemCount)
                mstore(add(scratch, 0xc0), calldataload(add(rec, 0x100))) // itemsCommitment
                mstore(add(scratch, 0xe0), calldataload(add(rec, 0x120))) // nonce
                mstore(add(scratch, 0x100), deadline)
                let structHash := keccak256(scratch, 0x120)

                mstore(scratch, shl(240, 0x1901))
                mstore(add(scratch, 0x02), separator)
                mstore(add(scratch, 0x22), structHash)
                let id := keccak256(scratch, 0x42)
                // ids[i], i = (rec - records.offset) / RECORD_BYTES; ids' data ends where scratch begins.
                mstore(sub(scratch, mul(div(sub(end, rec), 0x1a0), 0x20)), id)

                calldatacopy(scratch, add(rec, 0x20), 0x180)
                log4(scratch, 0x180, topic, id, querier, caller())
            }
        }
    }

    // ----- metering and accounts -----

    /// @dev Meters the answered records of one batch (see {recordBatch}). Per record: a table
    /// look-up, the signature recovery and the pair's two slots; per distinct querier one account
    /// write; per batch one account write for the provider and one for the week's totals. The
    /// table is open-addressed in memory, keyed by querier: word = items << 192 | flags << 160 |
    /// querier, flag bit 0 = the querier is not metered (not a member, or the provider itself).
    function _meter(RiskshareTypes.QueryRecord[] calldata records, bytes32[] memory ids) private {
        uint256 count = records.length;
        uint256 mask = 1;
        while (mask < 2 * count) mask <<= 1;
        mask -= 1;
        uint256[] memory table = new uint256[](mask + 1);
        uint256[] memory order = new uint256[](count);
        uint256 distinct;
        uint256 providerItems;
        for (uint256 i = 0; i < count; ++i) {
            RiskshareTypes.QueryRecord calldata record = records[i];
            if (record.outcome != 0) continue;
            address querier = record.querier;
            uint256 at = (uint256(uint160(querier)) * 0x9E3779B97F4A7C15) >> 64 & mask;
            uint256 entry;
            while (true) {
                entry = table[at];
                if (entry == 0 || address(uint160(entry)) == querier) break;
                at = (at + 1) & mask;
            }
            if (entry == 0) {
                entry = uint256(uint160(querier)) | (_isMetered(querier) ? 0 : 1 << 160);
                table[at] = entry;
                if (entry >> 160 == 0) order[distinct++] = at;
            }
            if (entry >> 160 & 1 != 0) continue;
            if (!_signedBy(ids[i], record.signatureR, record.signatureVs, querier)) {
                emit CreditsSkipped(ids[i], SKIP_BAD_SIGNATURE);
                continue;
            }
            uint256 items = record.kind == 0 ? record.itemCount : 0;
            if (!_useNonce(_pairs[querier][msg.sender], record.nonce, items)) {
                emit CreditsSkipped(ids[i], SKIP_STALE_NONCE);
                continue;
            }
            if (items != 0) {
                table[at] = entry + (items << 192);
                providerItems += items;
            }
        }
        if (providerItems == 0) return;
        for (uint256 j = 0; j < distinct; ++j) {
            uint256 entry = table[order[j]];
            uint256 items = entry >> 192;
            if (items == 0) continue;
            address querier = address(uint160(entry));
            Account memory account = _touch(querier);
            account.balance -= int256(items);
            account.spent = _addCapped(account.spent, items);
            _store(querier, account);
            emit CreditsMoved(querier, msg.sender, uint64(items));
        }
        Account memory provider = _touch(msg.sender);
        provider.balance += int256(providerItems);
        provider.earned = _addCapped(provider.earned, providerItems);
        _store(msg.sender, provider);
        _weeks[_week()].meteredItems += uint64(providerItems);
    }

    /// @dev One provider's entry of {reportFeedback}; returns its confirmations.
    function _report(uint32 week, address provider, uint32 confirmed, uint32 falsePositive, uint32 outdated)
        private
        returns (uint64)
    {
        uint64 reported = uint64(confirmed) + falsePositive + outdated;
        if (reported == 0) return 0;
        PairState storage pair = _pairs[msg.sender][provider];
        uint64 evaluated = pair.evaluatedItems;
        uint64 total = pair.reportedItems + reported;
        if (total > evaluated) revert QueryLedgerFeedbackExceedsEvaluated(provider, evaluated, total);
        pair.reportedItems = total;
        if (confirmed != 0) {
            _confirmations[week][msg.sender][provider] += confirmed;
            _providerWeeks[week][provider].confirmed += confirmed;
        }
        emit FeedbackReported(week, msg.sender, provider, confirmed, falsePositive, outdated);
        if (falsePositive != 0) {
            uint256 burn = uint256(falsePositive) * _falsePositiveBurn;
            Account memory account = _touch(provider);
            account.balance -= int256(burn);
            _store(provider, account);
            emit CreditsBurned(provider, week, burn);
        }
        return confirmed;
    }

    /// @dev `reporter`'s confirmations of `provider` in `week` and the part of `pool` they direct to
    /// it: the pool's share of all the week's confirmations that the reporter's make up, at most the
    /// pool's share of the week's items the reporter was metered for, split over the providers it
    /// confirmed in proportion.
    function _directed(uint32 week, address reporter, address provider, uint256 pool, WeekTotals memory totals)
        private
        view
        returns (uint64 confirmations, uint256 directed)
    {
        confirmations = _confirmations[week][reporter][provider];
        if (confirmations == 0 || pool == 0) return (confirmations, 0);
        uint256 reporterConfirmed = _reporterConfirmed[week][reporter];
        uint256 reporterTotal = pool * reporterConfirmed / totals.confirmed;
        uint256 usageShare = pool * _spentIn(reporter, week) / totals.meteredItems;
        if (reporterTotal > usageShare) reporterTotal = usageShare;
        directed = reporterTotal * confirmations / reporterConfirmed;
    }

    /// @dev Whether `querier`'s records are metered: it was admitted at some point (Active,
    /// Suspended, Removed or Rotated: records land after a status change) and is not the caller.
    function _isMetered(address querier) private view returns (bool) {
        if (querier == msg.sender) return false;
        RiskshareTypes.MemberStatus status = _registry.memberStatus(querier);
        return status == RiskshareTypes.MemberStatus.Active || status == RiskshareTypes.MemberStatus.Suspended
            || status == RiskshareTypes.MemberStatus.Removed || status == RiskshareTypes.MemberStatus.Rotated;
    }

    /// @dev Whether the EIP-2098 compact signature (r, vs) over `digest` recovers to `signer` with a
    /// canonical (low) s. The compact form carries v as one bit, so v is 27 or 28 by construction.
    function _signedBy(bytes32 digest, bytes32 r, bytes32 vs, address signer) private pure returns (bool) {
        uint256 s = uint256(vs) & ((1 << 255) - 1);
        if (s > HALF_ORDER) return false;
        uint8 v = uint8(uint256(vs) >> 255) + 27;
        address recovered = ecrecover(digest, v, r, bytes32(s));
        return recovered != address(0) && recovered == signer;
    }

    /// @dev Consumes `nonceWord` in `pair`'s window and adds `items` to its evaluated items; false
    /// (and no change) for a nonce of 0 or >= 2^64, one 256 or more below the highest, or one seen.
    function _useNonce(PairState storage pair, bytes32 nonceWord, uint256 items) private returns (bool) {
        uint256 nonce = uint256(nonceWord);
        if (nonce == 0 || nonce > type(uint64).max) return false;
        uint64 highest = pair.highestNonce;
        uint256 window = pair.window;
        if (nonce > highest) {
            uint256 shift = nonce - highest;
            pair.window = shift >= 256 ? 1 : (window << shift) | 1;
            highest = uint64(nonce);
        } else {
            uint256 below = highest - nonce;
            if (below >= 256 || (window >> below) & 1 != 0) return false;
            pair.window = window | (1 << below);
        }
        // One write of the first slot (highest nonce, evaluated and reported items).
        (pair.highestNonce, pair.evaluatedItems) = (highest, pair.evaluatedItems + uint64(items));
        return true;
    }

    /// @dev `member`'s account as of now, writing the week it closes (if any) into its history. An
    /// account touched for the first time that a member rotated into takes over its predecessor's
    /// balance ({_current}), and the predecessors' accounts are emptied here, so that a key rotation
    /// neither mints a second starting grant nor sheds a debt.
    function _touch(address member) private returns (Account memory account) {
        uint256 closed;
        bool fresh = _accounts[member] == 0;
        (account, closed) = _current(member);
        if (fresh) _releasePredecessors(member);
        if (closed != 0) {
            uint256 index = uint32(closed) % HISTORY_WEEKS;
            uint256 shift = (index & 1) * 128;
            uint256[7] storage ring = _history[member];
            ring[index >> 1] = (ring[index >> 1] & ~(uint256(type(uint128).max) << shift)) | (closed << shift);
        }
    }

    /// @dev Empties the account `member` rotated from, if any, brought to now first so its counters
    /// are kept ({_touch} of a predecessor never touched empties its own predecessor in turn).
    function _releasePredecessors(address member) private {
        address predecessor = _registry.predecessorOf(member);
        if (predecessor == address(0)) return;
        Account memory old = _touch(predecessor);
        old.balance = 0;
        _store(predecessor, old);
    }

    /// @dev `member`'s account brought to now: if never touched, its predecessor's balance now when
    /// a member rotated into it ({_touch} empties the predecessor), else the starting grant; decay
    /// for the whole days since it was last brought up to date; this week's counters (the closed
    /// week's history entry returned, 0 if the week did not change).
    function _current(address member) private view returns (Account memory account, uint256 closed) {
        uint256 word = _accounts[member];
        uint256 today = block.timestamp / 1 days;
        uint256 week = _week();
        if (word == 0) {
            int256 balance = int256(_startingCredits);
            address predecessor = _registry.predecessorOf(member);
            if (predecessor != address(0)) {
                (Account memory old,) = _current(predecessor);
                balance = old.balance;
            }
            account = Account(balance, today, week, 0, 0);
            return (account, 0);
        }
        account = Account(
            int256(int96(uint96(word))),
            uint32(word >> 96),
            uint32(word >> 128),
            uint48(word >> 160),
            uint48(word >> 208)
        );
        if (today > account.day) {
            uint256 magnitude = account.balance < 0 ? uint256(-account.balance) : uint256(account.balance);
            uint256 kept = _recentWeeks(member, account, 0, SPEND_WEEKS, true);
            if (magnitude > kept) {
                magnitude = kept + (magnitude - kept) * _decayFactor(today - account.day) / WAD;
                account.balance = account.balance < 0 ? -int256(magnitude) : int256(magnitude);
            }
            account.day = today;
        }
        if (week != account.week) {
            closed = account.week | account.spent << 32 | account.earned << 80;
            account.week = week;
            account.spent = 0;
            account.earned = 0;
        }
    }

    /// @dev The items `member` spent (`spent`) or the credits it earned over this week and the
    /// `weekCount` - 1 before it: its account's counters, `closed` (a week {_current} closed but did not
    /// write yet, or 0) and its history ring, which holds only weeks before the counters' week.
    function _recentWeeks(address member, Account memory account, uint256 closed, uint256 weekCount, bool spent)
        private
        view
        returns (uint256 total)
    {
        uint256 week = _week();
        uint256 first = week >= weekCount - 1 ? week - (weekCount - 1) : 0;
        if (account.week < first) return 0;
        total = spent ? account.spent : account.earned;
        if (closed != 0 && uint32(closed) >= first) total += spent ? uint48(closed >> 32) : uint48(closed >> 80);
        uint256[7] storage ring = _history[member];
        for (uint256 w = first; w < account.week; ++w) {
            uint256 entry = _historyEntry(ring, w);
            if (entry != 0) total += spent ? uint48(entry >> 32) : uint48(entry >> 80);
        }
    }

    /// @dev The history entry of `week` in `ring`, 0 if the ring no longer (or never) held it.
    function _historyEntry(uint256[7] storage ring, uint256 week) private view returns (uint256 entry) {
        uint256 index = week % HISTORY_WEEKS;
        entry = uint128(ring[index >> 1] >> ((index & 1) * 128));
        if (uint32(entry) != week) entry = 0;
    }

    /// @dev The items `reporter` was metered for (as querier) in `week`.
    function _spentIn(address reporter, uint32 week) private view returns (uint256) {
        uint256 word = _accounts[reporter];
        if (word == 0) return 0;
        if (uint32(word >> 128) == week) return uint48(word >> 160);
        return uint48(_historyEntry(_history[reporter], week) >> 32);
    }

    /// @dev Writes `account` back as one word, its balance clamped to int96 (never reached: amounts
    /// are below 2^64 and items below 2^32 a record, but a wrap would turn a debt into a fortune).
    function _store(address member, Account memory account) private {
        int256 balance = account.balance;
        if (balance > type(int96).max) balance = type(int96).max;
        else if (balance < type(int96).min) balance = type(int96).min;
        _accounts[member] = uint256(uint96(int96(balance))) | account.day << 96 | account.week << 128
            | account.spent << 160 | account.earned << 208;
    }

    /// @dev 0.9^(days/30) in 1e18 fixed point, by squaring.
    function _decayFactor(uint256 daysElapsed) private pure returns (uint256 factor) {
        if (daysElapsed > 20_000) return 0;
        factor = WAD;
        uint256 base = DAILY_DECAY_WAD;
        while (daysElapsed != 0) {
            if (daysElapsed & 1 != 0) factor = factor * base / WAD;
            base = base * base / WAD;
            daysElapsed >>= 1;
        }
    }

    /// @dev `a + b`, saturating at the 48 bits a weekly counter holds.
    function _addCapped(uint256 a, uint256 b) private pure returns (uint256) {
        uint256 sum = a + b;
        return sum > MAX_UINT48 ? MAX_UINT48 : sum;
    }

    function _week() private view returns (uint32) {
        return uint32(block.timestamp / 1 weeks);
    }

    /// @dev keccak256("\x19\x01" ‖ domainSeparator ‖ hashStruct(LookupRequest)), in plain Solidity.
    function _digest(bytes32 separator, address provider, RiskshareTypes.QueryRecord calldata r)
        private
        pure
        returns (bytes32)
    {
        bytes32 structHash = keccak256(
            abi.encode(
                LOOKUP_REQUEST_TYPEHASH,
                r.querier,
                provider,
                r.kind,
                r.categoryMask,
                r.itemCount,
                r.itemsCommitment,
                r.nonce,
                r.deadline
            )
        );
        return keccak256(abi.encodePacked(hex"1901", separator, structHash));
    }
}
