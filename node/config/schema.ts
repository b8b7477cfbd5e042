import { z } from "zod";
import { MAX_BATCH_RECORDS, MAX_REQUEST_TTL_SECONDS } from "../chain/index.ts";
import { CONFIG_DEFAULTS, CONFIG_VERSION } from "./options.ts";

const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/, "must be a 0x-prefixed 20-byte hex address");
const multiaddr = z.string().regex(/^\/(ip4|ip6|dns4|dns6|dns)\//, "must be a multiaddr such as /ip4/127.0.0.1/tcp/4001");
const httpUrl = z.url({ protocol: /^(http|https|ws|wss)$/, error: "must be an http(s) or ws(s) URL" });

/** Addresses of the deployed consortium contracts. */
export const contractsSchema = z.strictObject({
  registry: address,
  contributions: address,
  ledger: address,
});

/** config.json of a data directory, validated when it is read and before it is written. */
export const configSchema = z.strictObject({
  version: z.literal(CONFIG_VERSION),
  name: z.string().trim().min(1).max(100),
  chain: z.strictObject({
    rpcUrl: httpUrl.default(CONFIG_DEFAULTS.chain.rpcUrl),
    rpcTimeoutMs: z.number().int().min(100).max(600_000).default(CONFIG_DEFAULTS.chain.rpcTimeoutMs),
    pollIntervalMs: z.number().int().min(50).max(600_000).default(CONFIG_DEFAULTS.chain.pollIntervalMs),
    contracts: contractsSchema.optional(),
  }).prefault({}),
  p2p: z.strictObject({
    listen: z.array(multiaddr).min(1).default([...CONFIG_DEFAULTS.p2p.listen]),
    bootstrap: z.array(multiaddr).default([...CONFIG_DEFAULTS.p2p.bootstrap]),
  }).prefault({}),
  api: z.strictObject({
    host: z.literal("127.0.0.1", { error: "the API binds to 127.0.0.1 only" }).default(CONFIG_DEFAULTS.api.host),
    port: z.number().int().min(0).max(65_535).default(CONFIG_DEFAULTS.api.port),
  }).prefault({}),
  identity: z.strictObject({
    defaultRegion: z.string().regex(/^[A-Z]{2}$/, "must be a two-letter ISO 3166 region such as CN").default(CONFIG_DEFAULTS.identity.defaultRegion),
  }).prefault({}),
  ledger: z.strictObject({
    flushIntervalMs: z.number().int().min(10).max(3_600_000).default(CONFIG_DEFAULTS.ledger.flushIntervalMs),
    maxBatchRecords: z.number().int().min(1).max(MAX_BATCH_RECORDS).default(CONFIG_DEFAULTS.ledger.maxBatchRecords),
    maxInFlightBatches: z.number().int().min(1).max(16).default(CONFIG_DEFAULTS.ledger.maxInFlightBatches),
    confirmTimeoutMs: z.number().int().min(1_000).max(3_600_000).default(CONFIG_DEFAULTS.ledger.confirmTimeoutMs),
    maxBacklog: z.number().int().min(1).default(CONFIG_DEFAULTS.ledger.maxBacklog),
  }).prefault({}),
  lookup: z.strictObject({
    timeoutMsPerPeer: z.number().int().min(10).max(600_000).default(CONFIG_DEFAULTS.lookup.timeoutMsPerPeer),
    // A provider refuses a deadline further ahead than this, so a longer lifetime would fail every lookup.
    requestTtlSeconds: z.number().int().min(1).max(MAX_REQUEST_TTL_SECONDS).default(CONFIG_DEFAULTS.lookup.requestTtlSeconds),
    coverFetchRate: z.number().min(0).max(1).default(CONFIG_DEFAULTS.lookup.coverFetchRate),
    filterPollMs: z.number().int().min(1_000).max(60_000).default(CONFIG_DEFAULTS.lookup.filterPollMs),
    journalRetentionDays: z.number().int().min(1).max(3_650).default(CONFIG_DEFAULTS.lookup.journalRetentionDays),
    peerItemsPerSecond: z.number().int().min(1).max(1_000_000).default(CONFIG_DEFAULTS.lookup.peerItemsPerSecond),
    // At least one full Evaluate (1,000 items), or the largest lookup could never be served.
    peerBurstItems: z.number().int().min(1_000).max(10_000_000).default(CONFIG_DEFAULTS.lookup.peerBurstItems),
    refusalFoldSeconds: z.number().int().min(0).max(3_600).default(CONFIG_DEFAULTS.lookup.refusalFoldSeconds),
    hitRateFloor: z.number().min(0).max(1).default(CONFIG_DEFAULTS.lookup.hitRateFloor),
    // At least 5%: below it a provider once skipped could never show it improved.
    exploreRate: z.number().min(0.05).max(1).default(CONFIG_DEFAULTS.lookup.exploreRate),
  }).prefault({}),
  lists: z.strictObject({
    publishEveryHours: z.number().min(0).max(24 * 30).default(CONFIG_DEFAULTS.lists.publishEveryHours),
    importWorkers: z.number().int().min(0).max(64).default(CONFIG_DEFAULTS.lists.importWorkers),
  }).prefault({}),
  decay: z.strictObject({
    lifetimeDays: z.number().positive().max(36_500).default(CONFIG_DEFAULTS.decay.lifetimeDays),
    speed: z.number().min(0.05).max(20).default(CONFIG_DEFAULTS.decay.speed),
    // Per category name: its own model.
    categories: z.record(z.string().min(1).max(64), z.strictObject({ lifetimeDays: z.number().positive().max(36_500), speed: z.number().min(0.05).max(20) })).default({}),
  }).prefault({}),
  feedback: z.strictObject({
    // 1 sends each report on its own: the provider then sees when each was made (tests only; keep 5 or more in use).
    minBatch: z.number().int().min(1).max(500).default(CONFIG_DEFAULTS.feedback.minBatch),
    maxWaitDays: z.number().min(0).max(365).default(CONFIG_DEFAULTS.feedback.maxWaitDays),
    checkEveryMinutes: z.number().min(0.01).max(10_080).default(CONFIG_DEFAULTS.feedback.checkEveryMinutes),
  }).prefault({}),
  keys: z.strictObject({
    // A path, never the passphrase: config.json is not a secret file. Relative to the data directory.
    passphraseFile: z.string().min(1).optional(),
  }).prefault({}),
  log: z.strictObject({
    level: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default(CONFIG_DEFAULTS.log.level),
  }).prefault({}),
});

/** A node's configuration after validation, with every default filled in. */
export type NodeConfig = z.output<typeof configSchema>;
/** What a config.json may contain (optional fields omitted). */
export type NodeConfigInput = z.input<typeof configSchema>;
/** Addresses of the deployed contracts. */
export type ContractAddresses = z.output<typeof contractsSchema>;
