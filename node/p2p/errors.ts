/**
 * Translating what libp2p and the stream codec throw into our error codes: callers of the p2p
 * layer branch on `code` only.
 */
import { isRiskshareError, RiskshareError, type ErrorCode } from "../errors.ts";

/** libp2p / @libp2p/utils error names that mean "the frame was bigger than the cap". */
const FRAME_TOO_LARGE = new Set(["InvalidDataLengthError", "InvalidDataLengthLengthError", "StreamBufferError", "InvalidMessageLengthError"]);
/** …that mean the other side went away or could not be reached. */
const UNREACHABLE = new Set([
  "DialError", "NoValidAddressesError", "ConnectionClosedError", "ConnectionClosingError", "StreamResetError", "StreamStateError",
  "StreamClosedError", "MuxerClosedError", "UnsupportedProtocolError", "EncryptionFailedError", "DialDeniedError", "ConnectionInterceptedError",
  "AggregateError", "TooManyOutboundProtocolStreamsError", "TooManyInboundProtocolStreamsError", "ConnectionFailedError",
]);

/**
 * The RiskshareError an exception in a p2p exchange stands for. `signal` is the exchange's own
 * signal: when it fired, its reason tells a timeout (E_TIMEOUT) from a cancellation (E_ABORTED).
 */
export function toP2pError(err: unknown, signal?: AbortSignal): RiskshareError {
  if (isRiskshareError(err)) return err;
  if (signal?.aborted) {
    const timedOut = (signal.reason as { name?: string } | undefined)?.name === "TimeoutError";
    return timedOut
      ? new RiskshareError("E_TIMEOUT", "the peer did not answer in time", {}, { cause: err })
      : new RiskshareError("E_ABORTED", "the exchange was cancelled", {}, { cause: err });
  }
  const name = (err as { name?: string } | undefined)?.name ?? "";
  if (FRAME_TOO_LARGE.has(name)) return new RiskshareError("E_FRAME_TOO_LARGE", "a frame exceeded the size cap", { error: name }, { cause: err });
  // The other side hung up mid-exchange (a gater dropping the connection looks the same).
  if (name === "UnexpectedEOFError") return new RiskshareError("E_PEER_UNREACHABLE", "the peer closed the stream before a whole frame arrived", { error: name }, { cause: err });
  if (name === "TimeoutError") return new RiskshareError("E_TIMEOUT", "the peer did not answer in time", {}, { cause: err });
  if (name === "AbortError") return new RiskshareError("E_ABORTED", "the exchange was cancelled", {}, { cause: err });
  if (UNREACHABLE.has(name)) return new RiskshareError("E_PEER_UNREACHABLE", "the peer could not be reached or closed the stream", { error: name }, { cause: err });
  return new RiskshareError("E_PEER_UNREACHABLE", "the exchange with the peer failed", { error: name || "unknown" }, { cause: err });
}

/** A code received from a peer, kept when this version knows it, E_PROTOCOL otherwise. */
export function knownCode(code: string, known: Readonly<Record<string, unknown>>): ErrorCode {
  return Object.hasOwn(known, code) ? (code as ErrorCode) : "E_PROTOCOL";
}
