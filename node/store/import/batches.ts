/**
 * Turns the records a reader yields into the import's write batches, the same way in the main
 * thread and in the import worker: each row is converted as soon as it is read and its entry packed
 * at once (rows then die young, which keeps V8's collector cheap), and a batch ends at `batchSize`
 * rows or once its rows span `maxBatchBytes` of the source. Rows an interrupted run committed are
 * skipped.
 */
import type { ImportRowError } from "../records.ts";
import { EntryPacker, type PackedEntries } from "./convert.ts";
import { rowToEntry, type RowContext } from "./rows.ts";
import type { SourceRecord } from "./sources.ts";

/** A converted batch, ready to write. */
export interface PackedBatch {
  /** Data rows read, rejected ones included. */
  readonly rowCount: number;
  readonly lastLine: number;
  /** Bytes of the source read through the batch's last row. */
  readonly bytes: number;
  /** Rejected rows, unreadable or refused by a field check, in file order. */
  readonly rejections: ImportRowError[];
  readonly entries: PackedEntries;
}

/** How records become batches. */
export interface BatchingOptions {
  readonly batchSize: number;
  readonly maxBatchBytes: number;
  /** Records up to this line were committed by an interrupted run: skipped. */
  readonly resumeAfterLine: number;
  /** Source bytes an interrupted run had committed (where the first batch's byte span starts). */
  readonly startBytes: number;
}

/** The converted batches of a reader's records, in file order. */
export async function* convertedBatches(records: AsyncIterable<SourceRecord[]>, opts: BatchingOptions, ctx: RowContext): AsyncGenerator<PackedBatch> {
  let packer = new EntryPacker(opts.batchSize);
  let rowCount = 0;
  let lastLine = 0;
  let bytes = 0;
  let rejections: ImportRowError[] = [];
  let batchStartBytes = opts.startBytes;
  const take = (): PackedBatch => {
    const batch = { rowCount, lastLine, bytes, rejections, entries: packer.take() };
    packer = new EntryPacker(opts.batchSize);
    batchStartBytes = Math.max(batchStartBytes, bytes);
    rowCount = lastLine = bytes = 0;
    rejections = [];
    return batch;
  };
  for await (const chunk of records) {
    for (const record of chunk) {
      if (record.line <= opts.resumeAfterLine) continue;
      rowCount++;
      lastLine = Math.max(lastLine, record.line);
      bytes = Math.max(bytes, record.bytes);
      if (record.problem !== undefined) rejections.push({ line: record.line, ...record.problem });
      else {
        const result = rowToEntry(record.row, ctx);
        if (result.ok) packer.add(result.entry);
        else rejections.push({ line: record.line, ...result.problem });
      }
      if (rowCount >= opts.batchSize || bytes - batchStartBytes >= opts.maxBatchBytes) yield take();
    }
  }
  if (rowCount > 0) yield take();
}
