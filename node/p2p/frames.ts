/**
 * Length-prefixed JSON frames with a hard size cap and a schema checked on every message in both
 * directions. Binary fields travel as 0x-hex, integers that may exceed 2^53 as decimal strings.
 */
import type { Stream } from "@libp2p/interface";
import { lpStream, type LengthPrefixedStream } from "@libp2p/utils";
import { z } from "zod";
import { RiskshareError, type ErrorCode } from "../errors.ts";
import { toP2pError } from "./errors.ts";

/** A length-prefixed view of a stream that refuses frames above `maxFrameBytes`. */
export type FrameStream = LengthPrefixedStream<Stream>;

/** Wraps a stream for frames of at most `maxFrameBytes` (the varint prefix aside). */
export function frameStream(stream: Stream, maxFrameBytes: number): FrameStream {
  // The read buffer may hold one whole frame plus its prefix; anything beyond resets the stream.
  return lpStream(stream, { maxDataLength: maxFrameBytes, maxBufferSize: maxFrameBytes + 16 });
}

const utf8 = new TextDecoder("utf-8", { fatal: true });
const utf8Encoder = new TextEncoder();

/** Parses one frame's bytes against `schema`: E_PROTOCOL when it is not valid UTF-8 JSON of that shape. */
export function decodeFrame<S extends z.ZodType>(bytes: Uint8Array, schema: S): z.output<S> {
  let value: unknown;
  try {
    value = JSON.parse(utf8.decode(bytes));
  } catch {
    throw new RiskshareError("E_PROTOCOL", "the frame is not UTF-8 JSON");
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = issue?.path.join(".") ?? "";
    throw new RiskshareError("E_PROTOCOL", `the frame does not match the protocol schema at '${path}'`, {
      path,
      issue: issue?.code ?? "unknown",
    });
  }
  return parsed.data;
}

/** Encodes a value as one frame after checking it against `schema` (a failure is our bug: E_INTERNAL). */
export function encodeFrame<S extends z.ZodType>(value: z.input<S>, schema: S, maxFrameBytes: number): Uint8Array {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const path = parsed.error.issues[0]?.path.join(".") ?? "";
    throw new RiskshareError("E_INTERNAL", `refusing to send a frame that breaks the protocol schema at '${path}'`, { path });
  }
  const bytes = utf8Encoder.encode(JSON.stringify(value));
  if (bytes.byteLength > maxFrameBytes) {
    throw new RiskshareError("E_FRAME_TOO_LARGE", `the frame is ${bytes.byteLength} bytes, above the ${maxFrameBytes}-byte cap`, { bytes: bytes.byteLength, maxFrameBytes });
  }
  return bytes;
}

/** Reads one frame's raw bytes; errors come out as RiskshareErrors (E_FRAME_TOO_LARGE, E_TIMEOUT, …). */
export async function readFrameBytes(frames: FrameStream, signal: AbortSignal): Promise<Uint8Array> {
  try {
    return (await frames.read({ signal })).subarray();
  } catch (err) {
    throw toP2pError(err, signal);
  }
}

/** Writes one frame; errors come out as RiskshareErrors. */
export async function writeFrameBytes(frames: FrameStream, bytes: Uint8Array, signal: AbortSignal): Promise<void> {
  try {
    await frames.write(bytes, { signal });
  } catch (err) {
    throw toP2pError(err, signal);
  }
}

/** Longest error message in an error frame. */
export const MAX_ERROR_MESSAGE_CHARS = 300;

/** The refusal or failure frame every riskshare protocol answers with: a stable code and a message. */
export const errorFrame = z.strictObject({
  ok: z.literal(false),
  error: z.strictObject({
    code: z.string().regex(/^E_[A-Z0-9_]{1,40}$/),
    message: z.string().max(MAX_ERROR_MESSAGE_CHARS),
  }),
});

/** An error frame. */
export type ErrorFrame = z.infer<typeof errorFrame>;

/** Builds an error frame (the message cut to the cap). */
export function errorReply(code: ErrorCode, message: string): ErrorFrame {
  return { ok: false, error: { code, message: message.slice(0, MAX_ERROR_MESSAGE_CHARS) } };
}
