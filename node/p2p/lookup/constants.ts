/**
 * Fixed numbers of `/riskshare/lookup/2`. Changing any of them changes the protocol: bump the
 * version in the id.
 */
import { MAX_REQUEST_TTL_SECONDS } from "../../chain/index.ts";
import { METADATA_SEALED_BYTES } from "../../store/index.ts";

/** The protocol id a stream negotiates. */
export const LOOKUP_PROTOCOL = "/riskshare/lookup/2";

/** The retired id: still registered, its handler answers every stream with E_PROTOCOL_VERSION. */
export const LOOKUP_PROTOCOL_V1 = "/riskshare/lookup/1";

/** Request kinds (the EIP-712 `kind` field and the ledger record's). */
export const LookupKind = { Evaluate: 0, Fetch: 1 } as const;
/** A request kind. */
export type LookupKindCode = (typeof LookupKind)[keyof typeof LookupKind];

/**
 * The only item counts an Evaluate may carry: the querier pads up to the next one with blinded
 * elements of random inputs, so the provider learns a size class, never the number of identifiers.
 */
export const EVALUATE_SHAPES: readonly number[] = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1000];

/** Most identifiers one lookup may carry (the largest shape). */
export const MAX_ITEMS_PER_REQUEST = 1_000;

/** Most prefixes one Fetch may name (one category per Fetch). */
export const MAX_FETCH_PREFIXES = 4;

/** Longest tag prefix a fetch may name, in bits (a prefix value is a uint64): the chain module's bound. */
export { MAX_PREFIX_BITS } from "../../chain/index.ts";

/** Average listed entries a bucket holds at least: the provider's bucket bits follow from it. */
export const MIN_BUCKET_ENTRIES = 256;

/**
 * Most entries one bucket of a Fetch answer may hold. Buckets average 256..512 entries; this cap
 * (8× the top of that range) only bounds what a hostile provider can make us parse.
 */
export const MAX_BUCKET_ENTRIES = 4_096;

/**
 * Bytes of one entry of a Fetch answer's bucket: tag (8) ‖ version (uint32, big-endian) ‖ sealed
 * metadata (12-byte nonce, 192-byte plaintext sealed, 16-byte Poly1305 tag). Every record has this
 * length, whatever the entry says.
 */
export const BUCKET_RECORD_BYTES = 8 + 4 + METADATA_SEALED_BYTES;

/**
 * Hard cap on one frame, either direction. A full Evaluate (1,000 elements, ~68 bytes of JSON each)
 * is ~70 KB each way; a Fetch answer of 4 buckets of ~512 entries (base64 records of ~310 bytes
 * each) is ~640 KB, so 4 MiB leaves room for an unlucky bucket while bounding what one stream can make a node
 * buffer to maxInboundStreams × 4 MiB per connection.
 */
export const MAX_FRAME_BYTES = 4 * 1_048_576;

/**
 * Provider side: the whole exchange (read request, check, evaluate or fetch, record, answer) must
 * finish in this time, so a peer that sends half a frame and waits cannot hold a stream open.
 */
export const TIMEOUT_MS = 10_000;

/** Querier side: how long one provider may take for a whole lookup (evaluate, then fetches). */
export const CLIENT_TIMEOUT_MS = 5_000;

/**
 * Concurrent lookup streams one connection may open to us: bounds memory per peer while letting a
 * busy risk engine keep 64 in flight (a consortium has tens of members).
 */
export const MAX_INBOUND_STREAMS = 64;

/** Concurrent lookup streams we open on one connection; further lookups to that provider queue. */
export const MAX_OUTBOUND_STREAMS = 64;

/** Lifetime the querier gives a request (its deadline is now + this). */
export const REQUEST_TTL_SECONDS = 60;

/** Furthest in the future a provider accepts a deadline (bounds how long a nonce is remembered). */
export const MAX_DEADLINE_AHEAD_SECONDS = MAX_REQUEST_TTL_SECONDS;

/**
 * Probability that a lookup without any filter hit still sends one Fetch for a random prefix (and
 * discards it), so a provider cannot tell a hit from the fact that a Fetch follows an Evaluate.
 */
export const COVER_FETCH_RATE = 0.25;

/** How long the v1 refusal handler waits for the old client's request before answering anyway. */
export const V1_REFUSAL_TIMEOUT_MS = 2_000;

/**
 * Items (blinded elements or prefixes) a peer's bucket refills per second. Honest fan-out sends one
 * Evaluate of at most 1,000 items per check, so this serves a member checking ~1,000 identifiers a
 * second against this provider while a flood of refused requests costs one bucket lookup each.
 */
export const PEER_ITEMS_PER_SECOND = 1_000;

/** Items a peer's bucket holds: four full Evaluates back to back. */
export const PEER_BURST_ITEMS = 4_000;

/** Refusals of one outcome from one peer within this many seconds become one ledger record with their count. */
export const REFUSAL_FOLD_SECONDS = 60;
