/**
 * A streaming CSV tokenizer for the one dialect the importer reads. It yields what csv-parse 7
 * yields with `{ bom, relax_column_count, relax_quotes, skip_empty_lines, skip_records_with_error,
 * max_record_size }` — the same cells, `context.lines`, `context.bytes` and skipped records, in the
 * same order — at a fraction of its cost: a line without quotes costs an `indexOf`, one decode and
 * one `split`, against csv-parse's several calls per byte.
 *
 * Two paths share one state. The fast path takes whole lines between records, when their quotes
 * (if any) wrap whole cells. Anything else — the first line, before the record delimiter is known;
 * `""` escapes and stray or unclosed quotes; a CR or LF that is not the record delimiter; a line
 * over the record limit; the line a chunk ends in; UTF-16 — goes byte by byte through a port of
 * csv-parse's own loop, so the odd cases keep csv-parse's answers (see {@link CsvTokenizer.slow}).
 *
 * One deliberate difference: csv-parse stops reading at the first record over `max_record_size`
 * (it returns from its loop without keeping the rest of the chunk, so what follows is lost or read
 * twice, depending on where chunks end). Here that record is skipped once, at the line where
 * csv-parse reports it, and reading goes on after the record's end.
 *
 * @example
 * const tokenizer = new CsvTokenizer({ maxRecordBytes: 65_536 }, {
 *   record: (cells, line, bytes) => rows.push({ cells, line, bytes }),
 *   skip: (line) => problems.push(line),
 * });
 * for await (const chunk of stream) tokenizer.push(chunk);
 * tokenizer.end();
 */
import { isAscii } from "node:buffer";

/** What the tokenizer needs to know. */
export interface CsvTokenizerOptions {
  /**
   * csv-parse's `max_record_size`: a record is skipped once the text read so far (decoded length of
   * its finished cells plus the bytes of the current one) exceeds this before another character.
   * 0: no limit.
   */
  readonly maxRecordBytes: number;
}

/** Where the tokenizer hands its records, in file order. */
export interface CsvSink {
  /**
   * One record: its cells (ownership passes to the sink), the line it ends on (csv-parse's
   * `context.lines`) and the bytes of the file read through its record delimiter (`context.bytes`).
   */
  record(cells: string[], line: number, bytes: number): void;
  /** A record that could not be read (csv-parse's `on_skip`): an unclosed quote at the end, or over the size limit. */
  skip(line: number): void;
}

const QUOTE = 0x22;
const COMMA = 0x2c;
const CR = 0x0d;
const LF = 0x0a;

/** Record delimiters csv-parse tries, in its order (CRLF before CR), per code-unit width. */
const RECORD_DELIMITERS: Readonly<Record<1 | 2, readonly Buffer[]>> = {
  1: [Buffer.from("\r\n", "utf8"), Buffer.from("\n", "utf8"), Buffer.from("\r", "utf8")],
  2: [Buffer.from("\r\n", "utf16le"), Buffer.from("\n", "utf16le"), Buffer.from("\r", "utf16le")],
};

/** The record delimiter, once found (the fast path has a branch for each); 0 while unknown. */
const UNKNOWN = 0;
const LF_ENDED = 1;
const CRLF_ENDED = 2;
const CR_ENDED = 3;
type DelimiterKind = typeof UNKNOWN | typeof LF_ENDED | typeof CRLF_ENDED | typeof CR_ENDED;

/** Tokenizes a CSV byte stream: {@link push} each chunk, then {@link end}. */
export class CsvTokenizer {
  private readonly maxRecordBytes: number;
  private readonly sink: CsvSink;

  /** Bytes held back: up to two at the start (a BOM is three), else the look-ahead the next byte needs. */
  private pending: Buffer | undefined;
  /** Offset in the file of the first byte of the buffer being read (csv-parse's `bufBytesStart`). */
  private base = 0;
  private started = false;
  private ended = false;

  /** Bytes per code unit: 1 (UTF-8), or 2 after a UTF-16LE BOM, where csv-parse matches two-byte tokens. */
  private width: 1 | 2 = 1;
  private encoding: BufferEncoding = "utf8";
  /** Bytes past the current one a decision may read: a closing quote then CRLF. */
  private lookahead = 2;

  private delimiter: Buffer | undefined;
  private delimiterKind: DelimiterKind = UNKNOWN;

  /** csv-parse's `info.lines`; a CR or LF byte counts when the next byte is read (`wasRowDelimiter`). */
  private lines = 1;
  private lineBreakPending = false;

