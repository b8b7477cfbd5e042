/**
 * The import CSV tokenizer against csv-parse, its oracle: the same records (cells, line, bytes)
 * and the same skipped records, in the same order, however the input is cut into chunks.
 *
 * csv-parse runs with the options the importer used to give it, fed the whole file in one write.
 * Where it meets a record over `max_record_size` it stops reading (its loop returns and drops the
 * rest of the chunk); the tokenizer skips that record and reads on. So the oracle there is csv-parse
 * up to that skip, then csv-parse restarted right after the oversized record (found by a run
 * without the limit) with the state it had: the record delimiter, the encoding, the line and byte
 * counts.
 */
import { once } from "node:events";
import { expect } from "chai";
import { Parser } from "csv-parse";
import fc from "fast-check";
import { CsvTokenizer } from "../../node/store/import/csv.ts";
import { generateCsv } from "../fixtures/riskList.ts";

type CsvEvent =
  | { readonly line: number; readonly bytes: number; readonly cells: readonly string[] }
  | { readonly line: number; readonly skipped: true };

interface CsvParseRun {
  readonly events: CsvEvent[];
  /** Index in `events` of the first record skipped for its size, or -1. */
  readonly sizeSkipAt: number;
  readonly recordDelimiter: Buffer | undefined;
  readonly encoding: BufferEncoding;
}

/** Where csv-parse is restarted after an oversized record: what it had found before. */
interface Resume {
  readonly recordDelimiter: Buffer | undefined;
  readonly encoding: BufferEncoding;
}

/** The importer's csv-parse options (as sources.ts had them), with `on_record` and `on_skip` logging in file order. */
async function csvParse(input: Buffer, maxRecordBytes: number, resume?: Resume): Promise<CsvParseRun> {
  const events: CsvEvent[] = [];
  let sizeSkipAt = -1;
  const parser = new Parser({
    bom: resume === undefined,
    relax_column_count: true,
    relax_quotes: true,
    skip_empty_lines: true,
    skip_records_with_error: true,
    max_record_size: maxRecordBytes,
    ...(resume === undefined ? {} : { encoding: resume.encoding, ...(resume.recordDelimiter === undefined ? {} : { record_delimiter: resume.recordDelimiter }) }),
    // Both callbacks run inside csv-parse's loop: one array keeps records and skips in order.
    on_record: (cells: string[], context) => {
      events.push({ line: context.lines, bytes: context.bytes, cells });
      return null;
    },
    on_skip: (err) => {
      if (err?.code === "CSV_MAX_RECORD_SIZE" && sizeSkipAt < 0) sizeSkipAt = events.length;
      events.push({ line: Number(err?.lines), skipped: true });
      return undefined;
    },
  });
  parser.resume();
  const ended = once(parser, "end");
  parser.end(input);
  await ended;
  return { events, sizeSkipAt, recordDelimiter: parser.options.record_delimiter[0], encoding: parser.options.encoding ?? "utf8" };
}

function shifted(event: CsvEvent, lines: number, bytes: number): CsvEvent {
  return "skipped" in event ? { line: event.line + lines, skipped: true } : { line: event.line + lines, bytes: event.bytes + bytes, cells: event.cells };
}

/** What csv-parse reads, going on after each oversized record as the tokenizer does (see the file's comment). */
async function expectedEvents(input: Buffer, maxRecordBytes: number): Promise<CsvEvent[]> {
  const events: CsvEvent[] = [];
  let rest = input;
  let lines = 0;
  let bytes = 0;
  let resume: Resume | undefined;
  for (;;) {
    const limited = await csvParse(rest, maxRecordBytes, resume);
    if (limited.sizeSkipAt < 0) return [...events, ...limited.events.map((e) => shifted(e, lines, bytes))];
    events.push(...limited.events.slice(0, limited.sizeSkipAt + 1).map((e) => shifted(e, lines, bytes)));
    const unlimited = await csvParse(rest, 0, resume);
    expect(unlimited.events.slice(0, limited.sizeSkipAt), "csv-parse without the limit, before the oversized record").to.deep.equal(limited.events.slice(0, limited.sizeSkipAt));
    const oversized = unlimited.events[limited.sizeSkipAt];
    // The oversized record runs to the end of the file (or its quote never closes): nothing follows.
    if (oversized === undefined || "skipped" in oversized || oversized.bytes >= rest.length) return events;
    resume = { recordDelimiter: unlimited.recordDelimiter, encoding: unlimited.encoding };
    lines += oversized.line;
    bytes += oversized.bytes;
    rest = rest.subarray(oversized.bytes);
  }
}

