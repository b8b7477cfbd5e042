/**
 * Imports a risk list file (CSV or JSON Lines) into the store: streaming, batched, resumable.
 *
 * Each batch of rows goes to disk in one atomic write together with the category counts and the
 * import's checkpoint (last committed line, counts, listed errors). A crash or SIGKILL therefore
 * leaves whole batches only; running the same import again resumes after the checkpoint (same
 * content, same options → same import id) and ends in the state a clean run would have produced.
 * Without a checkpoint the rerun is still correct: rows already stored count as unchanged.
 *
 * Reading, converting and keying the next batches overlap the LevelDB write of the previous one; on
 * a large file, reading and converting (parsing, normalising) run in one worker thread (pipeline.ts),
 * the OPRF evaluation that gives each entry its keys in others (keys.ts), and this thread only writes.
 */
import { createHash, randomUUID } from "node:crypto";
import { createReadStream } from "node:fs";
import { availableParallelism } from "node:os";
import { stat } from "node:fs/promises";
import { basename } from "node:path";
import type { Readable } from "node:stream";
import { RiskshareError, assertArgument } from "../../errors.ts";
import { DEFAULT_NORMALISE_OPTIONS, defaultIdentifierRegistry, shippedWarninglists, type EntryKeyEvaluator, type Warninglists } from "../../identity/index.ts";
import type { Logger } from "../../logger.ts";
import { categoryUnknown } from "../errors.ts";
import { IMPORT_DEFAULTS, type ImportFormat, type ImportOptions, type ImportProgress } from "../options.ts";
import type { ImportCheckpoint, ImportCounts, ImportRowError } from "../records.ts";
import type { Store, UpsertResult } from "../store.ts";
import { convertedBatches, type BatchingOptions, type PackedBatch } from "./batches.ts";
import { unpackEntries } from "./convert.ts";
import { keyedBatches } from "./keys.ts";
import { workerBatches } from "./pipeline.ts";
import type { RowContext } from "./rows.ts";
import { readCsv, readJsonLines, type ImportColumn, type ReaderOptions } from "./sources.ts";

/** Where the rows come from: a file (resumable), or any byte stream (resumable only with an `importId`). */
export type ImportSource =
  | { readonly path: string }
  | { readonly stream: Readable; readonly name: string; readonly sizeBytes?: number | undefined; readonly importId?: string | undefined };

/** What an import depends on. */
export interface ImportModules {
  /** An open store. */
  readonly store: Store;
  /** The provider's entry key evaluator (its OPRF secret key of the store's key epoch). */
  readonly evaluator: EntryKeyEvaluator;
  readonly logger: Logger;
  /** The warninglists rows are checked against (loadWarninglists); the shipped ones when absent. */
  readonly warninglists?: Warninglists | undefined;
}

/** The outcome of an import. */
export interface ImportSummary extends ImportCounts {
  readonly importId: string;
  readonly source: string;
  readonly format: ImportFormat;
  /** The line an interrupted earlier run had committed, when this run resumed after it. */
  readonly resumedAfterLine: number | undefined;
  /** The first rejected rows (see `maxErrorsListed`), by line. */
  readonly errors: readonly ImportRowError[];
  /** All rejected rows, listed or not. */
  readonly errorsTotal: number;
  readonly elapsedMs: number;
  /** Rows per second of this run. */
  readonly rowsPerSec: number;
  /** Worker threads that evaluated the rows' keys (0: all in this thread; else one more read the rows). */
  readonly workerThreads: number;
}

/** The format of a file by its name: .jsonl / .ndjson → JSON Lines, anything else → CSV. */
export function formatFromName(name: string): ImportFormat {
  return /\.(jsonl|ndjson)$/i.test(name) ? "jsonl" : "csv";
}