  private quoting = false;
  private wasQuoting = false;
  private escaping = false;
  private field = Buffer.allocUnsafe(256);
  /** Bytes of the current field; counted but not kept once the record is skipped. */
  private fieldLength = 0;
  private record: string[] = [];
  /** Decoded length (UTF-16 units) of the record's finished cells: what csv-parse adds up against the limit. */
  private recordLength = 0;
  /** The current record went over the limit: it is reported once and read to its end without keeping it. */
  private recordSkipped = false;
  /** Cells of a skipped record, which matter only as "the record is not empty". */
  private skippedCells = 0;

  constructor(opts: CsvTokenizerOptions, sink: CsvSink) {
    this.maxRecordBytes = opts.maxRecordBytes;
    this.sink = sink;
  }

  /** Reads one chunk; records complete in it go to the sink before this returns. */
  push(chunk: Buffer): void {
    if (this.ended) throw new Error("CsvTokenizer: push after end");
    let buf = this.pending === undefined || this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    this.pending = undefined;
    if (!this.started) {
      // csv-parse looks for a BOM once it has three bytes (or at the end, never with fewer).
      if (buf.length < 3) {
        this.pending = Buffer.from(buf); // a copy: the caller may reuse its chunk
        return;
      }
      buf = this.skipBom(buf);
    }
    const pos = this.scan(buf, false);
    // A copy: holding a subarray would keep the whole chunk alive for a few bytes.
    if (pos < buf.length) this.pending = Buffer.from(buf.subarray(pos));
    this.base += pos;
  }

  /** Reads what is left: the last record even without a line break, or the skip of an unclosed quote. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    const buf = this.pending ?? Buffer.alloc(0);
    this.pending = undefined;
    this.started = true;
    this.scan(buf, true);
    if (this.quoting) {
      // csv-parse: CSV_QUOTE_NOT_CLOSED, on the line reached; the open record is dropped.
      if (!this.recordSkipped) this.sink.skip(this.lines);
    } else if (this.wasQuoting || this.record.length !== 0 || this.fieldLength !== 0 || this.skippedCells !== 0) {
      this.endField();
      this.endRecord(this.base + buf.length);
    }
  }

  /** Skips a UTF-8 BOM, or a UTF-16LE one and switches to two-byte tokens, as csv-parse does. */
  private skipBom(buf: Buffer): Buffer {
    this.started = true;
    if (buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) {
      this.base = 3;
      return buf.subarray(3);
    }
    if (buf[0] === 0xff && buf[1] === 0xfe) {
      this.base = 2;
      this.width = 2;
      this.encoding = "utf16le";
      this.lookahead = 5; // a closing quote (2 bytes) then CRLF (4)
      return buf.subarray(2);
    }
    return buf;
  }

  /** Reads `buf` as far as it can; returns where it stopped (only look-ahead is left, unless `end`). */
  private scan(buf: Buffer, end: boolean): number {
    const len = buf.length;
    // ASCII lets the fast path decode as Latin-1, which V8 does fastest; the check is one SIMD pass.
    const ascii = this.width === 1 && isAscii(buf);
    // Next quote, CR and LF at or after `pos` (len: none left); -1: not searched yet.
    let quoteAt = -1;
    let crAt = -1;
    let lfAt = -1;
    let pos = 0;
    while (pos < len) {
      if (this.isIdle()) {
        // Fast path: whole lines from a record's start, while they hold no CR or LF but their
        // delimiter and their quotes wrap whole cells. The next quote, CR and LF are remembered, so
        // no byte is scanned twice.
        const max = this.maxRecordBytes;
        const kind = this.delimiterKind;
        for (;;) {
          if (quoteAt < pos) quoteAt = indexOrEnd(buf, QUOTE, pos);
          let lineEnd: number; // first byte of the record delimiter
          let next: number; // first byte after it
          if (kind === LF_ENDED) {
            if (lfAt < pos) lfAt = indexOrEnd(buf, LF, pos);
            if (crAt < pos) crAt = indexOrEnd(buf, CR, pos);
            lineEnd = lfAt;
            next = lineEnd + 1;
            if (lineEnd === len || crAt < lineEnd) break;
          } else if (kind === CRLF_ENDED) {
            if (lfAt < pos) lfAt = indexOrEnd(buf, LF, pos);
            if (crAt < pos) crAt = indexOrEnd(buf, CR, pos);
            lineEnd = lfAt - 1;
            next = lfAt + 1;
            // A lone CR or LF inside the line is text (and a line count) to csv-parse: the slow path's.
            if (lfAt === len || crAt !== lineEnd) break;
          } else {
            if (crAt < pos) crAt = indexOrEnd(buf, CR, pos);
            if (lfAt < pos) lfAt = indexOrEnd(buf, LF, pos);
            lineEnd = crAt;
            next = lineEnd + 1;
            if (lineEnd === len || lfAt < lineEnd) break;
          }
          // Within the limit nothing can trip it (a cell's decoded length is at most its bytes); over
          // it, the slow path finds the byte where csv-parse gives up.
          if (max !== 0 && lineEnd - pos > max) break;
          let cells: string[] | undefined;
          if (lineEnd !== pos) {
            // One decode per line: commas and quotes are ASCII, so cutting the text is cutting the bytes.
            const text = ascii ? buf.toString("latin1", pos, lineEnd) : buf.toString("utf8", pos, lineEnd);
            cells = quoteAt >= lineEnd ? text.split(",") : quotedCells(text);
            if (cells === undefined) break;
          }
          // The delimiter's first byte is a CR or LF: a line to count when the next byte is read.
          if (this.lineBreakPending) this.lines++;
          this.lineBreakPending = true;
          if (cells !== undefined) this.sink.record(cells, this.lines, this.base + next);
          pos = next;
        }
      }
      const next = this.slow(buf, pos, end);
      if (next === pos) break;
      pos = next;
    }
    return pos;
  }

