/**
 * `/riskshare/lookup/2` as one service: `start()` registers the provider handler (and the v1
 * refusal handler), `stop()` unregisters both and aborts every exchange in flight; `lookupPeer`
 * and `fanOut` ask providers.
 */
import type { DialTarget } from "@libp2p/interface";
import { checksumAddress } from "../../chain/index.ts";
import { RiskshareError } from "../../errors.ts";
import type { Logger } from "../../logger.ts";
import type { Clock } from "../components.ts";
import { systemClock } from "../options.ts";
import { LookupClient, type LookupCallOptions, type LookupOutcome, type LookupQuery } from "./client.ts";
import type { LookupComponents } from "./components.ts";
import { LOOKUP_PROTOCOL, LOOKUP_PROTOCOL_V1 } from "./constants.ts";
import { fanOut, type FanOutOptions, type FanOutTarget } from "./fanout.ts";
import { LookupProvider, pausedMessage } from "./handler.ts";
import { lookupOptions, type LookupInit, type LookupOptions } from "./options.ts";
import { LookupSigning } from "./signing.ts";
import { refuseV1 } from "./v1.ts";

const REQUIRED: readonly (keyof LookupComponents)[] = [
  "registrar", "dialer", "membership", "signer", "voprf", "outbox", "nonceGuard", "reciprocity", "oprfKeys", "store", "snapshots",
  "nonceSource", "providerKeys", "filters", "metadata", "journal", "logger",
];

/** The lookup protocol, both sides. */
export class LookupService {
  readonly protocol = LOOKUP_PROTOCOL;
  private readonly opts: LookupOptions;
  private readonly components: LookupComponents;
  private readonly log: Logger;
  private readonly provider: LookupProvider;
  private readonly client: LookupClient;
  private readonly clock: Clock;
  private abort = new AbortController();
  private started = false;
  private foldTimer: NodeJS.Timeout | undefined;

  constructor(init: LookupInit, components: LookupComponents) {
    for (const name of REQUIRED) {
      if (components[name] === undefined) throw new RiskshareError("E_INTERNAL", `the lookup service needs the '${name}' component`, { component: name });
    }
    this.opts = lookupOptions(init);
    this.components = components;
    this.log = components.logger.child({ module: "p2p.lookup" });
    const clock: Clock = components.clock ?? systemClock;
    this.clock = clock;
    const signing = new LookupSigning(this.opts, components.signer);
    this.provider = new LookupProvider(this.opts, components, clock, this.log, signing);
    this.client = new LookupClient(this.opts, components, clock, this.log, signing);
    this.abort.abort();
  }

  /** Whether the handler is registered. */
  isStarted(): boolean {
    return this.started;
  }

  /** Registers the provider handler. */
  async start(): Promise<void> {
    if (this.started) return;
    this.abort = new AbortController();
    const signal = this.abort.signal;
    await this.components.registrar.handle(LOOKUP_PROTOCOL, (stream, connection) => this.provider.handle(stream, connection, signal), {
      maxInboundStreams: this.opts.maxInboundStreams,
      maxOutboundStreams: this.opts.maxOutboundStreams,
    });
    await this.components.registrar.handle(LOOKUP_PROTOCOL_V1, (stream) => refuseV1(stream, this.opts.maxFrameBytes, signal), {
      maxInboundStreams: this.opts.maxInboundStreams,
    });
    if (this.opts.refusalFoldSeconds > 0) {
      // Lands folded refusal counts of windows that closed without another refusal to close them.
      this.foldTimer = setInterval(() => void this.provider.refusals.flush(performance.now()), this.opts.refusalFoldSeconds * 1_000);
      this.foldTimer.unref();
    }
    this.started = true;
  }

  /** Unregisters the handler and aborts every exchange in flight, served or sent. */
  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    this.abort.abort(new RiskshareError("E_ABORTED", "lookup service stopping"));
    clearInterval(this.foldTimer);
    this.foldTimer = undefined;
    await this.provider.refusals.flush(performance.now(), true);
    await this.client.idle();
    await this.components.registrar.unhandle(LOOKUP_PROTOCOL);
    await this.components.registrar.unhandle(LOOKUP_PROTOCOL_V1);
  }

  /** Closes every open refusal window now, appending its count (see {@link RefusalFolder}); resolves once appended. */
  flushRefusals(): Promise<void> {
    return this.provider.refusals.flush(performance.now(), true);
  }

  /** Resolves once every cover fetch sent so far has its answer, or has failed (see {@link LookupClient.idle}). */
  idle(): Promise<void> {
    return this.client.idle();
  }

  /**
   * Asks one provider (see {@link LookupClient.lookupPeer}); E_ABORTED outcome when the service is
   * stopped. While a regulator pauses lookups nothing is sent: the outcome is denied E_CONSORTIUM_PAUSED.
   */
  async lookupPeer(peer: DialTarget, query: LookupQuery, opts: LookupCallOptions = {}): Promise<LookupOutcome> {
    const pausedUntil = this.components.pause?.pausedUntil(this.clock.nowSec());
    if (pausedUntil !== undefined) {
      return { status: "denied", providerAddress: checksumAddress(query.providerAddress), code: "E_CONSORTIUM_PAUSED", message: pausedMessage(pausedUntil) };
    }
    return this.client.lookupPeer(peer, query, opts, this.abort.signal);
  }

  /** Asks every target in parallel, each with its own timeout; one outcome per target, in order. */
  async fanOut(targets: readonly FanOutTarget[], query: Omit<LookupQuery, "providerAddress">, opts: FanOutOptions = {}): Promise<LookupOutcome[]> {
    return fanOut((peer, q, o) => this.lookupPeer(peer, q, o), targets, query, opts);
  }
}

/** The protocol factory, js-libp2p style: `lookup(init)(components)`. */
export function lookup(init: LookupInit): (components: LookupComponents) => LookupService {
  return (components) => new LookupService(init, components);
}
