/**
 * Defaults for a node's configuration: the one place they live. The CLI maps flags onto these;
 * config.json on disk may override any of them.
 */
import { DEFAULT_NORMALISE_OPTIONS } from "../identity/index.ts";
import { FEEDBACK_SENDER_DEFAULTS, LOOKUP_DEFAULTS } from "../p2p/index.ts";

/** Current version of the config.json format. */
export const CONFIG_VERSION = 1;

/** File and folder names inside a data directory. */
export const DATA_DIR_LAYOUT = {
  config: "config.json",
  keysDir: "keys",
  /** The member key: an Ethereum keystore v3 document (scrypt), or hex in a data dir not yet migrated (0600). */
  nodeKey: "node.key",
  /** The local API's admin bearer token (base64url, 0600): a client credential, not encrypted (see docs/OPERATIONS.md). */
  apiToken: "api.token",
  /** The API's check token (checks and reads, no list changes). */
  apiCheckToken: "api-check.token",
  /** The API's read-only token (health, peers, queries, import progress). */
  apiReadToken: "api-read.token",
  /** The member's journal key (a sealed secret, 0600): seals what opens the queries it sent. */
  journalKey: "journal.key",
  /** `oprf-<keyEpoch>.key`: the member's OPRF secret key of each key epoch (a sealed secret, 0600). */
  oprfKeyPrefix: "oprf-",
  dbDir: "db",
  lockFile: "node.pid",
} as const;

/** A scrypt cost of the key files written: `standard` in production, `light` for devnets and tests only. */
export type KdfStrength = "standard" | "light";

/** The key store's encryption at rest. */
export const KEYSTORE_DEFAULTS = {
  kdf: {
    /** geth's "standard" scrypt cost (N = 2^18, 256 MiB, about a second per file here). */
    standard: { N: 2 ** 18, r: 8, p: 1 },
    /** Dev-only (devnet, tests): N = 2^12, milliseconds. Never chosen by a plain `init`. */
    light: { N: 2 ** 12, r: 8, p: 1 },
  },
} as const;

/** Default values of every optional config field. */
export const CONFIG_DEFAULTS = {
  chain: {
    rpcUrl: "http://127.0.0.1:8545",
    /** How long one JSON-RPC call may take before it counts as an outage. */
    rpcTimeoutMs: 10_000,
    /** How often the registry cache polls for new blocks when no subscription is available. */
    pollIntervalMs: 1_000,
  },
  p2p: {
    listen: ["/ip4/127.0.0.1/tcp/0"],
    bootstrap: [] as string[],
  },
  api: {
    host: "127.0.0.1",
    port: 0,
  },
  identity: {
    /** ISO 3166 region used when a phone number comes without a country code (identity's default). */
    defaultRegion: DEFAULT_NORMALISE_OPTIONS.defaultRegion,
  },
  ledger: {
    /** Flush the outbox at least this often. */
    flushIntervalMs: 5_000,
    /** …or as soon as this many records wait (one transaction each batch; see the gas table). */
    maxBatchRecords: 200,
    /** Batch transactions sent before the oldest is mined (they land in order). */
    maxInFlightBatches: 4,
    /** A batch not mined within this time fails the flush, which is retried from the chain's state. */
    confirmTimeoutMs: 120_000,
    /** Above this many unflushed records the node refuses new lookups (fail closed). */
    maxBacklog: 50_000,
  },
  lookup: {
    /** Per-provider timeout of a fan-out. */
    timeoutMsPerPeer: 5_000,
    /** Lifetime of a signed request. */
    requestTtlSeconds: 60,
    /** Share of lookups without a filter hit that still send a (discarded) fetch, so a fetch does not mark a hit. */
    coverFetchRate: 0.25,
    /** How often the node asks each provider for its filter deltas (a new entry shows within about this). */
    filterPollMs: 20_000,
    /** Days the journal keeps what opens a sent query (identifiers and blinds, sealed); older records are deleted. */
    journalRetentionDays: 90,
    /** Items a peer's bucket refills per second; beyond it requests get E_RATE_LIMITED, unrecorded. */
    peerItemsPerSecond: LOOKUP_DEFAULTS.peerItemsPerSecond,
    /** Items a peer's bucket holds (its burst). */
    peerBurstItems: LOOKUP_DEFAULTS.peerBurstItems,
    /** Refusals of one outcome from one peer within this many seconds become one ledger record with their count. */
    refusalFoldSeconds: LOOKUP_DEFAULTS.refusalFoldSeconds,
    /** Querier side: skip a provider's category whose observed hit rate is below this (0: ask everyone). */
    hitRateFloor: 0,
    /** Querier side: share of checks that ask everyone regardless of hit rates (at least 0.05). */
    exploreRate: 0.05,
  },
  lists: {
    /** Publish the contribution snapshot of each category whose list changed, this often (hours; 0: only by hand). */
    publishEveryHours: 6,
    /** Worker threads a running node keys an import's rows in (its own thread keeps answering lookups). */
    importWorkers: 1,
  },
  decay: {
    /** The decay model of a category without one of its own (node/policy/decay.ts): a report counts for nothing after this many days… */
    lifetimeDays: 365,
    /** …falling linearly (MISP's decay_speed). */
    speed: 1,
  },
  feedback: {
    /** Querier side: a provider's queued feedback reports go once this many are queued for it… */
    minBatch: FEEDBACK_SENDER_DEFAULTS.minBatch,
    /** …or once the oldest has waited this many days. */
    maxWaitDays: FEEDBACK_SENDER_DEFAULTS.maxWaitDays,
    /** How often the queue is looked at, in minutes. */
    checkEveryMinutes: FEEDBACK_SENDER_DEFAULTS.checkEveryMinutes,
  },
  log: {
    level: "info",
  },
} as const;
