import { z } from "zod";
import { API_DEFAULTS } from "./options.ts";

const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/, "must be a 0x-prefixed 20-byte address");

/** Body of POST /v1/check. */
export const checkRequestSchema = z.strictObject({
  items: z.array(z.strictObject({
    type: z.string().min(1).max(32).describe("identifier type: phone, national_id, bank_card, email, device_id, ip, merchant_id, account"),
    value: z.string().min(1).max(API_DEFAULTS.maxValueLength).describe("the raw identifier; normalised and hashed by the node, never stored or sent"),
  })).min(1).max(API_DEFAULTS.maxItemsPerCheck),
  categories: z.array(z.string().min(1).max(64)).optional().describe("category names to ask for (default: the active categories this member contributes to, as reciprocity allows)"),
  providers: z.array(address).optional().describe("provider addresses to ask (default: every Active member but this one)"),
  includeOwn: z.boolean().optional().describe("also check this node's own lists (default true)"),
  minScore: z.number().int().min(0).max(100).optional().describe("drop hits whose decay score (0-100: 20 × level, decaying with the time since the report under the category's model) is below this"),
  timeoutMsPerPeer: z.number().int().min(10).max(60_000).optional(),
});

/** A hit as one list (own or a provider's) reports it. */
export const hitSchema = z.object({
  category: z.string(),
  level: z.number().int().min(1).max(5),
  reason: z.string(),
  reportedAt: z.number().int().describe("unix seconds"),
  expiresAt: z.number().int().optional().describe("unix seconds"),
  providerRef: z.string().optional(),
  score: z.number().int().min(0).max(100).optional().describe("decay score now: 20 × level, decaying with the time since the report under the category's model, raised by confirmations (docs/OPERATIONS.md)"),
  confirmations: z.number().int().min(1).optional().describe("distinct members that confirmed the entry (feedback)"),
  lastConfirmedAt: z.number().int().optional().describe("unix seconds: when the provider received the last confirmation"),
  hitId: z.string().optional().describe("the id this node keeps a provider's hit under: name it in POST /v1/feedback to report on it"),
});

/** Response of POST /v1/check. */
export const checkResponseSchema = z.object({
  verdict: z.enum(["hit", "miss", "incomplete"]).describe("hit: some list has an item; miss: every list asked answered and none has any; incomplete: no hit, but a provider did not answer"),
  items: z.array(z.object({
    index: z.number().int(),
    type: z.string(),
    verdict: z.enum(["hit", "miss", "incomplete", "invalid"]),
    invalidReason: z.string().optional(),
    warninglisted: z.string().optional().describe("the warninglist the identifier is on (a test card number, a documentation domain…): asked of nobody, never a hit"),
    warninglistNotice: z.string().optional().describe("an inform-only warninglist the identifier is on (a consortium addition citing no shipped source): asked as usual, its verdict stands; weigh it yourself"),
    own: hitSchema.optional(),
    hits: z.array(hitSchema.extend({ provider: address, providerName: z.string() })),
  })),
  providers: z.array(z.object({
    address,
    name: z.string(),
    status: z.enum(["answered", "denied", "timeout", "error", "skipped"]).describe("skipped: not asked — its hit rate in the categories asked below this node's lookup.hitRateFloor (E_LOW_HIT_RATE; name it in providers to ask it anyway), or this member's credits do not cover the items the check would send (E_CREDITS_EXHAUSTED; the verdict is then incomplete, see `riskshare credits`)"),
    code: z.string().optional(),
    queryId: z.string().optional(),
    /** The fetches for the items the provider's filter lists: each answered, so on the ledger too. */
    fetchQueryIds: z.array(z.string()).optional(),
    /** The cover fetch sent after an evaluation without any filter hit, if one was: its answer is not awaited; on the ledger once the provider answers it. */
    coverFetchQueryId: z.string().optional(),
    hitCount: z.number().int().optional(),
  })),
});

