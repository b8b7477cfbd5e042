/**
 * Imports a risk list file (CSV or JSON Lines) into the store: streaming, batched, resumable.
 *
 * Each batch of rows goes to disk in one atomic write together with the category counts and the
 * import's checkpoint (last committed line, counts, listed errors). A crash or SIGKILL therefore
 * leaves whole batches only; running the same import again resumes after the checkpoint (same
 * content, same options → same import id) and ends in the state a clean run would have produced.
 * Without a checkpoint the rerun is still correct: rows already stored count as unchanged.
 *
 * Parsing and converting the next batches overlap the LevelDB write of the previous one; on a
 * large file, conversion (normalising and hashing) runs in worker threads on the other cores.
 */
import { createHash, randomUUID } from "node:crypto";
import { createReadStream } from "node:fs";
import { availableParallelism } from "node:os";
import { stat } from "node:fs/promises";
import { basename } from "node:path";
import type { Readable } from "node:stream";
import { RiskshareError, assertArgument } from "../../errors.ts";
import { DEFAULT_NORMALISE_OPTIONS, defaultIdentifierRegistry, type Hasher } from "../../identity/index.ts";
import type { Logger } from "../../logger.ts";
import { categoryUnknown } from "../errors.ts";
import { IMPORT_DEFAULTS, type ImportFormat, type ImportOptions, type ImportProgress } from "../options.ts";
import type { ImportCheckpoint, ImportCounts, ImportRowError } from "../records.ts";
import type { Store, UpsertResult } from "../store.ts";
import { inThreadConverter, workerConverter, type ConvertedBatch } from "./convert.ts";
import type { RowContext } from "./rows.ts";
import { readCsv, readJsonLines, type ImportColumn, type RawRow, type SourceRecord } from "./sources.ts";

/** Where the rows come from: a file (resumable), or any byte stream (resumable only with an `importId`). */
export type ImportSource =
  | { readonly path: string }
  | { readonly stream: Readable; readonly name: string; readonly sizeBytes?: number | undefined; readonly importId?: string | undefined };

/** What an import depends on. */
export interface ImportModules {
  /** An open store. */
  readonly store: Store;
  /** Hasher of the store's pepper epoch. */
  readonly hasher: Hasher;
  readonly logger: Logger;
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
  /** Worker threads that converted rows (0: all in this thread). */
  readonly workerThreads: number;
}

/** The format of a file by its name: .jsonl / .ndjson → JSON Lines, anything else → CSV. */
export function formatFromName(name: string): ImportFormat {
  return /\.(jsonl|ndjson)$/i.test(name) ? "jsonl" : "csv";
}

