/**
 * Every key namespace (LevelDB sublevel) of a node's database, in one place. Names are on disk:
 * never rename one, and never reuse a retired name for something else (list it in RETIRED_BUCKETS).
 */
export enum Bucket {
  /** [typeCode u8][hash 32 B] → encoded entry (see codec.ts). */
  entries = "entries",
  /** [categoryId u8][typeCode u8][hash 32 B] → expiresAtSec as u48, or empty when the entry never expires. */
  byCategory = "by-category",
  /** [expiresAtSec u48][typeCode u8][hash 32 B] → empty: lets a sweep visit only expired entries. */
  byExpiry = "by-expiry",
  /** utf8 key → JSON: schema version, pepper epoch, entry count per category. */
  meta = "meta",
  /** [atMs u48][seq u32] → JSON audit record (delisting, sweeps, imports). */
  audit = "audit",
  /** import id (hex) → JSON checkpoint of an import in progress or finished. */
  imports = "imports",
  /** Reserved: ledger outbox of signed lookup records awaiting the chain (protocol work). */
  outbox = "outbox",
  /** Reserved: queries this node sent, with their items and blinding (protocol work). */
  queries = "queries",
  /** Reserved: nonces of lookup requests seen, for replay refusal (protocol work). */
  nonces = "nonces",
  /** Reserved: per-querier usage counters for quotas (protocol work). */
  usage = "usage",
}

/** Names once used and now retired: never to be used again. */
export const RETIRED_BUCKETS: readonly string[] = [];