/** Imports one list into the store; see the module comment for the guarantees. */
export async function importList(source: ImportSource, opts: ImportOptions, modules: ImportModules): Promise<ImportSummary> {
  const { store, evaluator } = modules;
  const logger = modules.logger.child({ module: "import" });
  const started = performance.now();
  const batchSize = opts.batchSize ?? IMPORT_DEFAULTS.batchSize;
  const maxErrorsListed = opts.maxErrorsListed ?? IMPORT_DEFAULTS.maxErrorsListed;
  assertArgument(Number.isInteger(batchSize) && batchSize > 0, "must be a positive integer", "batchSize");
  assertArgument(Number.isInteger(maxErrorsListed) && maxErrorsListed >= 0, "must be a non-negative integer", "maxErrorsListed");
  await store.bindKeys(evaluator.context);

  const sourceName = "path" in source ? basename(source.path) : source.name;
  const format = opts.format ?? formatFromName(sourceName);
  const defaultType = opts.defaultType;
  if (defaultType !== undefined) store.identifiers.get(defaultType); // E_IDENTIFIER_TYPE early, not per row
  const categoryIds = categoryLookup(store.activeCategories());
  const defaultCategoryId = opts.defaultCategory === undefined ? undefined : categoryIds.get(opts.defaultCategory);
  if (opts.defaultCategory !== undefined && defaultCategoryId === undefined) throw categoryUnknown([...store.activeCategories().keys()]);
  const normalise = opts.normalise ?? DEFAULT_NORMALISE_OPTIONS;

  // Same content + same options = same import: the id a checkpoint is found by.
  const { chainId, providerAddress, keyEpoch } = evaluator.context;
  const settings = JSON.stringify({
    v: 2, format, defaultType, defaultCategoryId, region: normalise.defaultRegion ?? null, chainId: chainId.toString(), provider: providerAddress.toLowerCase(), keyEpoch,
  });
  // A stream resumes only under the id its sender gave it (e.g. the content's SHA-256), with the same options.
  const importId = "path" in source ? await fileFingerprint(source.path, settings)
    : source.importId === undefined ? randomUUID() : createHash("sha256").update(settings).update("\n").update(source.importId).digest("hex");
  const previous = (opts.resume ?? IMPORT_DEFAULTS.resume) ? await store.importCheckpoint(importId) : undefined;
  if (previous?.done === true && opts.skipDone === true) {
    logger.info({ importId, rows: previous.rows }, "import already finished; not run again");
    return {
      importId, source: sourceName, format, resumedAfterLine: previous.lastLine, ...countsOf(previous), errors: previous.errors, errorsTotal: previous.errorsTotal,
      elapsedMs: performance.now() - started, rowsPerSec: 0, workerThreads: 0,
    };
  }
  const resumeFrom = previous !== undefined && !previous.done ? previous : undefined;
  const nowSec = resumeFrom?.nowSec ?? opts.nowSec ?? Math.floor(Date.now() / 1000);
  const totalBytes = "path" in source ? (await stat(source.path)).size : source.sizeBytes;

  const required: ImportColumn[] = ["value", "level", "reason", "reported_at"];
  if (defaultType === undefined) required.unshift("type");
  if (defaultCategoryId === undefined) required.push("category");
  const reader: ReaderOptions = { requiredColumns: required, maxRecordBytes: IMPORT_DEFAULTS.maxRecordBytes };
  const input = "path" in source ? createReadStream(source.path, { highWaterMark: 256 * 1024 }) : source.stream;
  const batching: BatchingOptions = { batchSize, maxBatchBytes: IMPORT_DEFAULTS.maxBatchBytes, resumeAfterLine: resumeFrom?.lastLine ?? 0, startBytes: resumeFrom?.bytes ?? 0 };

  const presence = await trackPresence(opts.presenceFilter, totalBytes, store);
  const threads = workerThreads(opts.workers, totalBytes, store);
  let converted: AsyncGenerator<PackedBatch>;
  const warninglists = modules.warninglists ?? shippedWarninglists();
  if (threads === 0) {
    const ctx: RowContext = {
      identifiers: store.identifiers, categoryIds, defaultType, defaultCategoryId, normalise, nowSec,
      entryProblem: (entry, at) => store.entryProblem(entry, at), timestampCache: new Map(), warninglists,
    };
    converted = convertedBatches(format === "csv" ? readCsv(input, reader) : readJsonLines(input, reader), batching, ctx);
  } else {
    converted = workerBatches({
      categoryIds: [...categoryIds], ...store.entryRules(), defaultType, defaultCategoryId, normalise, nowSec, format, reader, batching,
      consortiumWarninglists: warninglists.consortiumLists,
    }, input);
  }
  const batches = keyedBatches(converted, evaluator, threads);

  // Counts committed to disk (with the checkpoint), and those of rows read since.
  let committed: ImportCounts = resumeFrom === undefined ? { rows: 0, imported: 0, updated: 0, unchanged: 0, rejected: 0 } : countsOf(resumeFrom);
  const errors: ImportRowError[] = [...(resumeFrom?.errors ?? [])];
  let errorsTotal = resumeFrom?.errorsTotal ?? 0;
  let rowsRead = committed.rows;
  let rejectedRead = committed.rejected;
  let rowsThisRun = 0;
  let lastLine = resumeFrom?.lastLine ?? 0;
  let bytes = resumeFrom?.bytes ?? 0;
  let inflight: Promise<void> | undefined;
  const startedAtSec = resumeFrom?.startedAtSec ?? nowSec;

  const checkpointOf = (counts: ImportCounts, upTo: { lastLine: number; bytes: number; errors: ImportRowError[]; errorsTotal: number }, done: boolean): ImportCheckpoint => ({
    importId, source: sourceName, format, nowSec, startedAtSec, ...counts, ...upTo, done,
  });

  const progress = (): void => {
    const elapsedMs = performance.now() - started;
    const report: ImportProgress = {
      rows: rowsRead, bytes, totalBytes, elapsedMs, rowsPerSec: elapsedMs > 0 ? Math.round((rowsThisRun * 1000) / elapsedMs) : 0,
      imported: committed.imported, updated: committed.updated, unchanged: committed.unchanged, rejected: committed.rejected,
    };
    opts.onProgress?.(report);
  };

  /**
   * Accounts a converted batch in file order (rejections, line, bytes), then sends its entries with
   * the checkpoint; returns once the previous write is on disk, so at most one write is in flight.
   */
  const commit = async (batch: PackedBatch): Promise<void> => {
    for (const rejection of batch.rejections) {
      rejectedRead++;
      errorsTotal++;
      if (errors.length < maxErrorsListed) errors.push(rejection);
    }
    rowsRead += batch.rowCount;
    rowsThisRun += batch.rowCount;
    lastLine = Math.max(lastLine, batch.lastLine);
    bytes = Math.max(bytes, batch.bytes);
    const upTo = { lastLine, bytes, errors: [...errors], errorsTotal };
    const read = { rows: rowsRead, rejected: rejectedRead };
    if (inflight) await inflight;
    inflight = store
      .upsert(unpackEntries(batch.entries), {
        nowSec,
        checkpoint: (result: UpsertResult) => checkpointOf(addResult(committed, read, result), upTo, false),
      })
      .then((result) => {
        committed = addResult(committed, read, result);
        progress();
      });
    // Surface a failed write at the next commit; keep the rejection handled meanwhile.
    inflight.catch(() => undefined);
  };

  try {
    for await (const batch of batches) {
      if (opts.signal?.aborted) throw new RiskshareError("E_ABORTED", "import cancelled; run it again to resume", { importId, lastLine });
      await commit(batch);
    }
    if (inflight) await inflight;
  } catch (err) {
    if (inflight) await inflight.catch(() => undefined);
    throw err;
  } finally {
    await batches.return(undefined);
    await converted.return(undefined);
    if ("stream" in source) source.stream.destroy();
    else input.destroy();
    const released = presence?.release();
    if (released !== undefined) logger.debug({ readsSkipped: released.readsSkipped }, "presence filter released");
  }
  // Rejected rows after the last write are committed by the final checkpoint below.
  committed = { ...committed, rows: rowsRead, rejected: rejectedRead };

  const summaryErrors = [...errors].sort((a, b) => a.line - b.line);
  await store.writeCheckpoint(checkpointOf(committed, { lastLine, bytes, errors: summaryErrors, errorsTotal }, true));
  progress();
  const elapsedMs = performance.now() - started;
  const summary: ImportSummary = {
    importId, source: sourceName, format, resumedAfterLine: resumeFrom?.lastLine, ...committed, errors: summaryErrors, errorsTotal,
    elapsedMs, rowsPerSec: elapsedMs > 0 ? Math.round((rowsThisRun * 1000) / elapsedMs) : 0, workerThreads: threads,
  };
  logger.info({ importId, rows: summary.rows, imported: summary.imported, updated: summary.updated, unchanged: summary.unchanged, rejected: summary.rejected, rowsPerSec: summary.rowsPerSec, workerThreads: threads }, "import finished");
  return summary;
}

