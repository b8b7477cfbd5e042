/**
 * The p2p layer of a member node: a libp2p host whose identity is the member's EVM key, that
 * admits only Active members (I-1), and the `/riskshare/lookup/2` (private lookups) and
 * `/riskshare/filter/1` (tag filters) and `/riskshare/feedback/1` (feedback on hits) protocols.
 *
 * @example
 *   const host = await createHost({ privateKey, listen: ["/ip4/127.0.0.1/tcp/0"], bootstrap }, { logger, membership });
 *   await host.start();
 *   const filters = filterProtocol({ chainId })({ registrar: host.libp2p, dialer: host.libp2p, membership, signer, source, reciprocity, directory, cache, filterContains, logger });
 *   const lookups = lookup({ chainId, queryLedgerAddress })({ registrar: host.libp2p, dialer: host.libp2p, membership, signer, voprf, …, filters: filters.sync, … });
 *   await filters.start(); await lookups.start();
 *   registry.on("memberChanged", () => void host.disconnectInactive());
 *   …
 *   await lookups.stop(); await filters.stop(); await host.stop();
 */
export type { Clock, DigestSigner, LookupSigner, MembershipView, PeerDialer, PeerIdentity, StreamRegistrar, TypedDataSigner } from "./components.ts";
export { HOST_DEFAULTS, systemClock, type HostOptions } from "./options.ts";
export {
  addressOfKey, evmKeyBytes, libp2pKeyFromEvmKey, peerIdBytes, peerIdFromBytes, peerIdFromEvmKey, peerIdText, peerIdToAddress, tryPeerIdToAddress,
} from "./identity.ts";
export { digestSignerFromEvmKey } from "./keys.ts";
export { activeMember, membershipGater, registryMembership, type MemberRegistry } from "./membership.ts";
export { createHost, RiskshareHost, type BootstrapResult, type HostModules, type HostServices } from "./host.ts";
export { toP2pError } from "./errors.ts";
export { decodeFrame, encodeFrame, errorFrame, errorReply, frameStream, MAX_ERROR_MESSAGE_CHARS, type ErrorFrame, type FrameStream } from "./frames.ts";
export * from "./lookup/index.ts";
export * from "./filter/index.ts";
export * from "./feedback/index.ts";
