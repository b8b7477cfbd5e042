/**
 * Every key namespace (LevelDB sublevel) of a node's database, in one place. Names are on disk:
 * never rename one, and never reuse a retired name for something else (list it in RETIRED_BUCKETS).
 */
export enum Bucket {
  /** [typeCode u8][entryId 32 B] → encoded entry (see codec.ts). */
  entries = "entries",
  /** [categoryId u8][tag 8 B][typeCode u8][entryId 32 B] → expiresAtSec as u48, or empty: the category index, by tag (fetch buckets, filters). */
  byTag = "by-tag",
  /** [expiresAtSec u48][typeCode u8][entryId 32 B] → empty: lets a sweep visit only expired entries. */
  byExpiry = "by-expiry",
  /** [categoryId u8][seq u48] → [op u8][tag 8 B][sealed delisting notice, removals only (delisting.ts)]: tag adds and removes per category since its base filter. */
  tagDeltas = "tag-deltas",
  /** [categoryId u8] → the category's base tag filter (filter.ts); its hash and seq are in meta. */
  tagFilters = "tag-filters",
  /** utf8 key → JSON: schema version, key binding, entry count, delta seq and base filter per category. */
  meta = "meta",
  /** [atMs u48][seq u32] → JSON audit record (delisting, sweeps, imports). */
  audit = "audit",
  /** import id (hex) → JSON checkpoint of an import in progress or finished. */
  imports = "imports",
  /** `r:<index, 16 digits>` → JSON of a signed lookup record awaiting the chain, `m:…` → counters and pending batches (the ledger outbox, see outbox.ts). */
  outbox = "outbox",
  /** query id → JSON of a query this node sent, with its items and blinding (see journal.ts). */
  queries = "queries",
  /** provider address → the reserved mark of this node's request nonce counter for it (querier side, see nonces.ts). */
  nonceCounters = "nonce-counters",
  /** querier address → { highest, window } of the request nonces seen from it (provider side, replay refusal; see nonces.ts). */
  nonceWindows = "nonce-windows",
  /** "tracker" → JSON of the per-querier, per-category quota usage counters (see policy's UsageTracker); "hit-rates" → JSON of the hit rates this node observed as a querier, per provider and category (policy's ProviderSelection). */
  usage = "usage",
  /** `hit:<keptAtMs>:<hitId>` → a kept hit, `chg:<seenAtMs>:<random>` → a delisting seen of one, `fb:<queuedAtMs>:<reportId>` → a feedback report about one, queued or sent; sealed under the journal key (see hits.ts). */
  hits = "hits",
  /** Provider side of feedback (see store.ts `receiveFeedback`): `c:<entry key hex>:<member address>` → unix seconds of that member's confirmation; `r:<receivedAtMs>:<random>` → JSON of a received report for the operator. */
  feedback = "feedback",
}

/** Names once used and now retired: never to be used again. */
export const RETIRED_BUCKETS: readonly string[] = [
  /** [categoryId][typeCode][HMAC hash] → expiry: the pepper-era category index (schema 1), replaced by by-tag. */
  "by-category",
  /** `querier:nonce` → deadline: random request nonces seen, until their deadline; replaced by nonce-windows (counter nonces). Cleared on open. */
  "nonces",
];
