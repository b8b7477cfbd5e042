/**
 * The libp2p host of a member node: TCP + Noise + Yamux + Identify, its identity made from the
 * member's EVM key, and a connection gater that admits only Active members (I-1). No public DHT
 * and no mDNS: peers come from the bootstrap list and from explicit dials.
 */
import { noise } from "@chainsafe/libp2p-noise";
import { yamux } from "@chainsafe/libp2p-yamux";
import { identify, type Identify } from "@libp2p/identify";
import type { Connection, PeerId } from "@libp2p/interface";
import { tcp } from "@libp2p/tcp";
import { peerIdFromString } from "@libp2p/peer-id";
import { multiaddr, type Multiaddr } from "@multiformats/multiaddr";
import { createLibp2p, type Libp2p } from "libp2p";
import { exchangeSignal } from "../deadline.ts";
import { RiskshareError, assertArgument } from "../errors.ts";
import type { Logger } from "../logger.ts";
import type { MembershipView } from "./components.ts";
import { toP2pError } from "./errors.ts";
import { libp2pKeyFromEvmKey, peerIdToAddress } from "./identity.ts";
import { activeMember, membershipGater } from "./membership.ts";
import { HOST_DEFAULTS, type HostOptions } from "./options.ts";

/** Multiaddr protocol code of /p2p/<PeerId>. */
const P2P_CODE = 421;

/** Dependencies of {@link RiskshareHost}. */
export interface HostModules {
  logger: Logger;
  membership: MembershipView;
}

/** The outcome of dialing one bootstrap address. */
export interface BootstrapResult {
  multiaddr: string;
  ok: boolean;
  code?: string;
}

/** The libp2p services the host runs. */
export type HostServices = { identify: Identify };

/** Builds (but does not start) the host; the key is checked and turned into the libp2p identity. */
export async function createHost(opts: Partial<HostOptions> & Pick<HostOptions, "privateKey">, modules: HostModules): Promise<RiskshareHost> {
  const options: HostOptions = { ...HOST_DEFAULTS, ...opts };
  assertArgument(modules.membership !== undefined, "the host needs a membership view", "membership");
  const log = modules.logger.child({ module: "p2p.host" });
  const bootstrap = options.bootstrap.map((address) => {
    try {
      return multiaddr(address);
    } catch (err) {
      throw new RiskshareError("E_CONFIG", `p2p.bootstrap: '${address}' is not a multiaddr`, { field: "p2p.bootstrap" }, { cause: err });
    }
  });
  const libp2p = await createLibp2p({
    start: false,
    privateKey: libp2pKeyFromEvmKey(options.privateKey),
    addresses: { listen: options.listen },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionGater: membershipGater(modules.membership, log),
    connectionManager: { maxConnections: options.maxConnections, dialTimeout: options.dialTimeoutMs },
    nodeInfo: { name: "riskshare" },
    services: { identify: identify() },
  });
  return new RiskshareHost(options, { ...modules, logger: log }, libp2p, bootstrap);
}

/**
 * A running libp2p node bound to one member's key. Protocol services take `host.libp2p` as their
 * registrar and dialer.
 */
export class RiskshareHost {
  /** The libp2p node (a StreamRegistrar and a PeerDialer). */
  readonly libp2p: Libp2p<HostServices>;
  private readonly opts: HostOptions;
  private readonly modules: HostModules;
  private readonly bootstrap: Multiaddr[];
  private abort = new AbortController();

  constructor(opts: HostOptions, modules: HostModules, libp2p: Libp2p<HostServices>, bootstrap: Multiaddr[]) {
    this.opts = opts;
    this.modules = modules;
    this.libp2p = libp2p;
    this.bootstrap = bootstrap;
  }

  /** This node's PeerId. */
  get peerId(): PeerId {
    return this.libp2p.peerId;
  }

  /** This node's EVM address (the same key as its PeerId). */
  get address(): string {
    return peerIdToAddress(this.libp2p.peerId);
  }