  /** Between records, with the record delimiter known, in UTF-8: where the fast path may read. */
  private isIdle(): boolean {
    return (
      this.delimiterKind !== UNKNOWN &&
      this.width === 1 &&
      !this.quoting &&
      !this.wasQuoting &&
      this.fieldLength === 0 &&
      this.record.length === 0 &&
      !this.recordSkipped
    );
  }

  /**
   * csv-parse's parse loop, byte by byte, for this dialect; returns after one record (or where the
   * look-ahead runs out). What it keeps of csv-parse, surprising as some of it is:
   * - the record delimiter is the first CRLF, LF or CR seen outside quotes (or right after a closing
   *   quote); from then on the other two are ordinary text, and each CR or LF byte read counts a line
   *   (inside quotes CRLF counts two);
   * - `""` inside quotes is one quote; a quote that opens a field only opens it when the field is
   *   empty, else it is text; a closing quote followed by anything but a comma, the record
   *   delimiter, a NUL byte or the end ends the quoting but keeps the quotes: `"a"b` reads `"a"b`;
   * - a line is empty (and skipped) only if nothing was read in it, `""` included;
   * - the size limit is checked before each byte that goes into a cell.
   */
  private slow(buf: Buffer, start: number, end: boolean): number {
    const len = buf.length;
    const width = this.width;
    const stop = end ? len : len - this.lookahead;
    const max = this.maxRecordBytes;
    let pos = start;
    for (; pos < stop; pos++) {
      if (this.lineBreakPending) {
        this.lines++;
        this.lineBreakPending = false;
      }
      if (!this.quoting && this.delimiter === undefined) this.discoverDelimiter(buf, pos);
      const chr = buf[pos]!;
      if (chr === CR || chr === LF) this.lineBreakPending = true;
      if (this.escaping) {
        this.escaping = false; // the second quote of "": text
      } else {
        if (this.quoting && chr === QUOTE && this.isToken(buf, pos, QUOTE) && pos + width < len && this.isToken(buf, pos + width, QUOTE)) {
          this.escaping = true;
          pos += width - 1;
          continue;
        }
        if (chr === QUOTE && this.isToken(buf, pos, QUOTE)) {
          if (this.quoting) {
            const after = pos + width;
            const nextChr = buf[after];
            const isComma = this.isToken(buf, after, COMMA);
            // Evaluated even when a comma follows, as csv-parse does: it may discover the delimiter.
            const isRecordEnd = this.delimiter === undefined ? this.discoverDelimiter(buf, after) !== 0 : this.delimiterAt(nextChr, buf, after) !== 0;
            this.quoting = false;
            this.wasQuoting = true;
            pos += width - 1;
            if (nextChr === undefined || nextChr === 0 || isComma || isRecordEnd) continue;
            // relax_quotes: not a closing quote after all; the opening one goes back in front.
            this.prependQuote();
            // csv-parse goes on with this byte as text (in UTF-16, with `pos` already on the quote's second byte).
          } else if (this.fieldLength === 0) {
            this.quoting = true;
            pos += width - 1;
            continue;
          }
          // else relax_quotes: a quote inside an unquoted cell is text.
        }
        if (!this.quoting) {
          const delimiterLength = this.delimiterAt(chr, buf, pos);
          if (delimiterLength !== 0) {
            if (!this.wasQuoting && this.record.length === 0 && this.fieldLength === 0 && this.skippedCells === 0) {
              pos += delimiterLength - 1; // skip_empty_lines
              continue;
            }
            this.endField();
            this.endRecord(this.base + pos + delimiterLength);
            return pos + delimiterLength;
          }
          if (chr === COMMA && this.isToken(buf, pos, COMMA)) {
            this.endField();
            pos += width - 1;
            continue;
          }
        }
      }
      if (max !== 0 && !this.recordSkipped && this.recordLength + this.fieldLength > max) {
        this.recordSkipped = true;
        this.sink.skip(this.lines);
      }
      this.appendByte(chr);
    }
    return pos;
  }

