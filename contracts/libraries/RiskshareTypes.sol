// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

/// @title Types shared by the riskshare contracts and, through the same strings, by TypeScript
/// (node/chain/eip712.ts). Changing a type string here invalidates every signature made before.
library RiskshareTypes {
    /// @dev Lifecycle: None → Admitted → Active ⇄ Suspended → Removed (seeding: None → Active). A record
    /// is written only when an admission executes (a candidate's data lives in its Admit proposal), so
    /// Proposed is never written and is kept only so that the numbers stay stable. Admitted: the Admit
    /// executed, the member is not in force until ConsortiumRegistry.activate after the admission
    /// delay (no lookups, no vote, not counted); a regulator's veto in that window returns it to None.
    /// Removed is final: no vote brings the account back. Rotated (appended last) is as final: the
    /// member moved to another account by ConsortiumRegistry.rotateMemberKey, and this account
    /// keeps only its history (its PeerId, its OPRF keys per epoch, its last ledger batches).
    /// Suspended covers both a suspension by vote (no vote, no lookups) and a regulator's time-limited
    /// one (no lookups; the member keeps its vote: ConsortiumRegistry.regulatorSuspension).
    enum MemberStatus {
        None,
        Proposed,
        Active,
        Suspended,
        Removed,
        Admitted,
        Rotated
    }

    /// @dev What a proposal does when executed; the payload is the abi-encoding noted beside each.
    enum ProposalKind {
        Admit, //           (address account, string name, bytes peerId, bytes32 oprfKey, bytes publicKey,
        //                   bytes signature): the candidate's 64-byte secp256k1 key x‖y and its 65-byte
        //                   r‖s‖v signature of the Admission struct below
        Suspend, //         (address account)
        Reinstate, //       (address account)
        Remove, //          (address account)
        AddRegulator, //    (address account)
        RemoveRegulator, // (address account)
        SetPolicy, //       (uint8 categoryId, CategoryPolicy policy)
        AddCategory, //     (string name)
        RetireCategory, //  (uint8 categoryId)
        // Slot 9 held RotatePepper in protocol v1 (an empty payload); a v2 registry is a new
        // deployment, and a v1 tool's RotatePepper is refused here as a malformed payload.
        SetKeyEpochLength, // (uint64 seconds)
        SetQuorum, //       (uint16 numerator, uint16 denominator)
        Unpause, //         () empty: lifts a regulator's pause of lookups
        SetWarninglistHash // (bytes32 hash): the SHA-256 of the warninglists members should ship
    }

    struct Member {
        address account;
        string name;
        /// @dev libp2p PeerId bytes (multihash of the node's public key).
        bytes peerId;
        MemberStatus status;
        /// @dev Block timestamp at which the member became Active (its seeding, or the activation of
        /// its admission); 0 while Admitted. Suspension and reinstatement keep it.
        uint64 joinedAt;
        /// @dev Epoch of `oprfKey`: 1 at a first admission, +1 at every {rotateOprfKey}. Epochs run on
        /// across a removal and re-admission (a key once in force for an epoch never changes), and a
        /// Proposed record carries the epoch its key takes when the admission executes.
        uint32 keyEpoch;
        /// @dev Block timestamp from which `oprfKey` is in force (activation or rotation); 0 while Admitted.
        uint64 keyRotatedAt;
        /// @dev The member's RFC 9497 OPRF public key (ristretto255, 32 bytes) for `keyEpoch`.
        bytes32 oprfKey;
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
        /// The most items per provider per rolling day any member earns, whatever it contributes:
        /// at least `quotaBase` and not zero. What bounds how much of a peer's list one member can
        /// walk, even with an inflated snapshot.
        uint64 quotaCeiling;
    }

    /// @dev Where a proposal stands. Open until {ConsortiumRegistry.execute} (or it expires, which time
    /// alone decides); Executed when execute applied it at once; Queued when execute found a
    /// time-locked kind (Remove, AddRegulator, RemoveRegulator, SetPolicy, RetireCategory, SetQuorum)
    /// and set its `eta`; Enacted when {ConsortiumRegistry.enact} applied it after the delay. A
    /// Queued proposal not enacted within the voting period after its eta lapses (time alone decides).
    enum ProposalStatus {
        Open,
        Executed,
        Queued,
        Enacted
    }

    struct Proposal {
        ProposalKind kind;
        address proposer;
        uint64 createdAt;
        uint64 expiresAt;
        /// @dev Votes needed, fixed from `electorate` when proposed (ConsortiumRegistry.quorumFor).
        uint32 quorum;
        /// @dev Votes cast. Only votes of members still entitled count at execution
        /// (ConsortiumRegistry.countedVotes): a member suspended by vote or removed loses its votes.
        uint32 votes;
        /// @dev E: how many members were entitled to vote when the proposal was made; only they vote.
        uint32 electorate;
        /// @dev True once {ConsortiumRegistry.execute} ran: voting is over (applied, or queued).
        bool executed;
        /// @dev Earliest time {ConsortiumRegistry.enact} applies a Queued proposal; 0 unless queued.
        uint64 eta;
        ProposalStatus status;
        bytes payload;
    }

    /// @dev One query record as a provider submits it to the QueryLedger. Small fields are kept as
    /// separate members for readability; their zero padding in calldata is cheap. `querier` is the
    /// peer the provider was connected to (authenticated by its PeerId), never a claim of the message.
    struct QueryRecord {
        address querier;
        /// Bit i set = category id i was asked for (ids 1..63).
        uint64 categoryMask;
        uint64 deadline;
        uint32 itemCount;
        /// 0 = Evaluate (blinded elements), 1 = Fetch (tag-prefix buckets); as the querier signed it.
        uint8 kind;
        /// The provider's key epoch the answer was given under; 0 for a refusal.
        uint32 keyEpoch;
        /// 0 = answered; otherwise the denial reason (node/chain/outcomes.ts).
        uint8 outcome;
        /// Refusals of this outcome from this querier that the record stands for (>= 1; exactly 1 when
        /// answered): a provider folds repeated refusals from one peer within a window into one record.
        uint32 count;
        bytes32 itemsCommitment;
        bytes32 nonce;
        /// Querier's EIP-712 signature of the LookupRequest in EIP-2098 compact form (r, yParityAndS).
        bytes32 signatureR;
        bytes32 signatureVs;
        /// What the querier received. Answered: the `answerDigest` of the LookupAnswer the provider
        /// signed, so (queryId, provider, keyEpoch, itemCount, answerDigest) rebuilds that answer.
        /// Refused: keccak256 of the error code sent (e.g. keccak256("E_QUOTA")).
        bytes32 answerDigest;
    }

    /// @dev keccak256 of the EIP-712 type string of a lookup request, which the querier signs.
    bytes32 internal constant LOOKUP_REQUEST_TYPEHASH = keccak256(
        "LookupRequest(address querier,address provider,uint8 kind,uint64 categoryMask,uint32 itemCount,bytes32 itemsCommitment,bytes32 nonce,uint64 deadline)"
    );

    /// @dev keccak256 of the EIP-712 type string of an admission request, which the candidate signs with
    /// its member key (domain: "riskshare", version "1", the chain, verifyingContract = the registry).
    bytes32 internal constant ADMISSION_TYPEHASH =
        keccak256("Admission(address account,string name,bytes peerId,bytes publicKey,bytes32 oprfKey)");

    /// @dev keccak256 of the EIP-712 type string of a member key rotation, which the NEW member key
    /// signs (same domain as an admission); the old key signs the transaction itself.
    bytes32 internal constant KEY_ROTATION_TYPEHASH = keccak256(
        "KeyRotation(address oldAccount,address newAccount,bytes peerId,bytes publicKey,bytes32 oprfKey)"
    );

    /// @dev keccak256 of the EIP-712 type string of a lookup answer, which the provider signs. No
    /// contract checks one; it is here so that both signed structs are defined in one place.
    bytes32 internal constant LOOKUP_ANSWER_TYPEHASH = keccak256(
        "LookupAnswer(bytes32 queryId,address provider,uint32 keyEpoch,uint32 itemCount,bytes32 answerDigest)"
    );
}
