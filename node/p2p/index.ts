/**
 * The p2p layer of a member node: a libp2p host whose identity is the member's EVM key, that
 * admits only Active members (I-1), and the `/riskshare/lookup/1` and `/riskshare/pepper/1`
 * protocols.
 *
 * @example
 *   const host = await createHost({ privateKey, listen: ["/ip4/127.0.0.1/tcp/0"], bootstrap }, { logger, membership });
 *   await host.start();
 *   const lookups = lookup({ chainId, queryLedgerAddress })({ registrar: host.libp2p, dialer: host.libp2p, membership, signer: wallet, outbox, nonceGuard, reciprocity, entries, journal, logger });
 *   const peppers = pepper()({ registrar: host.libp2p, dialer: host.libp2p, membership, peppers: keyStore, keyAgreement: host.keyAgreement, logger });
 *   await lookups.start(); await peppers.start();
 *   registry.on("memberChanged", () => void host.disconnectInactive());
 *   …
 *   await peppers.stop(); await lookups.stop(); await host.stop();
 */
export type { Clock, DigestSigner, KeyAgreement, LookupSigner, MembershipView, PeerDialer, PeerIdentity, StreamRegistrar, TypedDataSigner } from "./components.ts";
export { HOST_DEFAULTS, systemClock, type HostOptions } from "./options.ts";
export {
  addressOfKey, evmKeyBytes, libp2pKeyFromEvmKey, peerIdBytes, peerIdFromBytes, peerIdFromEvmKey, peerIdText, peerIdToAddress, tryPeerIdToAddress,
} from "./identity.ts";
export { digestSignerFromEvmKey, ephemeralKeyPair, keyAgreementFromEvmKey, sharedX } from "./keys.ts";
export { activeMember, membershipGater, registryMembership, type MemberRegistry } from "./membership.ts";
export { createHost, RiskshareHost, type BootstrapResult, type HostModules, type HostServices } from "./host.ts";
export { toP2pError } from "./errors.ts";
export { decodeFrame, encodeFrame, errorFrame, errorReply, frameStream, MAX_ERROR_MESSAGE_CHARS, type ErrorFrame, type FrameStream } from "./frames.ts";
export * from "./lookup/index.ts";
export {
  CLIENT_TIMEOUT_MS as PEPPER_CLIENT_TIMEOUT_MS, MAX_FRAME_BYTES as PEPPER_MAX_FRAME_BYTES, PEPPER_BYTES, PEPPER_PROTOCOL, TIMEOUT_MS as PEPPER_TIMEOUT_MS,
  FETCH_RETRY_MS as PEPPER_FETCH_RETRY_MS, PEPPER_DEFAULTS, PepperKeeper, pepperRequestFrame, pepperResponseFrame, sealedPepperFrame, contextBytes, openPepper, sealPepper, pepper, PepperService,
  type PepperInit, type PepperOptions, type PepperRequestFrame, type PepperResponseFrame, type SealedPepperFrame, type PepperContext, type SealedPepper,
  type FetchPepperOptions, type PepperComponents, type PepperKeeperModules, type PepperKeeperOptions, type PepperSource,
} from "./pepper/index.ts";