  /** A one-byte token (quote, comma), which in UTF-16 is that byte then a zero byte. */
  private isToken(buf: Buffer, pos: number, byte: number): boolean {
    return buf[pos] === byte && (this.width === 1 || buf[pos + 1] === 0);
  }

  /** Length of the record delimiter at `pos` (its first byte given as `first`, as csv-parse does), or 0. */
  private delimiterAt(first: number | undefined, buf: Buffer, pos: number): number {
    const delimiter = this.delimiter;
    if (delimiter === undefined || delimiter[0] !== first) return 0;
    for (let i = 1; i < delimiter.length; i++) if (buf[pos + i] !== delimiter[i]) return 0;
    return delimiter.length;
  }

  /** csv-parse's record delimiter discovery at `pos`; returns the length found, or 0. */
  private discoverDelimiter(buf: Buffer, pos: number): number {
    const candidates = RECORD_DELIMITERS[this.width];
    next: for (let index = 0; index < candidates.length; index++) {
      const candidate = candidates[index]!;
      for (let i = 0; i < candidate.length; i++) if (buf[pos + i] !== candidate[i]) continue next;
      this.delimiter = candidate;
      if (this.width === 1) this.delimiterKind = ([CRLF_ENDED, LF_ENDED, CR_ENDED] as const)[index]!;
      return candidate.length;
    }
    return 0;
  }

  private appendByte(byte: number): void {
    if (!this.recordSkipped) {
      if (this.fieldLength === this.field.length) this.growField();
      this.field[this.fieldLength] = byte;
    }
    this.fieldLength++;
  }

  /** relax_quotes puts the opening quote back in front of the cell's text. */
  private prependQuote(): void {
    const width = this.width;
    if (!this.recordSkipped) {
      while (this.fieldLength + width > this.field.length) this.growField();
      this.field.copyWithin(width, 0, this.fieldLength);
      this.field[0] = QUOTE;
      if (width === 2) this.field[1] = 0;
    }
    this.fieldLength += width;
  }

  private growField(): void {
    const grown = Buffer.allocUnsafe(this.field.length * 2);
    this.field.copy(grown, 0, 0, this.fieldLength);
    this.field = grown;
  }

  private endField(): void {
    if (this.recordSkipped) this.skippedCells++;
    else {
      const text = this.fieldLength === 0 ? "" : this.field.toString(this.encoding, 0, this.fieldLength);
      this.record.push(text);
      this.recordLength += text.length;
    }
    this.fieldLength = 0;
    this.wasQuoting = false;
  }

  private endRecord(bytes: number): void {
    if (this.recordSkipped) {
      this.recordSkipped = false;
      this.skippedCells = 0;
      this.record.length = 0;
    } else {
      this.sink.record(this.record, this.lines, bytes);
      this.record = [];
    }
    this.recordLength = 0;
  }
}

/**
 * The cells of a line (without CR or LF) whose quotes all wrap whole cells, as in `"a",b,"c"`;
 * undefined for anything else — a `""` escape, text after a closing quote, a quote left open —
 * which the slow path reads. A cell that does not start with a quote ends at the next comma: a
 * quote inside it is text (relax_quotes).
 */
function quotedCells(text: string): string[] | undefined {
  const cells: string[] = [];
  const end = text.length;
  let pos = 0;
  for (;;) {
    if (pos < end && text.charCodeAt(pos) === QUOTE) {
      const close = text.indexOf('"', pos + 1);
      if (close < 0) return undefined;
      cells.push(text.slice(pos + 1, close));
      if (close + 1 === end) return cells;
      if (text.charCodeAt(close + 1) !== COMMA) return undefined;
      pos = close + 2;
    } else {
      let comma = text.indexOf(",", pos);
      if (comma < 0) comma = end;
      cells.push(text.slice(pos, comma));
      if (comma === end) return cells;
      pos = comma + 1;
    }
  }
}

/** `buf.indexOf(byte, from)`, with the buffer's length for "none". */
function indexOrEnd(buf: Buffer, byte: number, from: number): number {
  const at = buf.indexOf(byte, from);
  return at < 0 ? buf.length : at;
}
