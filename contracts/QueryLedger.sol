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
/// @dev Storage layout:
///   slot 0   `_lastSequence` (provider => uint64): the provider's last recorded batch, 0 before any.
///   `_registry`, `_cachedChainId`, `_cachedDomainSeparator`, `_removedGrace` and
///   `_maxRequestLifetime` are immutable and take no slot.
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

    mapping(address provider => uint64 seq) private _lastSequence;

    /// @param registry_ The ConsortiumRegistry that says who is an Active member.
    /// @param removedGraceSeconds How long after its removal a removed provider may still land its
    /// last batches (e.g. 7 days).
    /// @param maxRequestLifetimeSeconds The longest lifetime of a lookup request: the furthest ahead a
    /// provider accepts a deadline (600 s, node/chain/audit.ts MAX_REQUEST_TTL_SECONDS).
    constructor(IConsortiumRegistry registry_, uint64 removedGraceSeconds, uint64 maxRequestLifetimeSeconds) {
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
    /// Emits a {QueryRecorded} event per record, then a {BatchRecorded} event.
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

        _emitRecords(_domainSeparator(), records, latestDeadline);
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
    /// {QueryLedgerDeadlineAfterRemoval} (its selector is written out below: the loop has no stack
    /// slot left for another variable).
    function _emitRecords(bytes32 separator, RiskshareTypes.QueryRecord[] calldata records, uint256 latestDeadline)
        private
    {
        bytes32 topic = QueryRecorded.selector;
        bytes32 typehash = LOOKUP_REQUEST_TYPEHASH;
        bytes4 badRecord = QueryLedgerBadRecord.selector;
        uint256 recordBytes = RECORD_BYTES;
        assembly ("memory-safe") {
            let scratch := mload(0x40)
            let end := add(records.offset, mul(records.length, recordBytes))
            for { let rec := records.offset } lt(rec, end) { rec := add(rec, recordBytes) } {
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
                        mstore(0, badRecord)
                        mstore(0x04, div(sub(rec, records.offset), recordBytes))
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
                    mstore(0x04, div(sub(rec, records.offset), recordBytes))
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

                calldatacopy(scratch, add(rec, 0x20), 0x180)
                log4(scratch, 0x180, topic, id, querier, caller())
            }
        }
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