/** Response of GET /v1/health. */
export const healthResponseSchema = z.object({
  status: z.enum(["ok", "degraded", "refusing"]),
  reasons: z.array(z.string()),
  address: address,
  peerId: z.string(),
  chain: z.object({
    syncedBlock: z.number().int(),
    stale: z.boolean(),
    lastError: z.string().optional(),
    headBlock: z.number().int().optional().describe("the chain's newest block when the node last asked"),
    lagBlocks: z.number().int().optional().describe("blocks the node's view of the registry is behind headBlock"),
  }),
  ledger: z.object({
    backlog: z.number().int().describe("records not yet on chain (the outbox depth)"),
    maxBacklog: z.number().int(),
    oldestRecordAt: z.string().optional().describe("when the oldest record not yet on chain arrived (ISO 8601)"),
    lastLandedSeq: z.string().optional().describe("the last batch this run of the node landed"),
    lastBatch: z.object({
      seq: z.string(),
      at: z.string().describe("when it landed, or was adopted (ISO 8601)"),
      txHash: z.string().optional(),
      adopted: z.boolean().optional().describe("adopted from the chain by `riskshare node take-over`, not landed by this node"),
    }).optional().describe("the newest batch on chain this node knows as its own"),
    lastError: z.string().optional(),
    writer: z.object({
      state: z.enum(["writing", "other-writer", "closed"]).describe(
        "writing: this node lands the member's batches; other-writer: the chain holds a batch of this member's key this node did not send, so it does not flush and refuses lookups (E_LEDGER_OTHER_WRITER; `riskshare node take-over`); closed: the QueryLedger takes no more batches from this removed member (E_LEDGER_CLOSED)",
      ),
      chainSeq: z.string().optional().describe("other-writer: the member's last batch on chain"),
      ownSeq: z.string().optional().describe("other-writer: the last batch this node knows as its own"),
    }),
  }),
  peers: z.object({ connected: z.number().int(), activeMembers: z.number().int() }),
  keyEpoch: z.object({
    answering: z.number().int().optional().describe("the OPRF key epoch this node answers under (absent: it holds no key)"),
    onChain: z.number().int().optional().describe("the member's key epoch on chain (absent: not a member)"),
    prepared: z.object({
      keyEpoch: z.number().int(),
      complete: z.boolean().describe("true once the import finished: stop the node (ledger.backlog 0) and run `riskshare key rotate-oprf --commit` (`rotate-member --commit` for a move)"),
      startedAt: z.string(),
      preparedAt: z.string().optional(),
      newAccount: z.string().optional().describe("a move to a new member key (`riskshare key rotate-member --prepare`): the account it moves to; absent for an OPRF key rotation"),
    }).optional().describe("the store of the next key epoch that `riskshare key rotate-oprf --prepare` (or `rotate-member --prepare`) builds (complete false) or built in db-next (absent: none)"),
  }),
  warninglists: z.object({
    shipped: z.string().optional().describe("SHA-256 (0x-hex) of the warninglists this node ships and enforces (`riskshare list warninglists`)"),
    pinned: z.string().optional().describe("the hash the consortium pinned on chain (absent: it pins none); a different one makes the node degraded"),
  }),
  import: z.object({
    inProgress: z.boolean(),
    source: z.string().optional(),
    importId: z.string().optional(),
    rows: z.number().int().optional().describe("rows read so far"),
    bytes: z.number().int().optional().describe("bytes read so far"),
    totalBytes: z.number().int().optional(),
    startedAt: z.string().optional().describe("ISO 8601"),
  }).describe("the list import in progress, if any"),
});

/** Response of GET /v1/peers. */
export const peersResponseSchema = z.object({
  peers: z.array(z.object({
    address,
    name: z.string(),
    peerId: z.string(),
    status: z.enum(["Proposed", "Active", "Suspended", "Removed", "None", "Admitted", "Rotated"]),
    connected: z.boolean(),
  })),
});

const identifierItem = z.strictObject({
  type: z.string().min(1).max(32).describe("identifier type"),
  value: z.string().min(1).max(API_DEFAULTS.maxValueLength).describe("the raw identifier; normalised and keyed by the node, never stored or logged"),
});
const counts = {
  rows: z.number().int().describe("data rows read, header and blank lines excluded (those skipped on resume included)"),
  imported: z.number().int().describe("new entries"),
  updated: z.number().int().describe("entries that existed and changed"),
  unchanged: z.number().int().describe("rows already stored identically (a re-import, or a line repeated)"),
  rejected: z.number().int().describe("rows refused; the first ones are listed in errors by line"),
};

/** Query string of POST /v1/entries (the body is the list itself, streamed). */
export const importQuerySchema = z.strictObject({
  type: z.string().min(1).max(32).optional().describe("identifier type for rows without a type column"),
  category: z.string().min(1).max(64).optional().describe("category for rows without a category column"),
  name: z.string().min(1).max(200).optional().describe("the source's name in messages and progress (e.g. its file name)"),
  importId: z.string().regex(/^[A-Za-z0-9._:-]{1,128}$/, "must be 1-128 characters of A-Z a-z 0-9 . _ : -").optional()
    .describe("the client's id of this content (e.g. its SHA-256): sending the same content again with the same id resumes an interrupted import after its last committed line; without one, an import does not resume"),
  resume: z.enum(["true", "false"]).optional().describe("false: start over even if an interrupted import of the same importId has a checkpoint (default true)"),
});

