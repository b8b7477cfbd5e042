/**
 * Fixed numbers of `/riskshare/filter/1`. Changing any of them changes the protocol: bump the version.
 */

/** The protocol id a stream negotiates. */
export const FILTER_PROTOCOL = "/riskshare/filter/1";

/** Bytes of base filter per answer: a larger base goes in several chunks. */
export const FILTER_BASE_CHUNK_BYTES = 512 * 1024;

/**
 * Most delta tags (adds + removes) one answer carries; beyond it the provider sends the base again
 * (its store should rebuild the base long before). ~21 bytes of JSON each: ~2 MB.
 */
export const FILTER_MAX_DELTA_TAGS = 100_000;

/**
 * Most sealed delisting notices one answer carries (~130 bytes of JSON each: ~650 KB); removals
 * beyond it go without one (a querier then sees the removal but not why).
 */
export const FILTER_MAX_DELTA_NOTICES = 5_000;

/** Most base64 characters of one sealed notice (68 bytes today: 92). */
export const FILTER_MAX_NOTICE_CHARS = 128;

/** Hard cap on one frame: a base chunk in base64 (~700 KB) plus the largest delta list. */
export const FILTER_MAX_FRAME_BYTES = 4 * 1_048_576;

/** Provider side: the whole exchange must finish in this time. */
export const FILTER_TIMEOUT_MS = 10_000;

/** Querier side: one request/answer exchange. */
export const FILTER_CLIENT_TIMEOUT_MS = 10_000;

/** Concurrent filter streams one connection may open to us (a poller opens one at a time per provider). */
export const FILTER_MAX_INBOUND_STREAMS = 8;

/** How often the querier polls each (provider, category): an addition is visible within a minute. */
export const FILTER_POLL_MS = 20_000;

/** Longest wait before retrying a failing provider (backoff doubles from the poll interval up to this). */
export const FILTER_MAX_BACKOFF_MS = 10 * 60_000;

/** Domain label of the signed state encoding. */
export const FILTER_STATE_LABEL = "riskshare/filter-state/v1";
