/**
 * The baseline of the p2p suites: a bare libp2p request/response protocol on the same hosts and
 * connection, one new stream per request like `/riskshare/lookup/1`, length-prefixed frames of
 * the sizes the lookup sends and answers, and nothing else (no JSON, schema, signature or list).
 */
import type { DialTarget } from "@libp2p/interface";
import { lpStream } from "@libp2p/utils";
import { MAX_FRAME_BYTES, type RiskshareHost } from "../../node/p2p/index.ts";

/** Protocol id of the echo baseline (benchmarks only; never registered by a node). */
export const ECHO_PROTOCOL = "/riskshare-bench/echo/1";

/** Stream limits the echo registers with: the same as the lookup service in the same run. */
export interface EchoLimits {
  maxInboundStreams: number;
  maxOutboundStreams: number;
}

/** Registers the echo handler on `host`: reads one frame whose first 4 bytes say how long the reply is. */
export async function startEcho(host: RiskshareHost, limits: EchoLimits): Promise<() => Promise<void>> {
  await host.libp2p.handle(ECHO_PROTOCOL, async (stream) => {
    const frames = lpStream(stream, { maxDataLength: MAX_FRAME_BYTES });
    try {
      const request = (await frames.read()).subarray();
      const replyBytes = new DataView(request.buffer, request.byteOffset, 4).getUint32(0);
      await frames.write(new Uint8Array(replyBytes));
      await stream.close();
    } catch (err) {
      stream.abort(err instanceof Error ? err : new Error(String(err)));
    }
  }, { ...limits });
  return () => host.libp2p.unhandle(ECHO_PROTOCOL);
}

/** A request frame of `requestBytes` asking for a reply of `replyBytes`. */
export function echoFrame(requestBytes: number, replyBytes: number): Uint8Array {
  const frame = new Uint8Array(Math.max(requestBytes, 4));
  new DataView(frame.buffer).setUint32(0, replyBytes);
  return frame;
}

/** One echo exchange from `host` to `peer`, on a new stream over the (reused) connection. */
export async function echoOnce(host: RiskshareHost, peer: DialTarget, frame: Uint8Array, limits: EchoLimits, timeoutMs = 10_000): Promise<number> {
  const signal = AbortSignal.timeout(timeoutMs);
  const connection = await host.libp2p.dial(peer, { signal });
  const stream = await connection.newStream(ECHO_PROTOCOL, { signal, maxOutboundStreams: limits.maxOutboundStreams });
  try {
    const frames = lpStream(stream, { maxDataLength: MAX_FRAME_BYTES });
    await frames.write(frame, { signal });
    const reply = await frames.read({ signal });
    await stream.close({ signal });
    return reply.byteLength;
  } catch (err) {
    stream.abort(err instanceof Error ? err : new Error(String(err)));
    throw err;
  }
}
