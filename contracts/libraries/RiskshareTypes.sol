// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

/// @title Types shared by the riskshare contracts and, through the same strings, by TypeScript
/// (node/chain/eip712.ts). Changing a type string here invalidates every signature made before.
library RiskshareTypes {
    /// @dev Lifecycle: None → Proposed → Active ⇄ Suspended → Removed. Removed cannot be reinstated;
    /// only a fresh Admit vote brings the account back (as a new admission).
    enum MemberStatus {
        None,
        Proposed,
        Active,
        Suspended,
        Removed
    }

    /// @dev What a proposal does when executed; the payload is the abi-encoding noted beside each.
    enum ProposalKind {
        Admit, //           (address account, string name, bytes peerId)
        Suspend, //         (address account)
        Reinstate, //       (address account)
        Remove, //          (address account)
        AddRegulator, //    (address account)
        RemoveRegulator, // (address account)
        SetPolicy, //       (uint8 categoryId, CategoryPolicy policy)
        AddCategory, //     (string name)
        RetireCategory, //  (uint8 categoryId)
        RotatePepper, //    () — the epoch becomes current + 1
        SetQuorum //        (uint16 numerator, uint16 denominator)
    }

    struct Member {
        address account;
        string name;
        /// @dev libp2p PeerId bytes (multihash of the node's public key).
        bytes peerId;
        MemberStatus status;
        /// @dev Block timestamp at which the member became Active through its latest admission
        /// (seeding or an Admit vote); 0 while Proposed. Suspension and reinstatement keep it.
        uint64 joinedAt;
    }

    struct Category {
        uint8 id;
        string name;
        bool active;
    }

    /// @dev Reciprocity parameters for one category (see DESIGN "Reciprocity").
    struct CategoryPolicy {
        /// Least live entries a querier's latest snapshot must count to query the category.
        uint64 minEntries;
        /// Oldest a querier's snapshot may be, in seconds.
        uint64 maxSnapshotAge;
        /// Queries per provider per rolling day granted to every contributing member.
        uint64 quotaBase;
        /// Extra queries per contributed entry, in basis points (10_000 = one query per entry).
        uint64 quotaRatioBps;
    }

    struct Proposal {
        ProposalKind kind;
        address proposer;
        uint64 createdAt;
        uint64 expiresAt;
        /// @dev Votes needed, fixed from the Active member count when proposed.
        uint32 quorum;
        uint32 votes;
        bool executed;
        bytes payload;
    }

    /// @dev One query record as a provider submits it to the QueryLedger. Small fields are kept as
    /// separate members for readability; their zero padding in calldata is cheap.
    struct QueryRecord {
        address querier;
        /// Bit i set = category id i was asked for (ids 1..63).
        uint64 categoryMask;
        uint64 deadline;
        uint32 itemCount;
        uint32 hitCount;
        /// 0 = answered; otherwise the denial reason (node/chain/outcomes.ts).
        uint8 outcome;
        bytes32 itemsCommitment;
        bytes32 nonce;
        /// Querier's EIP-712 signature of the LookupRequest in EIP-2098 compact form (r, yParityAndS).
        bytes32 signatureR;
        bytes32 signatureVs;
    }

    /// @dev keccak256 of the EIP-712 type string of a lookup request.
    bytes32 internal constant LOOKUP_REQUEST_TYPEHASH = keccak256(
        "LookupRequest(address querier,address provider,uint64 categoryMask,uint32 itemCount,bytes32 itemsCommitment,bytes32 nonce,uint64 deadline)"
    );
}
