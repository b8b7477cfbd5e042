/**
 * The retired `/riskshare/lookup/1`: still registered so an old node asking us gets a clear
 * E_PROTOCOL_VERSION instead of a protocol negotiation failure it might take for silence.
 */
import type { Stream } from "@libp2p/interface";
import { exchangeSignal } from "../../deadline.ts";
import { toP2pError } from "../errors.ts";
import { encodeFrame, errorFrame, errorReply, frameStream, readFrameBytes, writeFrameBytes } from "../frames.ts";
import { LOOKUP_PROTOCOL, V1_REFUSAL_TIMEOUT_MS } from "./constants.ts";

/** Reads (and ignores) the old client's request, then answers E_PROTOCOL_VERSION and closes. */
export async function refuseV1(stream: Stream, maxFrameBytes: number, serviceSignal: AbortSignal): Promise<void> {
  const deadline = exchangeSignal(V1_REFUSAL_TIMEOUT_MS, [serviceSignal]);
  const frames = frameStream(stream, maxFrameBytes);
  try {
    // The old client writes its request before it reads: take it (or give up on it) first.
    await readFrameBytes(frames, deadline.signal).catch(() => undefined);
    const reply = errorReply("E_PROTOCOL_VERSION", `this node speaks ${LOOKUP_PROTOCOL}; upgrade`);
    await writeFrameBytes(frames, encodeFrame(reply, errorFrame, maxFrameBytes), deadline.signal);
    await stream.close({ signal: deadline.signal });
  } catch (err) {
    stream.abort(toP2pError(err, deadline.signal));
  } finally {
    deadline.dispose();
  }
}
