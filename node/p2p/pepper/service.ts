/**
 * `/riskshare/pepper/1`: an Active member asks a peer for epoch E's pepper and receives it sealed
 * to its own key. Anyone else gets an E_NOT_MEMBER error frame and nothing more. Nothing about
 * the pepper is ever logged.
 */
import type { Connection, DialTarget, Stream } from "@libp2p/interface";
import { isRiskshareError, RiskshareError, ERROR_HINTS } from "../../errors.ts";
import { exchangeSignal } from "../../deadline.ts";
import type { Logger } from "../../logger.ts";
import type { KeyAgreement, MembershipView, PeerDialer, StreamRegistrar } from "../components.ts";
import { knownCode, toP2pError } from "../errors.ts";
import { decodeFrame, encodeFrame, errorReply, frameStream, readFrameBytes, writeFrameBytes } from "../frames.ts";
import { addressOfKey, peerIdToAddress } from "../identity.ts";
import { activeMember } from "../membership.ts";
import { MAX_FRAME_BYTES, PEPPER_BYTES, PEPPER_PROTOCOL } from "./constants.ts";
import { openPepper, sealPepper } from "./crypto.ts";
import { pepperRequestFrame, pepperResponseFrame, type PepperResponseFrame } from "./messages.ts";
import { PEPPER_DEFAULTS, type PepperInit, type PepperOptions } from "./options.ts";

/** Where this node's peppers come from (its key store). */
export interface PepperSource {
  /** The 32-byte pepper of `epoch`, or undefined when this node does not hold it. */
  get(epoch: number): Uint8Array | undefined | Promise<Uint8Array | undefined>;
}

/** Everything {@link PepperService} uses. */
export interface PepperComponents {
  registrar: StreamRegistrar;
  dialer: PeerDialer;
  membership: MembershipView;
  peppers: PepperSource;
  /** ECDH with this node's key (RiskshareHost.keyAgreement). */
  keyAgreement: KeyAgreement;
  logger: Logger;
}

const REQUIRED: readonly (keyof PepperComponents)[] = ["registrar", "dialer", "membership", "peppers", "keyAgreement", "logger"];

/** Per-call options of {@link PepperService.fetchPepper}. */
export interface FetchPepperOptions {
  signal?: AbortSignal;
  timeoutMs?: number;
}

/** The pepper protocol, both sides. */
export class PepperService {
  readonly protocol = PEPPER_PROTOCOL;
  private readonly opts: PepperOptions;
  private readonly components: PepperComponents;
  private readonly log: Logger;
  private readonly address: string;
  private abort = new AbortController();
  private started = false;

  constructor(init: PepperInit, components: PepperComponents) {
    for (const name of REQUIRED) {
      if (components[name] === undefined) throw new RiskshareError("E_INTERNAL", `the pepper service needs the '${name}' component`, { component: name });
    }
    this.opts = { ...PEPPER_DEFAULTS, ...init };
    this.components = components;
    this.log = components.logger.child({ module: "p2p.pepper" });
    this.address = addressOfKey(components.keyAgreement.publicKey);
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
    await this.components.registrar.handle(PEPPER_PROTOCOL, (stream, connection) => this.handle(stream, connection, signal), {
      maxInboundStreams: this.opts.maxInboundStreams,
    });
    this.started = true;
  }

