/**
 * Peer authentication against the registry (I-1): a connection gater that refuses non-members
 * right after the Noise handshake, before any stream can be opened, and the per-stream re-check
 * every protocol handler makes (a member suspended on chain is refused from then on).
 */
import type { ConnectionGater, PeerId } from "@libp2p/interface";
import { hexlify } from "ethers";
import { MemberStatus } from "../chain/index.ts";
import type { Logger } from "../logger.ts";
import type { MembershipView, PeerIdentity } from "./components.ts";
import { peerIdBytes, tryPeerIdToAddress } from "./identity.ts";

/** The identity of an Active member's PeerId, or undefined for anyone else. */
export function activeMember(membership: MembershipView, peerId: PeerId): PeerIdentity | undefined {
  const address = tryPeerIdToAddress(peerId);
  if (address === undefined) return undefined;
  const peer = { peerIdBytes: peerIdBytes(peerId), address };
  return membership.isActivePeer(peer) ? peer : undefined;
}

/** A connection gater that lets only Active members' PeerIds through, both ways. */
export function membershipGater(membership: MembershipView, logger: Logger): ConnectionGater {
  const deny = (direction: string) => (peerId: PeerId): boolean => {
    const member = activeMember(membership, peerId);
    if (member === undefined) logger.info({ direction, peerId: peerId.toString() }, "refused a connection from a peer that is not an Active member");
    return member === undefined;
  };
  return {
    denyDialPeer: deny("dial"),
    denyInboundEncryptedConnection: deny("inbound"),
    denyOutboundEncryptedConnection: deny("outbound"),
  };
}

/** What {@link registryMembership} reads of the registry (the chain's ConsortiumView fits). */
export interface MemberRegistry {
  health(): { stale: boolean };
  member(address: string): { status: number; peerId: string } | undefined;
}

/**
 * The {@link MembershipView} of a registry cache: an Active record binding the address to the
 * PeerId's bytes. Fails closed: while the cache is stale, nobody is a member.
 */
export function registryMembership(registry: MemberRegistry): MembershipView {
  return {
    isActivePeer: (peer) => {
      if (registry.health().stale) return false;
      const member = registry.member(peer.address);
      return member?.status === MemberStatus.Active && member.peerId === hexlify(peer.peerIdBytes).toLowerCase();
    },
  };
}
