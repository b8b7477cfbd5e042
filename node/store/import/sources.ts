/**
 * Streaming readers of import files: CSV (csv-parse) and JSON Lines. Each yields one record per
 * data row with its line number and the bytes consumed so far, in constant memory; a row that
 * cannot be read becomes a record with a problem instead of stopping the file.
 */
import type { Readable } from "node:stream";
import { parse, type CsvError, type Options as CsvOptions } from "csv-parse";
import { z } from "zod";
import { importFormat, type RowRejectReason } from "../errors.ts";
import type { Cell } from "./fields.ts";

/** The columns (CSV) or fields (JSON Lines) of an import row, in the documented order. */
export const IMPORT_COLUMNS = ["type", "value", "category", "level", "reason", "reported_at", "expires_at", "ref"] as const;

/** One column name. */
export type ImportColumn = (typeof IMPORT_COLUMNS)[number];

/** A row as read, before any field is checked. */
export type RawRow = Partial<Record<ImportColumn, Cell>>;

/** A problem that rejects a whole row (or one field of it). */
export interface RowProblem {
  readonly field: string;
  readonly reason: RowRejectReason;
}

/** One data row of the source. */
export type SourceRecord =
  | { readonly line: number; readonly bytes: number; readonly row: RawRow; readonly problem?: undefined }
  | { readonly line: number; readonly bytes: number; readonly row?: undefined; readonly problem: RowProblem };

/** What both readers need to know. */
export interface ReaderOptions {
  /** Columns the file must have (CSV header) — the others are optional. */
  readonly requiredColumns: readonly ImportColumn[];
  /** Longest record (CSV) or line (JSON Lines) in bytes. */
  readonly maxRecordBytes: number;
}

const KNOWN = new Set<string>(IMPORT_COLUMNS);

/**
 * Reads CSV with a header row naming the columns (any order, case-insensitive, optional BOM).
 * Yields records in arrays (whatever the parser has ready), which saves an await per row.
 */
export async function* readCsv(input: Readable, opts: ReaderOptions): AsyncGenerator<SourceRecord[]> {
  const skipped: SourceRecord[] = [];
  type CsvRecord = { line: number; bytes: number; cells: string[] };
  const csvOptions: CsvOptions<CsvRecord, string[]> = {
    bom: true,
    relax_column_count: true, // a short or long row is one bad row, reported below, not a fatal error
    relax_quotes: true, // a stray quote inside a cell is kept as text (field checks then judge it)
    skip_empty_lines: true,
    skip_records_with_error: true,
    max_record_size: opts.maxRecordBytes,
    on_record: (cells: string[], context) => ({ line: context.lines, bytes: context.bytes, cells }),
    on_skip: (err: CsvError | undefined) => {
      // Only the position goes on: the error's message and raw text may quote cell contents.
      const line = (err as { lines?: number } | undefined)?.lines ?? 0;
      skipped.push({ line, bytes: 0, problem: { field: "row", reason: "csv_syntax" } });
      return undefined;
    },
  };
  // csv-parse types on_record as returning the record type itself; ours wraps it with its position.
  const parser = parse(csvOptions as unknown as CsvOptions);
  input.on("error", (err) => parser.destroy(err));
  input.pipe(parser);

  let columns: Array<ImportColumn | undefined> | undefined;
  for await (const records of objectChunks<CsvRecord>(parser)) {
    const out: SourceRecord[] = skipped.splice(0);
    for (const record of records) {
      if (columns === undefined) {
        columns = csvColumns(record.cells, opts.requiredColumns);
        continue;
      }
      if (record.cells.length !== columns.length) {
        out.push({ line: record.line, bytes: record.bytes, problem: { field: "row", reason: "columns" } });
        continue;
      }
      const row: RawRow = {};
      for (let i = 0; i < columns.length; i++) row[columns[i]!] = record.cells[i];
      out.push({ line: record.line, bytes: record.bytes, row });
    }
    if (out.length > 0) yield out;
  }
  if (skipped.length > 0) yield skipped.splice(0);
  if (columns === undefined) throw importFormat("the CSV file is empty: it needs a header row", { format: "csv" });
}

