/**
 * Fixed numbers of `/riskshare/lookup/1`. Changing any of them changes the protocol: bump the
 * version in the id.
 */
import { MAX_REQUEST_TTL_SECONDS } from "../../chain/index.ts";

/** The protocol id a stream negotiates. */
export const LOOKUP_PROTOCOL = "/riskshare/lookup/1";

/** Most items one request may carry: a risk engine batches up to this many identifiers. */
export const MAX_ITEMS_PER_REQUEST = 1_000;

/**
 * Hard cap on one frame, either direction. A full request (1,000 items of ~90 bytes of JSON each)
 * is ~100 KB; a full answer (1,000 hits with the longest reason and provider reference the schema
 * allows, ~420 bytes each) is ~430 KB — a test builds that worst case and checks it fits. 1 MiB
 * leaves headroom while bounding what one stream can make a node buffer to
 * maxInboundStreams × 1 MiB per connection.
 */
export const MAX_FRAME_BYTES = 1_048_576;

/** Longest reason code of a hit (printable ASCII). */
export const MAX_REASON_CHARS = 64;

/** Longest provider reference of a hit (printable ASCII). */
export const MAX_PROVIDER_REF_CHARS = 128;

/**
 * Provider side: the whole exchange (read request, check, look up, record, answer) must finish in
 * this time, so a peer that sends half a frame and waits cannot hold a stream open.
 */
export const TIMEOUT_MS = 10_000;

/** Querier side: how long one provider may take to answer before it counts as timed out. */
export const CLIENT_TIMEOUT_MS = 5_000;

/**
 * Concurrent lookup streams one connection may open to us: bounds memory per peer (× MAX_FRAME_BYTES,
 * 64 MiB worst case; a consortium has tens of members) while letting a busy risk engine keep 64 in flight.
 */
export const MAX_INBOUND_STREAMS = 64;

/** Concurrent lookup streams we open on one connection; further lookups to that provider queue. */
export const MAX_OUTBOUND_STREAMS = 64;

/** Lifetime the querier gives a request (its deadline is now + this). */
export const REQUEST_TTL_SECONDS = 60;

/**
 * Furthest in the future a provider accepts a deadline: a nonce must be remembered until its
 * deadline, so this bounds how long the nonce guard keeps it. The same bound caps a node's configured
 * request lifetime and the window audit verify checks membership over (one constant, from the chain module).
 */
export const MAX_DEADLINE_AHEAD_SECONDS = MAX_REQUEST_TTL_SECONDS;