/** The tokenizer's events for `input` pushed in chunks of the given sizes, in turn (the last size repeats). */
function tokenize(input: Buffer, chunkSizes: readonly number[], maxRecordBytes: number): CsvEvent[] {
  const events: CsvEvent[] = [];
  const tokenizer = new CsvTokenizer(
    { maxRecordBytes },
    {
      record: (cells, line, bytes) => events.push({ line, bytes, cells }),
      skip: (line) => events.push({ line, skipped: true }),
    },
  );
  let at = 0;
  for (let i = 0; at < input.length; i++) {
    const size = chunkSizes[Math.min(i, chunkSizes.length - 1)]!;
    tokenizer.push(input.subarray(at, at + size));
    at += size;
  }
  tokenizer.end();
  return events;
}

/** Describes a chunking in a failure message. */
function chunkingName(sizes: readonly number[]): string {
  return sizes.length === 1 ? `chunks of ${sizes[0]} bytes` : `chunks of ${sizes.join(",")}… bytes`;
}

/** Asserts the tokenizer reads `input` as csv-parse does, whole, byte by byte and in the given chunkings. */
async function expectSameAsCsvParse(input: Buffer, maxRecordBytes: number, chunkings: ReadonlyArray<readonly number[]> = []): Promise<CsvEvent[]> {
  const expected = await expectedEvents(input, maxRecordBytes);
  for (const sizes of [[Math.max(1, input.length)], [1], ...chunkings]) {
    expect(tokenize(input, sizes, maxRecordBytes), `${JSON.stringify(input.toString("latin1"))}, limit ${maxRecordBytes}, ${chunkingName(sizes)}`).to.deep.equal(expected);
  }
  return expected;
}

const utf8 = (text: string): Buffer => Buffer.from(text, "utf8");
const utf16 = (text: string): Buffer => Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, "utf16le")]);
const record = (line: number, bytes: number, ...cells: string[]): CsvEvent => ({ line, bytes, cells });
const skipped = (line: number): CsvEvent => ({ line, skipped: true });