  /** The addresses peers can dial, each ending in /p2p/<PeerId>. */
  getMultiaddrs(): Multiaddr[] {
    return this.libp2p.getMultiaddrs();
  }

  /** Starts listening, then connects to the bootstrap peers in the background. */
  async start(): Promise<void> {
    this.abort = new AbortController();
    await this.libp2p.start();
    this.modules.logger.info({ peerId: this.peerId.toString(), addresses: this.getMultiaddrs().map(String) }, "p2p host started");
    await this.rememberBootstrapAddresses();
    if (this.bootstrap.length > 0) {
      void this.connectBootstrap(this.abort.signal).catch(() => undefined);
    }
  }

  /** Stops dialing, closes every connection and stops listening. */
  async stop(): Promise<void> {
    this.abort.abort(new RiskshareError("E_ABORTED", "host stopping"));
    await this.libp2p.stop();
    this.modules.logger.info({}, "p2p host stopped");
  }

  /** Connects to one peer by multiaddr (string or parsed) or PeerId. */
  async dial(target: string | Multiaddr | PeerId, opts: { signal?: AbortSignal } = {}): Promise<Connection> {
    const deadline = exchangeSignal(this.opts.dialTimeoutMs, [this.abort.signal, opts.signal]);
    try {
      return await this.libp2p.dial(typeof target === "string" ? multiaddr(target) : target, { signal: deadline.signal });
    } catch (err) {
      throw toP2pError(err, deadline.signal);
    } finally {
      deadline.dispose();
    }
  }

  /**
   * Puts every bootstrap address into the peer store, so a later dial by PeerId (a fan-out) finds
   * the peer even when it was down at our start and has not connected to us since.
   */
  private async rememberBootstrapAddresses(): Promise<void> {
    for (const address of this.bootstrap) {
      const peer = address.getComponents().find((component) => component.name === "p2p")?.value;
      if (peer === undefined || peer === this.peerId.toString()) continue;
      try {
        await this.libp2p.peerStore.merge(peerIdFromString(peer), { multiaddrs: [address.decapsulateCode(P2P_CODE)] });
      } catch (err) {
        this.modules.logger.warn({ multiaddr: String(address), err: (err as Error).message }, "bootstrap address not usable");
      }
    }
  }

  /** Dials every bootstrap address in parallel; a peer that is down is reported, never thrown. */
  async connectBootstrap(signal?: AbortSignal): Promise<BootstrapResult[]> {
    const settled = await Promise.allSettled(this.bootstrap.map((address) => this.dial(address, signal ? { signal } : {})));
    return settled.map((result, index) => {
      const address = String(this.bootstrap[index]);
      if (result.status === "fulfilled") return { multiaddr: address, ok: true };
      const code = toP2pError(result.reason).code;
      this.modules.logger.warn({ multiaddr: address, code }, "bootstrap peer unreachable");
      return { multiaddr: address, ok: false, code };
    });
  }

  /** The PeerIds (as text) this host holds a connection to right now. */
  connectedPeerIds(): Set<string> {
    return new Set(this.libp2p.getConnections().map((connection) => connection.remotePeer.toString()));
  }

  /** True when the PeerId belongs to an Active member right now. */
  isActiveMember(peerId: PeerId): boolean {
    return activeMember(this.modules.membership, peerId) !== undefined;
  }

  /**
   * Closes every connection to a peer that is no longer an Active member (call it when the
   * registry says a member was suspended or removed); returns how many were closed.
   */
  async disconnectInactive(): Promise<number> {
    const stale = this.libp2p.getConnections().filter((connection) => !this.isActiveMember(connection.remotePeer));
    for (const connection of stale) {
      this.modules.logger.info({ peerId: connection.remotePeer.toString() }, "closing the connection of a peer that is no longer an Active member");
      // abort, not close: nothing more from this peer is worth waiting for
      connection.abort(new RiskshareError("E_NOT_MEMBER", "peer is no longer an Active member"));
    }
    return stale.length;
  }
}
