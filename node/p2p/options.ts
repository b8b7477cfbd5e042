/**
 * Defaults of the libp2p host: the one place they live (the node's config maps onto them).
 */
import type { Clock } from "./components.ts";

/** Options of {@link createHost}. */
export interface HostOptions {
  /** The member's 32-byte secp256k1 EVM private key, hex: also the node's libp2p identity. */
  privateKey: string;
  /** Multiaddrs to listen on, e.g. /ip4/127.0.0.1/tcp/0. */
  listen: string[];
  /** Multiaddrs (with /p2p/<PeerId>) of members to connect to at start; no public DHT, no mDNS. */
  bootstrap: string[];
  /** How long one dial may take. */
  dialTimeoutMs: number;
  /** Most open connections: a consortium has tens of members, not thousands. */
  maxConnections: number;
}

/** Default {@link HostOptions} (privateKey has none). */
export const HOST_DEFAULTS: Omit<HostOptions, "privateKey"> = {
  listen: ["/ip4/127.0.0.1/tcp/0"],
  bootstrap: [],
  dialTimeoutMs: 5_000,
  maxConnections: 300,
};

/** The wall clock, in whole unix seconds. */
export const systemClock: Clock = { nowSec: () => Math.floor(Date.now() / 1000) };
