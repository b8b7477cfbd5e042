/**
 * `/riskshare/pepper/1`: an admitted member fetches the consortium pepper of an epoch from any
 * Active member, sealed to its own key (ECIES over secp256k1, AES-256-GCM).
 *
 * @example
 *   const service = pepper()({ registrar: host.libp2p, dialer: host.libp2p, membership, peppers, keyAgreement: host.keyAgreement, logger });
 *   await service.start();
 *   const bytes = await service.fetchPepper(peerMultiaddr, epoch); // 32 bytes, never logged
 *   const keeper = new PepperKeeper({ selfAddress }, { view, keys, store, peppers: service, logger });
 *   if (!(await keeper.load())) void keeper.fetchUntilHeld(signal); // keeper.hasher once held
 */
export { CLIENT_TIMEOUT_MS, FETCH_RETRY_MS, MAX_FRAME_BYTES, PEPPER_BYTES, PEPPER_PROTOCOL, TIMEOUT_MS } from "./constants.ts";
export { PEPPER_DEFAULTS, type PepperInit, type PepperOptions } from "./options.ts";
export { pepperRequestFrame, pepperResponseFrame, sealedPepperFrame, type PepperRequestFrame, type PepperResponseFrame, type SealedPepperFrame } from "./messages.ts";
export { contextBytes, openPepper, sealPepper, type PepperContext, type SealedPepper } from "./crypto.ts";
export { pepper, PepperService, type FetchPepperOptions, type PepperComponents, type PepperSource } from "./service.ts";
export { PepperKeeper, type PepperKeeperModules, type PepperKeeperOptions } from "./keeper.ts";