/**
 * Evaluating worker threads for an import: as asked, or one per core for sources of at least 4 MiB
 * (evaluation is ~90% of the work; the reading worker and this thread's writing share the rest).
 */
function workerThreads(asked: number | undefined, totalBytes: number | undefined, store: Store): number {
  if (asked !== undefined) assertArgument(Number.isInteger(asked) && asked >= 0 && asked <= 64, "must be 0 (this thread) to 64 worker threads", "workers");
  // The reading worker knows the built-in identifier types only: a store with custom types converts in this thread.
  if (store.identifiers !== defaultIdentifierRegistry) return 0;
  if (asked !== undefined) return asked;
  return totalBytes !== undefined && totalBytes >= IMPORT_DEFAULTS.workerThresholdBytes ? availableParallelism() : 0;
}

/**
 * The store's presence filter for this import, when asked or (by default) when the source is large
 * and the rows it will likely add are at least a quarter of the entries stored.
 */
async function trackPresence(asked: boolean | undefined, totalBytes: number | undefined, store: Store): Promise<{ release(): { readsSkipped: number } } | undefined> {
  const estimatedRows = totalBytes === undefined ? 0 : Math.ceil(totalBytes / IMPORT_DEFAULTS.estimatedRowBytes);
  let stored = 0;
  for (const count of store.countPerCategory().values()) stored += count;
  const wanted = asked ?? (totalBytes !== undefined && totalBytes >= IMPORT_DEFAULTS.presenceFilterMinBytes && stored <= 4 * estimatedRows);
  return wanted ? store.trackPresence(estimatedRows) : undefined;
}

/** Counts after a committed batch: rows and rejections as read up to the batch's end, plus the upsert's outcome. */
function addResult(committed: ImportCounts, read: { rows: number; rejected: number }, result: UpsertResult): ImportCounts {
  return {
    rows: read.rows, rejected: read.rejected,
    imported: committed.imported + result.added, updated: committed.updated + result.updated, unchanged: committed.unchanged + result.unchanged,
  };
}

function countsOf(c: ImportCounts): ImportCounts {
  return { rows: c.rows, imported: c.imported, updated: c.updated, unchanged: c.unchanged, rejected: c.rejected };
}

/** Category name or decimal id → id. */
function categoryLookup(active: ReadonlyMap<string, number>): Map<string, number> {
  const lookup = new Map<string, number>();
  for (const [name, id] of active) {
    lookup.set(name, id);
    lookup.set(String(id), id);
  }
  return lookup;
}

/** SHA-256 over the import settings and the file's bytes. */
async function fileFingerprint(path: string, settings: string): Promise<string> {
  const hash = createHash("sha256").update(settings);
  for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 })) hash.update(chunk as Buffer);
  return hash.digest("hex");
}