/** The objects of an object-mode stream, in arrays of whatever is buffered: one await per array, not per object. */
async function* objectChunks<T>(stream: Readable): AsyncGenerator<T[]> {
  let ended = false;
  let failure: unknown;
  let wake: (() => void) | undefined;
  const signal = (): void => {
    const resolve = wake;
    wake = undefined;
    resolve?.();
  };
  stream.on("readable", signal);
  stream.once("end", () => {
    ended = true;
    signal();
  });
  stream.once("error", (err) => {
    failure = err;
    signal();
  });
  try {
    for (;;) {
      const items: T[] = [];
      for (let item = stream.read() as T | null; item !== null; item = stream.read() as T | null) items.push(item);
      if (items.length > 0) yield items;
      else if (failure !== undefined) throw failure;
      else if (ended) return;
      else await new Promise<void>((resolve) => (wake = resolve));
    }
  } finally {
    stream.off("readable", signal);
    if (!ended) stream.destroy();
  }
}

/** The column of each header cell; throws E_IMPORT_FORMAT for unknown, repeated or missing columns. */
function csvColumns(header: readonly string[], required: readonly ImportColumn[]): ImportColumn[] {
  const columns = header.map((cell) => cell.trim().toLowerCase());
  columns.forEach((name, index) => {
    if (!KNOWN.has(name)) throw importFormat(`header column ${index + 1} is not one of: ${IMPORT_COLUMNS.join(", ")}`, { column: index + 1 });
    if (columns.indexOf(name) !== index) throw importFormat(`header column ${name} appears twice`, { column: index + 1 });
  });
  for (const name of required) if (!columns.includes(name)) throw importFormat(`the header lacks the ${name} column`, { missing: name });
  return columns as ImportColumn[];
}

/** A JSON Lines row: an object with the import fields only, each a string, number or null. */
const JsonRow = z.strictObject(
  Object.fromEntries(IMPORT_COLUMNS.map((name) => [name, z.union([z.string(), z.number(), z.null()]).optional()])) as Record<
    ImportColumn,
    z.ZodOptional<z.ZodUnion<[z.ZodString, z.ZodNumber, z.ZodNull]>>
  >,
);

/** Reads JSON Lines: one object per line; blank lines are skipped. Line endings \n or \r\n. Yields per input chunk. */
export async function* readJsonLines(input: Readable, opts: ReaderOptions): AsyncGenerator<SourceRecord[]> {
  let carry: Buffer | undefined;
  let line = 0;
  let bytes = 0;
  let oversized = false; // inside a line longer than maxRecordBytes: skip to its end
  for await (const chunk of input as AsyncIterable<Buffer>) {
    const out: SourceRecord[] = [];
    const data = carry === undefined ? chunk : Buffer.concat([carry, chunk]);
    carry = undefined;
    let start = 0;
    for (;;) {
      const end = data.indexOf(0x0a, start);
      if (end < 0) break;
      line++;
      bytes += end - start + 1;
      if (oversized) {
        oversized = false;
        out.push({ line, bytes, problem: { field: "row", reason: "too_long" } });
      } else {
        const record = jsonRecord(data, start, end, line, bytes, opts);
        if (record !== undefined) out.push(record);
      }
      start = end + 1;
    }
    if (start < data.length) {
      if (oversized || data.length - start > opts.maxRecordBytes) {
        oversized = true;
        bytes += data.length - start;
      } else carry = data.subarray(start);
    }
    if (out.length > 0) yield out;
  }
  if (oversized) yield [{ line: line + 1, bytes, problem: { field: "row", reason: "too_long" } }];
  else if (carry !== undefined && carry.length > 0) {
    bytes += carry.length;
    const record = jsonRecord(carry, 0, carry.length, line + 1, bytes, opts);
    if (record !== undefined) yield [record];
  }
}

function jsonRecord(data: Buffer, start: number, end: number, line: number, bytes: number, opts: ReaderOptions): SourceRecord | undefined {
  if (end - start > opts.maxRecordBytes) return { line, bytes, problem: { field: "row", reason: "too_long" } };
  const text = data.toString("utf8", start, end).trim();
  if (text.length === 0) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { line, bytes, problem: { field: "row", reason: "json" } };
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) return { line, bytes, problem: { field: "row", reason: "not_object" } };
  const parsed = JsonRow.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    // Unknown keys are not named: a shifted or garbled line may carry an identifier as a key.
    if (issue.code === "unrecognized_keys") return { line, bytes, problem: { field: "row", reason: "unknown_field" } };
    return { line, bytes, problem: { field: String(issue.path[0] ?? "row"), reason: "wrong_type" } };
  }
  for (const name of opts.requiredColumns) {
    if (!(name in parsed.data)) return { line, bytes, problem: { field: name, reason: "missing" } };
  }
  return { line, bytes, row: parsed.data };
}
