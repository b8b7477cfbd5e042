/**
 * The node's hold on the current epoch's pepper: read from its key store at start, or, on a new
 * member's first start, fetched from Active peers over `/riskshare/pepper/1` until one gives it.
 */
import type { DialTarget } from "@libp2p/interface";
import { setTimeout as delay } from "node:timers/promises";
import { isRiskshareError } from "../../errors.ts";
import { createHmac } from "node:crypto";

// TODO(integrator): the pepper goes with protocol v2; identity's Hasher is gone, so this module keeps
// a stand-in with the old definition (HMAC-SHA256(pepper, type || 0x00 || normalised)) until it is removed.
class Hasher {
  private constructor(readonly epoch: number, private readonly pepper: Uint8Array) {}
  static fromPepper(secret: { epoch: number; pepper: Uint8Array }): Hasher {
    return new Hasher(secret.epoch, Uint8Array.from(secret.pepper));
  }
  hashHex(type: string, normalised: string): string {
    return createHmac("sha256", this.pepper).update(`${type}\u0000`).update(normalised, "utf8").digest("hex");
  }
}
import type { Logger } from "../../logger.ts";
import { peerIdFromBytes } from "../identity.ts";
import { FETCH_RETRY_MS } from "./constants.ts";
import type { FetchPepperOptions } from "./service.ts";

/** Options of {@link PepperKeeper}. */
export interface PepperKeeperOptions {
  /** This node's member address (never asked for its own pepper). */
  selfAddress: string;
  /** Pause between two rounds over the peers. */
  retryMs?: number;
}

/** Dependencies of {@link PepperKeeper}. */
export interface PepperKeeperModules {
  /** The consortium's current epoch and members (the chain's ConsortiumView fits). */
  view: {
    pepperEpoch(): number;
    isActive(address: string): boolean;
    activeMembers(): readonly { address: string; peerId: string }[];
  };
  /** Where peppers are kept (the config's KeyStore fits). */
  keys: {
    pepper(epoch: number): Promise<Uint8Array | undefined>;
    putPepper(epoch: number, pepper: Uint8Array): Promise<void>;
  };
  /** The store, bound to the epoch its hashes are made under. */
  // TODO(integrator): the v2 store binds to (chainId, provider, keyEpoch) instead (Store.bindKeys) and has no
  // bindPepperEpoch; a store that still has one (the tests' fake) is bound as before.
  store?: { bindPepperEpoch?(epoch: number): Promise<void> } | object;
  /** The pepper protocol's client side (PepperService fits). */
  peppers: { fetchPepper(peer: DialTarget, epoch: number, opts?: FetchPepperOptions): Promise<Uint8Array> };
  logger: Logger;
}

/** Holds the hasher of the current pepper epoch once this node has the pepper. */
export class PepperKeeper {
  private readonly opts: Required<PepperKeeperOptions>;
  private readonly modules: PepperKeeperModules;
  private readonly log: Logger;
  private current: Hasher | undefined;

  constructor(opts: PepperKeeperOptions, modules: PepperKeeperModules) {
    this.opts = { retryMs: FETCH_RETRY_MS, ...opts };
    this.modules = modules;
    this.log = modules.logger.child({ module: "p2p.pepper.keeper" });
  }

  /** The hasher of the current epoch; undefined until the pepper is held. */
  get hasher(): Hasher | undefined {
    return this.current;
  }

  /** The current epoch (the chain's). */
  epoch(): number {
    return this.modules.view.pepperEpoch();
  }

  /** Takes the current epoch's pepper from the key store, if it is there; true when held. */
  async load(): Promise<boolean> {
    const epoch = this.epoch();
    const pepper = await this.modules.keys.pepper(epoch);
    if (pepper === undefined) return false;
    const store = this.modules.store as { bindPepperEpoch?(epoch: number): Promise<void> } | undefined;
    await store?.bindPepperEpoch?.(epoch);
    this.current = Hasher.fromPepper({ epoch, pepper });
    return true;
  }

  /**
   * Asks each Active peer in turn for the current pepper, round after round (while this node is
   * itself Active), until one gives it or `signal` aborts. Resolves at once if it is held.
   */
  async fetchUntilHeld(signal: AbortSignal): Promise<void> {
    while (!signal.aborted && this.current === undefined) {
      const epoch = this.epoch();
      if (this.modules.view.isActive(this.opts.selfAddress)) {
        for (const member of this.modules.view.activeMembers()) {
          if (member.address === this.opts.selfAddress || signal.aborted) continue;
          try {
            const pepper = await this.modules.peppers.fetchPepper(peerIdFromBytes(member.peerId), epoch, { signal });
            await this.modules.keys.putPepper(epoch, pepper);
            await this.load();
            this.log.info({ epoch, from: member.address }, "pepper received");
            return;
          } catch (err) {
            this.log.debug({ from: member.address, code: isRiskshareError(err) ? err.code : "unknown" }, "pepper fetch failed");
          }
        }
      }
      await delay(this.opts.retryMs, undefined, { signal }).catch(() => undefined);
    }
  }
}