/** Imports one list into the store; see the module comment for the guarantees. */
export async function importList(source: ImportSource, opts: ImportOptions, modules: ImportModules): Promise<ImportSummary> {
  const { store, hasher } = modules;
  const logger = modules.logger.child({ module: "import" });
  const started = performance.now();
  const batchSize = opts.batchSize ?? IMPORT_DEFAULTS.batchSize;
  const maxErrorsListed = opts.maxErrorsListed ?? IMPORT_DEFAULTS.maxErrorsListed;
  assertArgument(Number.isInteger(batchSize) && batchSize > 0, "must be a positive integer", "batchSize");
  assertArgument(Number.isInteger(maxErrorsListed) && maxErrorsListed >= 0, "must be a non-negative integer", "maxErrorsListed");
  await store.bindPepperEpoch(hasher.epoch);

  const sourceName = "path" in source ? basename(source.path) : source.name;
  const format = opts.format ?? formatFromName(sourceName);
  const defaultType = opts.defaultType;
  if (defaultType !== undefined) store.identifiers.get(defaultType); // E_IDENTIFIER_TYPE early, not per row
  const categoryIds = categoryLookup(store.activeCategories());
  const defaultCategoryId = opts.defaultCategory === undefined ? undefined : categoryIds.get(opts.defaultCategory);
  if (opts.defaultCategory !== undefined && defaultCategoryId === undefined) throw categoryUnknown([...store.activeCategories().keys()]);
  const normalise = opts.normalise ?? DEFAULT_NORMALISE_OPTIONS;

  // Same content + same options = same import: the id a checkpoint is found by.
  const settings = JSON.stringify({ v: 1, format, defaultType, defaultCategoryId, region: normalise.defaultRegion ?? null, epoch: hasher.epoch });
  const importId = "path" in source ? await fileFingerprint(source.path, settings) : (source.importId ?? randomUUID());
  const previous = (opts.resume ?? IMPORT_DEFAULTS.resume) ? await store.importCheckpoint(importId) : undefined;
  const resumeFrom = previous !== undefined && !previous.done ? previous : undefined;
  const nowSec = resumeFrom?.nowSec ?? opts.nowSec ?? Math.floor(Date.now() / 1000);
  const totalBytes = "path" in source ? (await stat(source.path)).size : source.sizeBytes;

  const required: ImportColumn[] = ["value", "level", "reason", "reported_at"];
  if (defaultType === undefined) required.unshift("type");
  if (defaultCategoryId === undefined) required.push("category");
  const readerOptions = { requiredColumns: required, maxRecordBytes: IMPORT_DEFAULTS.maxRecordBytes };
  const input = "path" in source ? createReadStream(source.path, { highWaterMark: 256 * 1024 }) : source.stream;
  const records = format === "csv" ? readCsv(input, readerOptions) : readJsonLines(input, readerOptions);

  const ctx: RowContext = {
    identifiers: store.identifiers, categoryIds, defaultType, defaultCategoryId, normalise, hasher, nowSec,
    entryProblem: (entry, at) => store.entryProblem(entry, at), timestampCache: new Map(),
  };
  const presence = await trackPresence(opts.presenceFilter, totalBytes, store);
  const threads = workerThreads(opts.workers, totalBytes, store);
  const converter = threads === 0
    ? inThreadConverter(ctx)
    : workerConverter({
      pepper: hasher.pepperForWorker(), categoryIds: [...categoryIds], ...store.entryRules(), defaultType, defaultCategoryId, normalise, nowSec,
    }, threads);

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
  const commit = async (batch: PreparedBatch & { converted: Promise<ConvertedBatch> }): Promise<void> => {
    const converted = await batch.converted;
    const rejections = [...batch.unreadable, ...converted.problems.map(({ index, ...problem }) => ({ line: batch.lines[index]!, ...problem }))];
    rejections.sort((a, b) => a.line - b.line);
    for (const rejection of rejections) {
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
      .upsert(converted.entries, {
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

  // Batches read and handed to the converter, oldest first: conversion runs ahead of the writes.
  const prepared: Array<PreparedBatch & { converted: Promise<ConvertedBatch> }> = [];
  const maxPrepared = threads + 1;
  let current = emptyBatch();
  /** Source bytes consumed when the current batch began. */
  let batchStartBytes = bytes;
  const prepare = async (): Promise<void> => {
    if (current.rowCount === 0) return;
    prepared.push({ ...current, converted: converter.convert(current.rows) });
    batchStartBytes = Math.max(batchStartBytes, current.bytes);
    current = emptyBatch();
    while (prepared.length > maxPrepared) await commit(prepared.shift()!);
  };

  try {
    const resumeAfter = resumeFrom?.lastLine ?? 0;
    const stopIfAborted = (): void => {
      if (opts.signal?.aborted) throw new RiskshareError("E_ABORTED", "import cancelled; run it again to resume", { importId, lastLine });
    };
    for await (const chunk of records as AsyncIterable<SourceRecord[]>) {
      stopIfAborted();
      for (const record of chunk) {
        if (record.line <= resumeAfter) continue; // committed by the interrupted run
        current.rowCount++;
        current.lastLine = Math.max(current.lastLine, record.line);
        current.bytes = Math.max(current.bytes, record.bytes);
        if (record.problem === undefined) {
          current.rows.push(record.row);
          current.lines.push(record.line);
        } else current.unreadable.push({ line: record.line, ...record.problem });
        if (current.rowCount >= batchSize || current.bytes - batchStartBytes >= IMPORT_DEFAULTS.maxBatchBytes) {
          await prepare();
          stopIfAborted(); // a reader may hand over many batches' rows at once
        }
      }
    }
    await prepare();
    while (prepared.length > 0) await commit(prepared.shift()!);
    if (inflight) await inflight;
  } catch (err) {
    for (const batch of prepared) batch.converted.catch(() => undefined);
    if (inflight) await inflight.catch(() => undefined);
    input.destroy();
    throw err;
  } finally {
    const released = presence?.release();
    if (released !== undefined) logger.debug({ readsSkipped: released.readsSkipped }, "presence filter released");
    await converter.close();
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

/** Rows read for one write, before and while they are converted. */
interface PreparedBatch {
  /** Data rows read, unreadable ones included. */
  rowCount: number;
  rows: RawRow[];
  /** Line of each row in `rows`. */
  lines: number[];
  /** Rows the reader could not read. */
  unreadable: ImportRowError[];
  lastLine: number;
  bytes: number;
}

function emptyBatch(): PreparedBatch {
  return { rowCount: 0, rows: [], lines: [], unreadable: [], lastLine: 0, bytes: 0 };
}

/** Worker threads for an import: as asked, or — for sources over 4 MiB — one per core beyond the first, at most 4. */
function workerThreads(asked: number | undefined, totalBytes: number | undefined, store: Store): number {
  // Workers know the built-in identifier types only: a store with custom types converts in this thread.
  if (store.identifiers !== defaultIdentifierRegistry) return 0;
  if (asked !== undefined) {
    assertArgument(Number.isInteger(asked) && asked >= 0 && asked <= 64, "must be an integer in 0..64", "workers");
    return asked;
  }
  if (totalBytes === undefined || totalBytes < IMPORT_DEFAULTS.workerThresholdBytes) return 0;
  return Math.min(IMPORT_DEFAULTS.maxWorkers, Math.max(1, availableParallelism() - 1));
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
