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
}
