/**
 * Options of the pepper service and their defaults: the one place defaults live.
 */
import { CLIENT_TIMEOUT_MS, MAX_INBOUND_STREAMS, TIMEOUT_MS } from "./constants.ts";

/** Options of {@link PepperService} (the Init of the `pepper()` factory). */
export interface PepperInit {
  timeoutMs?: number;
  clientTimeoutMs?: number;
  maxInboundStreams?: number;
}

/** {@link PepperInit} with every default filled in. */
export type PepperOptions = Required<PepperInit>;

/** Defaults of {@link PepperInit}. */
export const PEPPER_DEFAULTS: PepperOptions = {
  timeoutMs: TIMEOUT_MS,
  clientTimeoutMs: CLIENT_TIMEOUT_MS,
  maxInboundStreams: MAX_INBOUND_STREAMS,
};