describe("CSV tokenizer", () => {
  describe("reads as csv-parse 7 does (bom, relax_column_count, relax_quotes, skip_empty_lines, skip_records_with_error, max_record_size)", () => {
    const cases: Array<[name: string, input: Buffer, maxRecordBytes: number, expected: CsvEvent[]]> = [
      ["LF records: the line each ends on, the bytes through its delimiter", utf8("a,b\nc,d\n"), 0, [record(1, 4, "a", "b"), record(2, 8, "c", "d")]],
      ["a last record without a line break, ending at the end of the file", utf8("a,b\nc,d"), 0, [record(1, 4, "a", "b"), record(2, 7, "c", "d")]],
      ["records of different lengths, all kept (relax_column_count)", utf8("a\nb,c,d\n,\n"), 0, [record(1, 2, "a"), record(2, 8, "b", "c", "d"), record(3, 10, "", "")]],
      ["a UTF-8 BOM, skipped but counted in bytes", utf8("\ufeffa,b\n"), 0, [record(1, 7, "a", "b")]],
      ["a BOM after the start, kept as text", utf8("a\n\ufeffb\n"), 0, [record(1, 2, "a"), record(2, 7, "\ufeffb")]],
      ["CRLF records", utf8("a,b\r\nc\r\n"), 0, [record(1, 5, "a", "b"), record(2, 8, "c")]],
      ["CR records", utf8("a\rb\r"), 0, [record(1, 2, "a"), record(2, 4, "b")]],
      ["the first line break fixes the delimiter: LF in a CRLF file is text, and a line", utf8("a\r\nb\nc\r\n"), 0, [record(1, 3, "a"), record(3, 8, "b\nc")]],
      ["CR before LF in an LF file is text", utf8("a\nb\r\n"), 0, [record(1, 2, "a"), record(3, 5, "b\r")]],
      ["LF in a CR file is text, even alone at the end", utf8("a\rb\nc\r\n"), 0, [record(1, 2, "a"), record(3, 6, "b\nc"), record(4, 7, "\n")]],
      ["empty lines skipped, still counted", utf8("\n\na\n\n\nb\n"), 0, [record(3, 4, "a"), record(6, 8, "b")]],
      ["a line of spaces or of an empty quoted cell is a record", utf8(' \n""\n'), 0, [record(1, 2, " "), record(2, 5, "")]],
      ["quoted cells: \"\" is a quote, commas and line breaks are text, and each CR or LF counts a line", utf8('"a""b","c\nd"\n"e\r\nf"\n'), 0, [record(2, 13, 'a"b', "c\nd"), record(5, 20, "e\r\nf")]],
      ["a quote inside an unquoted cell is text (relax_quotes)", utf8('a"b,c"\n'), 0, [record(1, 7, 'a"b', 'c"')]],
      ["text after a closing quote keeps the quotes, with \"\" already made one", utf8('"ab"c,d\n"a""b"c\n'), 0, [record(1, 8, '"ab"c', "d"), record(2, 16, '"a"b"c')]],
      ["a NUL byte after a closing quote closes it", utf8('"ab"\0c\n'), 0, [record(1, 7, "ab\0c")]],
      ["a quote left open to the end of the file: skipped, on the last line reached", utf8('a\n"b\nc\n'), 0, [record(1, 2, "a"), skipped(3)]],
      ["a record over the limit: skipped on the line where csv-parse finds it, then reading goes on", utf8("a,b\n0123456789abc,d\ne,f\n"), 10, [record(1, 4, "a", "b"), skipped(2), record(3, 24, "e", "f")]],
      ["the limit is checked before each byte of a cell: one byte over is read", utf8("abcd\nabcde\nx\n"), 3, [record(1, 5, "abcd"), skipped(2), record(3, 13, "x")]],
      ["finished cells count by decoded length, the current one by bytes", utf8("éé,abc\nab,éé\nab,ééx\n"), 5, [record(1, 9, "éé", "abc"), record(2, 17, "ab", "éé"), skipped(3)]],
      ["an oversized record is read to its end, through quoted line breaks", utf8('a\n"0123456789\nx",y\nz\n'), 5, [record(1, 2, "a"), skipped(2), record(4, 21, "z")]],
      ["an oversized record with a quote left open: one skip", utf8('a\n"0123456789\nx\n'), 5, [record(1, 2, "a"), skipped(2)]],
      ["multi-byte characters, whatever the chunks", utf8("号,😀\né\n"), 0, [record(1, 9, "号", "😀"), record(2, 12, "é")]],
      ["invalid UTF-8 decoded per cell, as csv-parse does", Buffer.from([0x61, 0xc3, 0x2c, 0xff, 0x0a]), 0, [record(1, 5, "a\ufffd", "\ufffd")]],
      ["a UTF-16LE BOM: two-byte tokens, bytes counted as read", utf16("a,b\r\nc\r\n"), 0, [record(1, 12, "a", "b"), record(2, 18, "c")]],
      ["an empty file", utf8(""), 0, []],
      ["a BOM only", utf8("\ufeff"), 0, []],
      ["line breaks only", utf8("\r\n\r\n"), 0, []],
      ["fewer bytes than a BOM", Buffer.from([0xef, 0xbb]), 0, [record(1, 2, "\ufffd")]],
    ];
    for (const [name, input, maxRecordBytes, expected] of cases) {
      it(name, async () => {
        // Every cut into two chunks as well: each byte boundary in turn falls between chunks.
        const cuts = Array.from({ length: Math.max(0, input.length - 1) }, (_, i) => [i + 1, input.length]);
        const events = await expectSameAsCsvParse(input, maxRecordBytes, cuts);
        expect(events, "csv-parse").to.deep.equal(expected);
      });
    }

    it("a generated risk list of 5,000 rows, in the importer's 256 KiB chunks and in odd ones", async () => {
      const input = utf8(generateCsv({ rows: 5_000, badEvery: 37, repeatEvery: 11, expiringEvery: 4 }));
      const events = await expectSameAsCsvParse(input, 64 * 1024, [[256 * 1024], [4093, 1, 7, 65_537]]);
      expect(events.length, "records").to.equal(5_001);
    });

    it("throws when pushed to after the end", () => {
      const tokenizer = new CsvTokenizer({ maxRecordBytes: 0 }, { record: () => {}, skip: () => {} });
      tokenizer.end();
      expect(() => tokenizer.push(utf8("a\n"))).to.throw(/after end/);
    });
  });

  describe("reads random input as csv-parse does, in random chunks", () => {
    /** Chunk sizes: small ones cut through multi-byte characters and every look-ahead. */
    const chunkSizes = fc.oneof(fc.array(fc.integer({ min: 1, max: 8 }), { minLength: 1, maxLength: 30 }), fc.array(fc.integer({ min: 1, max: 200 }), { minLength: 1, maxLength: 5 }));
    /** No limit, a small one that many records cross, and the importer's. */
    const limit = fc.oneof({ weight: 2, arbitrary: fc.constant(0) }, { weight: 3, arbitrary: fc.integer({ min: 1, max: 60 }) }, { weight: 1, arbitrary: fc.constant(64 * 1024) });

    const noisyToken = fc.oneof(
      { weight: 20, arbitrary: fc.constantFrom("a", "b", "x", "Q", "abc").map(utf8) },
      { weight: 8, arbitrary: fc.constantFrom("0", "7", "42").map(utf8) },
      { weight: 12, arbitrary: fc.constant(utf8(",")) },
      { weight: 8, arbitrary: fc.constant(utf8('"')) },
      { weight: 8, arbitrary: fc.constant(utf8("\n")) },
      { weight: 3, arbitrary: fc.constant(utf8("\r")) },
      { weight: 4, arbitrary: fc.constant(utf8("\r\n")) },
      { weight: 3, arbitrary: fc.constant(utf8(" ")) },
      { weight: 3, arbitrary: fc.constantFrom("é", "号", "😀", "\ufeff").map(utf8) },
      { weight: 2, arbitrary: fc.constantFrom(0x00, 0xff, 0xc3, 0x80, 0xe5).map((byte) => Buffer.from([byte])) },
      { weight: 1, arbitrary: fc.integer({ min: 10, max: 90 }).map((n) => utf8("y".repeat(n))) },
    );
    const noisyFile = fc
      .tuple(fc.oneof({ weight: 4, arbitrary: fc.constant("") }, { weight: 1, arbitrary: fc.constant("\ufeff") }), fc.array(noisyToken, { maxLength: 100 }))
      .map(([bom, tokens]) => Buffer.concat([utf8(bom), ...tokens]));

    it("3,000 files of CSV-ish noise: quotes, CR, LF, CRLF, multi-byte and invalid bytes, a BOM sometimes", async () => {
      await fc.assert(
        fc.asyncProperty(noisyFile, limit, chunkSizes, async (input, maxRecordBytes, sizes) => {
          await expectSameAsCsvParse(input, maxRecordBytes, [sizes]);
        }),
        { numRuns: 3_000 },
      );
    });

    const word = fc.string({ unit: fc.constantFrom("a", "z", "0", "9", " ", "-", "é", "号", "😀"), maxLength: 12 });
    const cell = fc.oneof(
      { weight: 10, arbitrary: word },
      { weight: 4, arbitrary: word.map((text) => `"${text}"`) },
      { weight: 2, arbitrary: fc.string({ unit: fc.constantFrom("a", ",", '""', "\n", "\r\n", "é"), maxLength: 8 }).map((text) => `"${text}"`) },
      { weight: 1, arbitrary: fc.constantFrom('a"b', '"a"b', '"a', '"', '"a"\0', "a\rb", "a\nb") },
      { weight: 1, arbitrary: fc.integer({ min: 20, max: 120 }).map((n) => "L".repeat(n)) },
    );
    const row = fc.array(cell, { minLength: 1, maxLength: 8 }).map((cells) => cells.join(","));
    /** Rows with one line ending (another now and then), empty lines, with or without a final line break. */
    const rowsFile = fc
      .record({
        bom: fc.boolean(),
        ending: fc.constantFrom("\n", "\r\n", "\r"),
        rows: fc.array(fc.tuple(row, fc.oneof({ weight: 12, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.constantFrom("empty line", "\n", "\r\n", "\r") })), { maxLength: 30 }),
        finalBreak: fc.boolean(),
      })
      .map(({ bom, ending, rows, finalBreak }) => {
        const text = rows.map(([cells, other]) => (other === "empty line" ? `${ending}${cells}${ending}` : `${cells}${other ?? ending}`)).join("");
        return utf8(`${bom ? "\ufeff" : ""}${finalBreak || !text.endsWith(ending) ? text : text.slice(0, -ending.length)}`);
      });

    it("1,500 files of rows: plain, quoted and escaped cells, each line ending, empty lines, long cells", async () => {
      await fc.assert(
        fc.asyncProperty(rowsFile, limit, chunkSizes, async (input, maxRecordBytes, sizes) => {
          await expectSameAsCsvParse(input, maxRecordBytes, [sizes]);
        }),
        { numRuns: 1_500 },
      );
    });

    // Characters whose UTF-16 bytes look like tokens: č (0D 01), Ā (00 01), ∀ (00 22), Ⰰ (00 2C).
    const utf16Token = fc.oneof(
      { weight: 10, arbitrary: fc.constantFrom("a", "7", "abc") },
      { weight: 6, arbitrary: fc.constantFrom(",", '"', "\n", "\r\n", "\r") },
      { weight: 3, arbitrary: fc.constantFrom("é", "č", "Ā", "∀", "Ⰰ", "😀") },
    );
    it("500 UTF-16LE files (after their BOM csv-parse matches two-byte tokens byte by byte)", async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(utf16Token, { maxLength: 60 }), limit, chunkSizes, async (tokens, maxRecordBytes, sizes) => {
          await expectSameAsCsvParse(utf16(tokens.join("")), maxRecordBytes, [sizes]);
        }),
        { numRuns: 500 },
      );
    });
  });
});
