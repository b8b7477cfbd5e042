/**
 * Row conversion in batches — checking, normalising and hashing, the costliest part of an import —
 * either in this thread or in a pool of worker threads, so that parsing and LevelDB writes on the
 * main thread overlap with it on other cores. Results come back in batch order either way.
 *
 * Workers rebuild the conversion context from a plain setup (the built-in identifier types, the
 * active categories, the entry rules and a copy of the pepper, which stays inside this process).
 */
import { Worker } from "node:worker_threads";
import { RiskshareError } from "../../errors.ts";
import type { NormaliseOptions, PepperSecret } from "../../identity/index.ts";
import { IMPORT_DEFAULTS } from "../options.ts";
import type { EntryInput } from "../entry.ts";
import { rowToEntry, type RowContext } from "./rows.ts";
import { IMPORT_COLUMNS, type ImportColumn, type RawRow, type RowProblem } from "./sources.ts";
import type { Cell } from "./fields.ts";

/** The entries of a converted batch, in row order, and the rejected rows by index within the batch. */
export interface ConvertedBatch {
  readonly entries: EntryInput[];
  readonly problems: ReadonlyArray<RowProblem & { readonly index: number }>;
}

/** Converts batches of raw rows; `close()` releases any threads. */
export interface RowConverter {
  convert(rows: readonly RawRow[]): Promise<ConvertedBatch>;
  close(): Promise<void>;
}

/** Converts in this thread. */
export function inThreadConverter(ctx: RowContext): RowConverter {
  return {
    convert: (rows) => Promise.resolve(convertRows(rows, ctx)),
    close: () => Promise.resolve(),
  };
}

/** Converts a batch with {@link rowToEntry}. */
export function convertRows(rows: readonly RawRow[], ctx: RowContext): ConvertedBatch {
  const entries: EntryInput[] = [];
  const problems: Array<RowProblem & { index: number }> = [];
  for (let index = 0; index < rows.length; index++) {
    const result = rowToEntry(rows[index]!, ctx);
    if (result.ok) entries.push(result.entry);
    else problems.push({ index, ...result.problem });
  }
  return { entries, problems };
}

/** Everything a worker needs to rebuild the conversion context: plain data only. */
export interface WorkerSetup {
  readonly pepper: PepperSecret;
  readonly categoryIds: ReadonlyArray<readonly [string, number]>;
  readonly activeCategoryIds: readonly number[];
  readonly maxClockSkewSec: number;
  readonly defaultType: string | undefined;
  readonly defaultCategoryId: number | undefined;
  readonly normalise: NormaliseOptions;
  readonly nowSec: number;
}

/**
 * A batch as sent to a worker, packed: every text cell of the batch in one string (row by row, in
 * `columns` order) with its length in `lengths`. One string and one typed array cost the structured
 * clone a copy each, where arrays of small strings cost it (and the worker) an object per cell.
 */
export interface WorkerRequest {
  readonly id: number;
  readonly count: number;
  /** Columns any row of the batch has. */
  readonly columns: readonly ImportColumn[];
  readonly text: string;
  /** Per row and column: the cell's length in `text`, {@link ABSENT_CELL}, or {@link OTHER_CELL}. */
  readonly lengths: Int32Array;
  /** Cells that are not text (JSON numbers, null, booleans), in order. */
  readonly others: Cell[];
}

/** A column the row lacks. */
const ABSENT_CELL = -1;
/** A cell that is not text: the next one of `others`. */
const OTHER_CELL = -2;

/** A converted batch as a worker returns it: column arrays, hashes in one transferred buffer. */
export interface WorkerResponse {
  readonly id: number;
  readonly types: string[];
  readonly hashes: Uint8Array;
  readonly categoryIds: Uint8Array;
  readonly levels: Uint8Array;
  readonly reasons: string[];
  readonly reportedAtSec: Float64Array;
  /** -1: never expires. */
  readonly expiresAtSec: Float64Array;
  readonly ownRefs: Array<string | null>;
  readonly problems: Array<RowProblem & { index: number }>;
}