  /** Unregisters the handler and aborts exchanges in flight. */
  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    this.abort.abort(new RiskshareError("E_ABORTED", "pepper service stopping"));
    await this.components.registrar.unhandle(PEPPER_PROTOCOL);
  }

  /**
   * Fetches epoch `epoch`'s 32-byte pepper from a peer. Throws a RiskshareError: the provider's
   * code (E_NOT_MEMBER, E_PEPPER_MISSING…), E_TIMEOUT, E_PEER_UNREACHABLE or E_PROTOCOL.
   */
  async fetchPepper(peer: DialTarget, epoch: number, opts: FetchPepperOptions = {}): Promise<Uint8Array> {
    const deadline = exchangeSignal(opts.timeoutMs ?? this.opts.clientTimeoutMs, [this.abort.signal, opts.signal]);
    const signal = deadline.signal;
    let reply: PepperResponseFrame;
    let providerAddress: string;
    try {
      const request = encodeFrame({ epoch }, pepperRequestFrame, MAX_FRAME_BYTES);
      const connection = await this.components.dialer.dial(peer, { signal });
      providerAddress = peerIdToAddress(connection.remotePeer);
      const stream = await connection.newStream(PEPPER_PROTOCOL, { signal });
      try {
        const frames = frameStream(stream, MAX_FRAME_BYTES);
        await writeFrameBytes(frames, request, signal);
        reply = decodeFrame(await readFrameBytes(frames, signal), pepperResponseFrame);
        await stream.close({ signal });
      } catch (err) {
        stream.abort(err instanceof Error ? err : new Error(String(err)));
        throw err;
      }
    } catch (err) {
      throw toP2pError(err, signal);
    } finally {
      deadline.dispose();
    }
    if (!reply.ok) throw new RiskshareError(knownCode(reply.error.code, ERROR_HINTS), reply.error.message, { providerAddress });
    if (reply.epoch !== epoch) throw new RiskshareError("E_PROTOCOL", "the peer sent another epoch's pepper", { providerAddress, epoch });
    const pepper = openPepper(reply, this.components.keyAgreement, { epoch, requesterAddress: this.address, providerAddress });
    if (pepper.length !== PEPPER_BYTES) throw new RiskshareError("E_PROTOCOL", "the pepper has the wrong length", { providerAddress });
    this.log.info({ providerAddress, epoch }, "pepper received");
    return pepper;
  }

  private async handle(stream: Stream, connection: Connection, serviceSignal: AbortSignal): Promise<void> {
    const deadline = exchangeSignal(this.opts.timeoutMs, [serviceSignal]);
    const signal = deadline.signal;
    const frames = frameStream(stream, MAX_FRAME_BYTES);
    try {
      const bytes = await readFrameBytes(frames, signal);
      const reply = await this.respond(bytes, connection);
      await writeFrameBytes(frames, encodeFrame(reply, pepperResponseFrame, MAX_FRAME_BYTES), signal);
      await stream.close({ signal });
    } catch (err) {
      const error = toP2pError(err, signal);
      this.log.info({ peerId: connection.remotePeer.toString(), code: error.code }, "pepper stream dropped");
      stream.abort(error);
    } finally {
      deadline.dispose();
    }
  }

  private async respond(bytes: Uint8Array, connection: Connection): Promise<PepperResponseFrame> {
    const member = activeMember(this.components.membership, connection.remotePeer);
    if (member === undefined || connection.remotePeer.publicKey === undefined) {
      this.log.info({ peerId: connection.remotePeer.toString() }, "pepper refused to a peer that is not an Active member");
      return errorReply("E_NOT_MEMBER", "the peer is not an Active member");
    }
    let epoch: number;
    try {
      epoch = decodeFrame(bytes, pepperRequestFrame).epoch;
    } catch (err) {
      return errorReply(isRiskshareError(err) ? err.code : "E_PROTOCOL", isRiskshareError(err) ? err.message : "malformed request");
    }
    let pepper: Uint8Array | undefined;
    try {
      pepper = await this.components.peppers.get(epoch);
    } catch (err) {
      this.log.error({ epoch, code: isRiskshareError(err) ? err.code : "unknown" }, "pepper source failed");
      return errorReply("E_INTERNAL", "the provider could not read its pepper store");
    }
    if (pepper === undefined) return errorReply("E_PEPPER_MISSING", `this node does not hold the pepper of epoch ${epoch}`);
    const sealed = sealPepper(pepper, connection.remotePeer.publicKey.raw, { epoch, requesterAddress: member.address, providerAddress: this.address });
    this.log.info({ requester: member.address, epoch }, "pepper sent sealed");
    return { ok: true, epoch, ...sealed };
  }
}

/** The protocol factory, js-libp2p style: `pepper(init)(components)`. */
export function pepper(init: PepperInit = {}): (components: PepperComponents) => PepperService {
  return (components) => new PepperService(init, components);
}
