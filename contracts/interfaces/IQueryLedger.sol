// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {RiskshareTypes} from "../libraries/RiskshareTypes.sol";

/// @title The tamper-evident ledger of every lookup a provider served or refused (DESIGN I-5, I-6).
interface IQueryLedger {
    /// @dev The caller was never admitted (an outsider, a candidate, a regulator).
    error QueryLedgerNotMember(address account);
    error QueryLedgerBadSequence(address provider, uint64 expected, uint64 given);
    error QueryLedgerEmptyBatch();
    /// @dev Record `index` of the batch breaks the record rules: an answer carries count 1 and a key
    /// epoch >= 1; a refusal carries key epoch 0 and count >= 1.
    error QueryLedgerBadRecord(uint256 index);
    /// @dev A removed provider's batch after its removal window: removed at `removedAt`, it could land
    /// batches until `windowEnd`.
    error QueryLedgerRemovalWindowClosed(address provider, uint64 removedAt, uint64 windowEnd);
    /// @dev Record `index` of a removed provider's batch has a deadline after `latestDeadline` (its
    /// removal time + the longest request lifetime): no request it could still serve lived that long.
    error QueryLedgerDeadlineAfterRemoval(uint256 index, uint64 latestDeadline);
    /// @dev A constructor credit parameter out of range: a percentage above 100, or an amount that
    /// does not fit the 2^64 the balances are sized for.
    error QueryLedgerBadCreditParams(uint256 startingCredits, uint256 overdraftLimit, uint16 poolPercent, uint16 providerCapPercent, uint256 falsePositiveBurn);
    /// @dev reportFeedback's four arrays differ in length.
    error QueryLedgerFeedbackLengthMismatch(uint256 providers, uint256 confirmed, uint256 falsePositive, uint256 outdated);
    /// @dev The reporter's cumulative reports on `provider` would exceed the items it was metered for
    /// there: `evaluated` items metered, `reported` the total with this report.
    error QueryLedgerFeedbackExceedsEvaluated(address provider, uint64 evaluated, uint64 reported);
    /// @dev settleBonus for a week that has not ended: `week` is not before `current`.
    error QueryLedgerWeekNotOver(uint32 week, uint32 current);
    /// @dev settleBonus for a week older than the weekly history kept: `oldest` is the oldest settleable.
    error QueryLedgerSettlementExpired(uint32 week, uint32 oldest);
    /// @dev settleBonus for a (week, provider) already settled.
    error QueryLedgerBonusAlreadySettled(uint32 week, address provider);
    /// @dev settleBonus's reporters are not in strictly increasing address order (entry `index`).
    error QueryLedgerReportersNotSorted(uint256 index);
    /// @dev settleBonus's reporters cover `covered` of the `confirmed` confirmations `provider` got in `week`.
    error QueryLedgerReportersIncomplete(uint32 week, address provider, uint64 confirmed, uint64 covered);

    /// @dev One per record. queryId is the EIP-712 digest of the LookupRequest (provider = msg.sender).
    event QueryRecorded(
        bytes32 indexed queryId,
        address indexed querier,
        address indexed provider,
        uint64 categoryMask,
        uint64 deadline,
        uint32 itemCount,
        uint8 kind,
        uint32 keyEpoch,
        uint8 outcome,
        uint32 count,
        bytes32 itemsCommitment,
        bytes32 nonce,
        bytes32 signatureR,
        bytes32 signatureVs,
        bytes32 answerDigest
    );
    /// @dev One per batch, after its records.
    event BatchRecorded(address indexed provider, uint64 indexed seq, uint32 recordCount);
    /// @dev A member's answered record that moved nothing: `reason` 1 = bad signature, 2 = stale or
    /// replayed nonce. Records of non-members (and a provider's records of itself) move nothing silently.
    event CreditsSkipped(bytes32 indexed queryId, uint8 reason);
    /// @dev Metering: `items` credits moved from `querier` to `provider`, one event per querier per batch.
    event CreditsMoved(address indexed querier, address indexed provider, uint64 items);
    /// @dev A reporter's weekly feedback counts on one provider.
    event FeedbackReported(
        uint32 indexed week,
        address indexed reporter,
        address indexed provider,
        uint32 confirmed,
        uint32 falsePositive,
        uint32 outdated
    );
    /// @dev `amount` credits burnt from `provider` for false positives reported in `week`.
    event CreditsBurned(address indexed provider, uint32 indexed week, uint256 amount);
    /// @dev `provider`'s bonus from the pool of `week` (minted; 0 when it earned none).
    event BonusPaid(uint32 indexed week, address indexed provider, uint256 amount);

    function recordBatch(uint64 seq, RiskshareTypes.QueryRecord[] calldata records) external;
    function lastSequence(address provider) external view returns (uint64);
    function domainSeparator() external view returns (bytes32);
    function registry() external view returns (address);
    /// @dev How long after its removal a removed provider may land batches, and the longest request
    /// lifetime (a removed provider's records must have deadline <= removal time + it).
    function removalLimits() external view returns (uint64 removedGraceSeconds, uint64 maxRequestLifetimeSeconds);
    /// @dev keccak256 of the EIP-712 type string of a lookup request (RiskshareTypes).
    function LOOKUP_REQUEST_TYPEHASH() external view returns (bytes32);
    /// @dev keccak256 of the EIP-712 type string of a lookup answer (RiskshareTypes).
    function LOOKUP_ANSWER_TYPEHASH() external view returns (bytes32);
    /// @dev The query id a record would get if `provider` recorded it: its EIP-712 request digest.
    function queryId(address provider, RiskshareTypes.QueryRecord calldata record) external view returns (bytes32);

    // ----- credits -----
    function reportFeedback(
        address[] calldata providers,
        uint32[] calldata confirmed,
        uint32[] calldata falsePositive,
        uint32[] calldata outdated
    ) external;
    function settleBonus(uint32 week, address provider, address[] calldata reporters) external;
    /// @dev Balance with decay applied up to now (the starting grant if never touched) and overdraft.
    function creditsOf(address member) external view returns (int256 balance, uint256 overdraft);
    function pairState(address querier, address provider)
        external
        view
        returns (uint64 highestNonce, uint256 window, uint64 evaluatedItems, uint64 reportedItems);
    function currentWeek() external view returns (uint32);
    function creditParams()
        external
        view
        returns (
            uint256 startingCredits,
            uint256 overdraftLimit,
            uint16 poolPercent,
            uint16 providerCapPercent,
            uint256 falsePositiveBurn
        );
    /// @dev Items metered in `week`, confirmations reported in it, and whether `provider`'s bonus for
    /// it was settled and how many confirmations it got.
    function weekState(uint32 week, address provider)
        external
        view
        returns (uint64 meteredItems, uint64 confirmed, uint64 providerConfirmed, bool settled);
}
