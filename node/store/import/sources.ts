/**
 * Streaming readers of import files: CSV (through csv.ts, which reads as csv-parse does) and JSON
 * Lines. Each yields one record per data row with its line number and the bytes consumed so far,
 * in constant memory; a row that cannot be read becomes a record with a problem instead of
 * stopping the file.
 */
import { z } from "zod";
import { importFormat, type RowRejectReason } from "../errors.ts";
import { CsvTokenizer, type CsvSink } from "./csv.ts";
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
 * Yields the records of each input chunk in one array, which saves an await per row.
 */
export async function* readCsv(input: AsyncIterable<Uint8Array | string>, opts: ReaderOptions): AsyncGenerator<SourceRecord[]> {
  let out: SourceRecord[] = [];
  let columns: ImportColumn[] | undefined;
  const sink: CsvSink = {
    record(cells, line, bytes) {
      if (columns === undefined) {
        columns = csvColumns(cells, opts.requiredColumns);
        return;
      }
      // A short or long row is one bad row, not a fatal error (csv-parse's relax_column_count).
      if (cells.length !== columns.length) {
        out.push({ line, bytes, problem: { field: "row", reason: "columns" } });
        return;
      }
      const row: RawRow = {};
      for (let i = 0; i < columns.length; i++) row[columns[i]!] = cells[i];
      out.push({ line, bytes, row });
    },
    // Only the position goes on: the record's text may hold identifiers.
    skip(line) {
      out.push({ line, bytes: 0, problem: { field: "row", reason: "csv_syntax" } });
    },
  };
  const tokenizer = new CsvTokenizer({ maxRecordBytes: opts.maxRecordBytes }, sink);
  for await (const chunk of input) {
    // A stream with an encoding set, or of plain Uint8Arrays, still reads as bytes (csv-parse did too).
    tokenizer.push(typeof chunk === "string" ? Buffer.from(chunk) : Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    if (out.length > 0) {
      yield out;
      out = [];
    }
  }
  tokenizer.end();
  if (out.length > 0) yield out;
  if (columns === undefined) throw importFormat("the CSV file is empty: it needs a header row", { format: "csv" });
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
export async function* readJsonLines(input: AsyncIterable<Buffer>, opts: ReaderOptions): AsyncGenerator<SourceRecord[]> {
  let carry: Buffer | undefined;
  let line = 0;
  let bytes = 0;
  let oversized = false; // inside a line longer than maxRecordBytes: skip to its end
  for await (const chunk of input) {
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