/** Converts in `threads` worker threads, batches handed out in turn. */
export function workerConverter(setup: WorkerSetup, threads: number): RowConverter {
  const workers: Worker[] = [];
  const waiting = new Map<number, { resolve: (batch: ConvertedBatch) => void; reject: (err: unknown) => void }>();
  let nextId = 0;
  let failure: unknown;
  const failAll = (err: unknown): void => {
    failure ??= err;
    for (const { reject } of waiting.values()) reject(err);
    waiting.clear();
  };
  for (let i = 0; i < threads; i++) {
    const worker = new Worker(new URL("./convertWorker.ts", import.meta.url), {
      workerData: setup,
      resourceLimits: { maxOldGenerationSizeMb: IMPORT_DEFAULTS.workerHeapMb, maxYoungGenerationSizeMb: IMPORT_DEFAULTS.workerYoungHeapMb },
    });
    worker.on("message", (response: WorkerResponse) => {
      const pending = waiting.get(response.id);
      waiting.delete(response.id);
      pending?.resolve(fromResponse(response));
    });
    worker.on("error", (err) => failAll(new RiskshareError("E_INTERNAL", "an import worker failed", {}, { cause: err })));
    worker.on("exit", (code) => {
      if (waiting.size > 0) failAll(new RiskshareError("E_INTERNAL", "an import worker stopped", { exitCode: code }));
    });
    workers.push(worker);
  }
  return {
    convert(rows) {
      if (failure !== undefined) return Promise.reject(failure);
      const request = packRequest(nextId++, rows);
      return new Promise<ConvertedBatch>((resolve, reject) => {
        waiting.set(request.id, { resolve, reject });
        workers[request.id % workers.length]!.postMessage(request, [request.lengths.buffer as ArrayBuffer]);
      });
    },
    async close() {
      waiting.clear();
      await Promise.all(workers.map((worker) => worker.terminate()));
    },
  };
}

/** Packs a batch of rows into a {@link WorkerRequest}. */
export function packRequest(id: number, rows: readonly RawRow[]): WorkerRequest {
  const columns = IMPORT_COLUMNS.filter((name) => rows.some((row) => row[name] !== undefined));
  const width = columns.length;
  const lengths = new Int32Array(rows.length * width);
  const parts: string[] = [];
  const others: Cell[] = [];
  for (let i = 0, k = 0; i < rows.length; i++) {
    const row = rows[i]!;
    for (let c = 0; c < width; c++, k++) {
      const cell = row[columns[c]!];
      if (typeof cell === "string") {
        parts.push(cell);
        lengths[k] = cell.length;
      } else if (cell === undefined) lengths[k] = ABSENT_CELL;
      else {
        others.push(cell);
        lengths[k] = OTHER_CELL;
      }
    }
  }
  return { id, count: rows.length, columns, text: parts.join(""), lengths, others };
}

/** The rows of a request, back as objects. */
export function rowsOfRequest(request: WorkerRequest): RawRow[] {
  const { columns, text, lengths, others } = request;
  const width = columns.length;
  const rows: RawRow[] = new Array(request.count);
  let at = 0;
  let other = 0;
  for (let i = 0, k = 0; i < request.count; i++) {
    const row: RawRow = {};
    for (let c = 0; c < width; c++, k++) {
      const length = lengths[k]!;
      if (length >= 0) {
        row[columns[c]!] = text.slice(at, at + length);
        at += length;
      } else if (length === OTHER_CELL) row[columns[c]!] = others[other++];
    }
    rows[i] = row;
  }
  return rows;
}

/** Packs a converted batch for the trip back to the main thread. */
export function toResponse(id: number, batch: ConvertedBatch): WorkerResponse {
  const n = batch.entries.length;
  const response: WorkerResponse = {
    id, types: new Array(n), hashes: new Uint8Array(n * 32), categoryIds: new Uint8Array(n), levels: new Uint8Array(n),
    reasons: new Array(n), reportedAtSec: new Float64Array(n), expiresAtSec: new Float64Array(n), ownRefs: new Array(n),
    problems: [...batch.problems],
  };
  batch.entries.forEach((entry, i) => {
    response.types[i] = entry.type;
    response.hashes.set(entry.hash, i * 32);
    response.categoryIds[i] = entry.categoryId;
    response.levels[i] = entry.level;
    response.reasons[i] = entry.reason;
    response.reportedAtSec[i] = entry.reportedAtSec;
    response.expiresAtSec[i] = entry.expiresAtSec ?? -1;
    response.ownRefs[i] = entry.ownRef ?? null;
  });
  return response;
}

function fromResponse(response: WorkerResponse): ConvertedBatch {
  const entries: EntryInput[] = new Array(response.types.length);
  for (let i = 0; i < entries.length; i++) {
    const expiresAtSec = response.expiresAtSec[i]!;
    entries[i] = {
      type: response.types[i]!, hash: response.hashes.subarray(i * 32, i * 32 + 32), categoryId: response.categoryIds[i]!,
      level: response.levels[i]! as EntryInput["level"], reason: response.reasons[i]!, reportedAtSec: response.reportedAtSec[i]!,
      expiresAtSec: expiresAtSec < 0 ? undefined : expiresAtSec, ownRef: response.ownRefs[i] ?? undefined,
    };
  }
  return { entries, problems: response.problems };
}
