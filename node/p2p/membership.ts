/**
 * Peer authentication against the registry (I-1): a connection gater that refuses non-members
 * right after the Noise handshake, before any stream can be opened, and the per-stream re-check
 * every protocol handler makes (a member suspended on chain is refused from then on).
 */
import type { ConnectionGater, PeerId } from "@libp2p/interface";
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
