// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IConsortiumRegistry} from "../interfaces/IConsortiumRegistry.sol";
import {RiskshareTypes} from "./RiskshareTypes.sol";

/// @title The checks that an admission request comes from the candidate itself: its public key is a
/// secp256k1 point that hashes to its account and is the key its PeerId encodes, and it signed the
/// request (EIP-712) for this registry on this chain. The registry calls {checkAdmit} when an Admit is
/// proposed and again when it executes. Deployed once and linked (external functions run by
/// DELEGATECALL), so that its code does not count against the registry's 24,576 bytes (EIP-170).
library AdmissionVerifier {
    /// @dev The secp256k1 field prime p.
    uint256 private constant P = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEFFFFFC2F;
    /// @dev n/2 for the curve order n: a larger s is the malleable twin of a valid signature.
    uint256 private constant HALF_N = 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0;
    /// @dev The libp2p identity multihash prefix of a protobuf PublicKey{Type: Secp256k1, Data: 33 bytes}:
    /// multihash code 0x00 (identity), length 0x25; protobuf field 1 (0x08) = 2 (Secp256k1); field 2
    /// (0x12) of length 0x21. The compressed key follows: 0x02 or 0x03 by y's parity, then x.
    bytes6 private constant PEER_ID_PREFIX = 0x002508021221;
    bytes32 private constant DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");
    /// @dev The same name and version as every riskshare signature (node/chain/eip712.ts).
    bytes32 private constant NAME_HASH = keccak256("riskshare");
    bytes32 private constant VERSION_HASH = keccak256("1");

    /// @dev The EIP-712 domain separator of admission requests to `registry` on this chain.
    function domainSeparator(address registry) public view returns (bytes32) {
        return keccak256(abi.encode(DOMAIN_TYPEHASH, NAME_HASH, VERSION_HASH, block.chainid, registry));
    }

    /// @dev Shortest ABI encoding of (address, string, bytes, bytes32, bytes, bytes): 6 head words and
    /// 4 length words.
    uint256 private constant MIN_ADMIT_PAYLOAD_BYTES = 10 * 32;

    /// @notice Decodes an Admit payload (address account, string name, bytes peerId, bytes32 oprfKey,
    /// bytes publicKey, bytes signature) and checks that the candidate made it: `publicKey` (x‖y) is
    /// on secp256k1, hashes to `account` and is the key `peerId` encodes, and `signature` is
    /// `account`'s low-s EIP-712 signature of the Admission struct for this registry (the caller:
    /// an external library function runs in the registry's context) on this chain. Whether the
    /// candidate may be admitted is the registry's to check.
    function checkAdmit(bytes memory payload)
        public
        view
        returns (address account, string memory name, bytes memory peerId, bytes32 oprfKey)
    {
        if (payload.length < MIN_ADMIT_PAYLOAD_BYTES) {
            revert IConsortiumRegistry.ConsortiumRegistryInvalidPayload(RiskshareTypes.ProposalKind.Admit);
        }
        bytes memory publicKey;
        bytes memory signature;
        (account, name, peerId, oprfKey, publicKey, signature) =
            abi.decode(payload, (address, string, bytes, bytes32, bytes, bytes));
        if (keccak256(abi.encode(account, name, peerId, oprfKey, publicKey, signature)) != keccak256(payload)) {
            revert IConsortiumRegistry.ConsortiumRegistryInvalidPayload(RiskshareTypes.ProposalKind.Admit);
        }
        _checkKey(account, peerId, publicKey);
        bytes32 structHash = keccak256(
            abi.encode(
                RiskshareTypes.ADMISSION_TYPEHASH,
                account,
                keccak256(bytes(name)),
                keccak256(peerId),
                keccak256(publicKey),
                oprfKey
            )
        );
        _checkSignature(
            account, keccak256(abi.encodePacked(hex"1901", domainSeparator(address(this)), structHash)), signature
        );
    }

    /// @notice The body of ConsortiumRegistry.rotateMemberKey after the registry's checks of its caller
    /// `oldAccount` (Active, not named by a pending Suspend or Remove) and that `newAccount` is no
    /// regulator: `newAccount` was never seen (its record's account is zero), `oprfKey` is not zero,
    /// `peerId` is free; `publicKey` (x‖y) is on secp256k1, hashes to `newAccount` and is the key
    /// `peerId` encodes, and `signature` is `newAccount`'s low-s EIP-712 signature of the KeyRotation
    /// struct for this registry on this chain. Then writes the member's record under `newAccount`
    /// (name and joinedAt kept, `oprfKey` in force for the next key epoch), binds `peerId` to it and
    /// marks `oldAccount` Rotated; the old account's open proposals are the new one's (they still take
    /// the member's slots). Runs in the registry's context (DELEGATECALL), on its storage.
    function rotate(
        mapping(address => RiskshareTypes.Member) storage members,
        mapping(bytes32 => address) storage accountByPeerIdHash,
        mapping(address => mapping(uint32 => bytes32)) storage oprfKeys,
        mapping(address => uint256[]) storage openProposalsOf,
        address newAccount,
        bytes memory peerId,
        bytes memory publicKey,
        bytes32 oprfKey,
        bytes memory signature
    ) public returns (uint32 epoch) {
        RiskshareTypes.Member storage n = members[newAccount];
        if (n.account != address(0)) revert IConsortiumRegistry.ConsortiumRegistryMemberExists(newAccount, n.status);
        if (oprfKey == bytes32(0)) revert IConsortiumRegistry.ConsortiumRegistryInvalidOprfKey();
        bytes32 peerIdHash = keccak256(peerId);
        if (accountByPeerIdHash[peerIdHash] != address(0)) revert IConsortiumRegistry.ConsortiumRegistryPeerIdTaken(peerId);
        _checkKey(newAccount, peerId, publicKey);
        bytes32 structHash = keccak256(
            abi.encode(
                RiskshareTypes.KEY_ROTATION_TYPEHASH, msg.sender, newAccount, peerIdHash, keccak256(publicKey), oprfKey
            )
        );
        _checkSignature(
            newAccount, keccak256(abi.encodePacked(hex"1901", domainSeparator(address(this)), structHash)), signature
        );

        RiskshareTypes.Member storage m = members[msg.sender];
        epoch = m.keyEpoch + 1;
        n.account = newAccount;
        n.name = m.name;
        n.peerId = peerId;
        n.status = RiskshareTypes.MemberStatus.Active;
        n.joinedAt = m.joinedAt;
        n.keyEpoch = epoch;
        n.keyRotatedAt = uint64(block.timestamp);
        n.oprfKey = oprfKey;
        oprfKeys[newAccount][epoch] = oprfKey;
        accountByPeerIdHash[peerIdHash] = newAccount;
        m.status = RiskshareTypes.MemberStatus.Rotated;
        // Its open proposals still take its slots: a fresh account buys no more of them.
        openProposalsOf[newAccount] = openProposalsOf[msg.sender];
        emit IConsortiumRegistry.MemberKeyRotated(msg.sender, newAccount, peerId, epoch, oprfKey);
    }

    function _checkKey(address account, bytes memory peerId, bytes memory publicKey) private pure {
        if (publicKey.length != 64) revert IConsortiumRegistry.ConsortiumRegistryInvalidPublicKey();
        (uint256 x, uint256 y) = abi.decode(publicKey, (uint256, uint256));
        // y² = x³ + 7 (mod p), with both coordinates reduced.
        if (x >= P || y >= P || mulmod(y, y, P) != addmod(mulmod(mulmod(x, x, P), x, P), 7, P)) {
            revert IConsortiumRegistry.ConsortiumRegistryInvalidPublicKey();
        }
        if (address(uint160(uint256(keccak256(publicKey)))) != account) {
            revert IConsortiumRegistry.ConsortiumRegistryPublicKeyNotAccount(account);
        }
        bytes memory expected = abi.encodePacked(PEER_ID_PREFIX, uint8(2 + (y & 1)), x);
        if (keccak256(peerId) != keccak256(expected)) revert IConsortiumRegistry.ConsortiumRegistryPeerIdNotKey();
    }

    function _checkSignature(address account, bytes32 digest, bytes memory signature) private pure {
        if (signature.length != 65) revert IConsortiumRegistry.ConsortiumRegistryMalformedSignature();
        bytes32 r;
        bytes32 s;
        uint8 v;
        assembly ("memory-safe") {
            r := mload(add(signature, 32))
            s := mload(add(signature, 64))
            v := byte(0, mload(add(signature, 96)))
        }
        if (uint256(s) > HALF_N || (v != 27 && v != 28)) revert IConsortiumRegistry.ConsortiumRegistryMalformedSignature();
        address signer = ecrecover(digest, v, r, s);
        if (signer != account) revert IConsortiumRegistry.ConsortiumRegistryNotSignedByCandidate(account, signer);
    }
}