/** Response of POST /v1/entries: the import's summary. */
export const importSummarySchema = z.object({
  importId: z.string(),
  source: z.string(),
  format: z.enum(["csv", "jsonl"]),
  ...counts,
  resumedAfterLine: z.number().int().optional().describe("the line an interrupted earlier run had committed, when this one resumed after it"),
  errors: z.array(z.object({ line: z.number().int(), field: z.string(), reason: z.string() })).describe("the first rejected rows, by line (never their values)"),
  errorsTotal: z.number().int(),
  elapsedMs: z.number(),
  rowsPerSec: z.number(),
});

/** The import in flight, as GET /v1/imports and /v1/health report it. */
export const importStatusSchema = z.object({
  source: z.string(),
  startedAt: z.string().describe("ISO 8601"),
  ...counts,
  bytes: z.number().int().describe("bytes of the source read so far"),
  totalBytes: z.number().int().optional().describe("the source's size, when the client sent a Content-Length"),
  rowsPerSec: z.number(),
  elapsedMs: z.number(),
});

/** Response of GET /v1/imports. */
export const importsResponseSchema = z.object({ current: importStatusSchema.nullable().describe("the import in flight; null when none runs") });

/** Body of POST /v1/entries/check. */
export const ownCheckRequestSchema = z.strictObject({ items: z.array(identifierItem).min(1).max(API_DEFAULTS.maxItemsPerCheck) });

/** Response of POST /v1/entries/check: this member's own lists only, nothing asked of a peer, nothing on the ledger. */
export const ownCheckResponseSchema = z.object({
  results: z.array(z.object({
    hit: z.boolean(),
    category: z.string().optional(),
    level: z.number().int().optional(),
    reason: z.string().optional(),
    reportedAt: z.number().int().optional().describe("unix seconds"),
    expiresAt: z.number().int().nullable().optional().describe("unix seconds"),
    ref: z.string().nullable().optional().describe("the member's own reference of the entry"),
  })),
});

/** Body of POST /v1/entries/remove. */
export const removeRequestSchema = z.strictObject({
  items: z.array(identifierItem).min(1).max(API_DEFAULTS.maxItemsPerCheck),
  reason: z.string().min(1).max(32).regex(/^[A-Za-z0-9_.:-]+$/, "must be a reason code of A-Z a-z 0-9 _ . : - (e.g. appeal_upheld)").describe("why the entries are delisted: kept in the store's audit trail with each removal"),
});

/** Response of POST /v1/entries/remove. */
export const removeResponseSchema = z.object({
  removed: z.number().int().describe("entries delisted"),
  results: z.array(z.object({ removed: z.boolean(), category: z.string().optional() })).describe("per item, in order: false when it was not listed"),
});

/** Response of GET /v1/entries/stats. */
export const statsResponseSchema = z.object({
  entries: z.number().int().describe("stored entries, expired ones awaiting a sweep included"),
  keyEpoch: z.number().int().nullable().describe("the OPRF key epoch the store is keyed under"),
  expiredAwaitingSweep: z.number().int(),
  perCategory: z.array(z.object({ categoryId: z.number().int(), name: z.string().nullable(), entries: z.number().int() })),
});

/** Body of POST /v1/publish. */
export const publishRequestSchema = z.strictObject({
  categories: z.array(z.string().min(1).max(64)).min(1).optional().describe("category names (default: every active category)"),
});

/** Response of POST /v1/publish. */
export const publishResponseSchema = z.object({
  published: z.array(z.object({ category: z.string().nullable(), keyEpoch: z.number().int(), liveCount: z.number().int(), filterHash: z.string(), txHash: z.string() })),
});

/** An error reply. */
export const errorResponseSchema = z.object({
  error: z.object({ code: z.string(), message: z.string(), hint: z.string() }),
});

/** Query of GET /v1/hits/changes. */
export const hitChangesQuerySchema = z.strictObject({
  since: z.string().regex(/^([0-9]{1,12}|[0-9]{4}-[0-9]{2}-[0-9]{2}(T[0-9:.]+(Z|[+-][0-9]{2}:?[0-9]{2})?)?)$/, "must be an ISO 8601 time or unix seconds").optional()
    .describe("only changes this node saw at or after this time: ISO 8601 (2026-01-31T00:00:00Z) or unix seconds; all kept changes when absent"),
});

