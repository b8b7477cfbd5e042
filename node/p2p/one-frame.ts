/**
 * The provider side of a protocol of one request frame in and one response frame out
 * (`/riskshare/filter/1`, `/riskshare/feedback/1`): registering and unregistering the handler, the
 * exchange's deadline, the framing, and the reply to a frame over the size limit. A subclass only
 * answers a request ({@link OneFrameService.respond}).
 */
import type { Connection, Stream } from "@libp2p/interface";
import type { z } from "zod";
import { exchangeSignal } from "../deadline.ts";
import { RiskshareError } from "../errors.ts";
import type { StreamRegistrar } from "./components.ts";
import { toP2pError } from "./errors.ts";
import { encodeFrame, errorReply, frameStream, readFrameBytes, writeFrameBytes, type ErrorFrame } from "./frames.ts";

/** What {@link OneFrameService} needs to serve a protocol. */
export interface OneFrameProtocol<S extends z.ZodType> {
  /** The protocol id. */
  readonly protocol: string;
  /** The response frame's schema (it includes the error frame). */
  readonly responseSchema: S;
  /** What the service is called in its errors ("filter service"). */
  readonly name: string;
  readonly registrar: StreamRegistrar;
  readonly timeoutMs: number;
  readonly maxFrameBytes: number;
  readonly maxInboundStreams: number;
}

/** Serves one protocol of one request frame and one response frame per stream. */
export abstract class OneFrameService<S extends z.ZodType> {
  readonly protocol: string;
  private readonly served: OneFrameProtocol<S>;
  private abort = new AbortController();
  private started = false;

  constructor(served: OneFrameProtocol<S>) {
    this.served = served;
    this.protocol = served.protocol;
  }

  /** The reply to one request frame from the connection's peer (a refusal is an error frame, not a throw). */
  abstract respond(bytes: Uint8Array, connection: Pick<Connection, "remotePeer">): Promise<z.input<S>>;

  /** Registers the handler. */
  async start(): Promise<void> {
    if (this.started) return;
    this.abort = new AbortController();
    const signal = this.abort.signal;
    await this.served.registrar.handle(this.protocol, (stream, connection) => this.handle(stream, connection, signal), {
      maxInboundStreams: this.served.maxInboundStreams,
    });
    this.started = true;
  }

  /** Unregisters the handler and aborts exchanges in flight. */
  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    this.abort.abort(new RiskshareError("E_ABORTED", `${this.served.name} stopping`));
    await this.served.registrar.unhandle(this.protocol);
  }

  private async handle(stream: Stream, connection: Connection, serviceSignal: AbortSignal): Promise<void> {
    const { timeoutMs, maxFrameBytes, responseSchema } = this.served;
    const deadline = exchangeSignal(timeoutMs, [serviceSignal]);
    const frames = frameStream(stream, maxFrameBytes);
    try {
      let reply: z.input<S> | ErrorFrame;
      try {
        reply = await this.respond(await readFrameBytes(frames, deadline.signal), connection);
      } catch (err) {
        const error = toP2pError(err, deadline.signal);
        if (error.code !== "E_FRAME_TOO_LARGE") throw error;
        reply = errorReply(error.code, error.message);
      }
      await writeFrameBytes(frames, encodeFrame(reply as z.input<S>, responseSchema, maxFrameBytes), deadline.signal);
      await stream.close({ signal: deadline.signal });
    } catch (err) {
      stream.abort(toP2pError(err, deadline.signal));
    } finally {
      deadline.dispose();
    }
  }
}