/** Response of GET /v1/hits/changes: delistings of hits this node's lookups found, seen in the providers' filter deltas. */
export const hitChangesResponseSchema = z.object({
  changes: z.array(z.object({
    provider: z.string().describe("the provider's address"),
    providerName: z.string().optional().describe("the provider's member name, when the chain view knows it"),
    category: z.number().int().describe("the category id the hit was in"),
    categoryName: z.string().optional().describe("the category's name, when the chain view knows it"),
    queryId: z.string().describe("the lookup (query id) that found the hit"),
    delistedAt: z.string().describe("when the provider delisted the entry (ISO 8601), from its sealed notice"),
    reason: z.string().describe("the provider's delisting reason code (e.g. appeal_upheld, false_positive, expired)"),
    seenAt: z.string().describe("when this node applied the filter delta that carried it (ISO 8601)"),
  })),
});

/** Body of POST /v1/feedback: a report about one kept hit. */
export const feedbackRequestSchema = z.strictObject({
  hitId: z.string().regex(/^[0-9a-f]{16}$/, "must be the 16 hex digits of a hitId from POST /v1/check").describe("the hit to report on: a provider's hit's hitId in a POST /v1/check answer"),
  kind: z.enum(["confirmed", "false_positive", "outdated"]).describe("confirmed: the identifier did turn out fraudulent; false_positive: it did not; outdated: it no longer applies"),
});

/** One report as this node queued or sent it. */
export const feedbackReportSchema = z.object({
  reportId: z.string(),
  hitId: z.string(),
  provider: z.string().describe("the provider's address: the report goes to it alone"),
  providerName: z.string().optional(),
  category: z.number().int(),
  categoryName: z.string().optional(),
  kind: z.enum(["confirmed", "false_positive", "outdated"]),
  status: z.enum(["queued", "sent"]).describe("queued: waits for its provider's batch (feedback.minBatch reports, or feedback.maxWaitDays); sent: the provider acknowledged the batch"),
  queuedAt: z.string().describe("ISO 8601"),
  sentAt: z.string().optional().describe("ISO 8601: when the provider acknowledged the batch"),
  outcome: z.string().optional().describe("the provider's answer: accepted, or the code it refused the report with (E_FEEDBACK_MAC, E_FEEDBACK_UNKNOWN_ENTRY)"),
});

/** Response of POST /v1/feedback. */
export const feedbackResponseSchema = z.object({ report: feedbackReportSchema });

/** Response of GET /v1/feedback. */
export const feedbackListResponseSchema = z.object({ reports: z.array(feedbackReportSchema) });

/** Query of GET /v1/feedback/received. */
export const receivedFeedbackQuerySchema = z.strictObject({
  since: hitChangesQuerySchema.shape.since.describe("only reports received at or after this time: ISO 8601 or unix seconds; all when absent"),
});

/** Response of GET /v1/feedback/received: reports about this member's entries, as the provider kept them (never who sent which). */
export const receivedFeedbackResponseSchema = z.object({
  received: z.array(z.object({
    receivedAt: z.string().describe("ISO 8601: when the batch carrying it arrived (not when the reporter's lookup was)"),
    kind: z.enum(["confirmed", "false_positive", "outdated"]),
    category: z.number().int(),
    categoryName: z.string().optional(),
    tagPrefix: z.string().describe("the first 4 bytes of the entry's tag, hex"),
    ownRef: z.string().optional().describe("the entry's own reference in this member's list, if it has one: what to review it by"),
  })),
});

export type CheckRequest = z.output<typeof checkRequestSchema>;
export type CheckResponse = z.output<typeof checkResponseSchema>;
export type HealthResponse = z.output<typeof healthResponseSchema>;
export type PeersResponse = z.output<typeof peersResponseSchema>;
export type ImportQuery = z.output<typeof importQuerySchema>;
export type ImportSummaryResponse = z.output<typeof importSummarySchema>;
export type ImportStatusResponse = z.output<typeof importStatusSchema>;
export type OwnCheckResponse = z.output<typeof ownCheckResponseSchema>;
export type RemoveRequest = z.output<typeof removeRequestSchema>;
export type RemoveResponse = z.output<typeof removeResponseSchema>;
export type StatsResponse = z.output<typeof statsResponseSchema>;
export type PublishResponse = z.output<typeof publishResponseSchema>;
export type HitChangesResponse = z.output<typeof hitChangesResponseSchema>;
export type FeedbackRequest = z.output<typeof feedbackRequestSchema>;
export type FeedbackReportView = z.output<typeof feedbackReportSchema>;
export type FeedbackResponse = z.output<typeof feedbackResponseSchema>;
export type FeedbackListResponse = z.output<typeof feedbackListResponseSchema>;
export type ReceivedFeedbackResponse = z.output<typeof receivedFeedbackResponseSchema>;
