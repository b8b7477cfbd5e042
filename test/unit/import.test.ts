import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough, Readable } from "node:stream";
import { expect } from "chai";
import { isRiskshareError } from "../../node/errors.ts";
import { normalise, type EntryKeyEvaluator } from "../../node/identity/index.ts";
import { silentLogger } from "../../node/logger.ts";
import {
  IMPORT_DEFAULTS,
  Store,
  createProgressReporter,
  exportEntries,
  formatFromName,
  importList,
  parseLevel,
  parseTimestampSec,
  type ImportOptions,
  type ImportProgress,
  type ImportSource,
  type ImportSummary,
} from "../../node/store/index.ts";
import { EntryPacker, packKeys, unpackEntries } from "../../node/store/import/convert.ts";
import { CSV_HEADER, FIXTURE_CATEGORIES, fixtureEvaluator, FIXTURE_BINDING, fixtureValue, generateCsv } from "../fixtures/riskList.ts";

const NOW = 1_750_000_000;
const logger = silentLogger();
let evaluator: EntryKeyEvaluator;
before(async () => {
  evaluator = await fixtureEvaluator();
});

async function collectText(iterable: AsyncIterable<string>): Promise<string> {
  let text = "";
  for await (const chunk of iterable) text += chunk;
  return text;
}

describe("import field parsers", () => {
  const timestamps: Array<[string | number | null, number | string]> = [
    ["1714521600", 1714521600],
    [1714521600, 1714521600],
    [" 1714521600 ", 1714521600],
    ["2024-05-01", 1714521600], // date only: midnight UTC
    ["2024-05-01T00:00:00Z", 1714521600],
    ["2024-05-01T08:00:00+08:00", 1714521600],
    ["2024-05-01T08:00+0800", 1714521600],
    ["2024-04-30T19:00:00-05:00", 1714521600],
    ["2024-05-01 00:00:00", 1714521600], // no offset: UTC
    ["2024-05-01T00:00:00.999Z", 1714521600], // fractions dropped
    ["2024-02-29", 1709164800],
    ["1714521600000", "bad_date"], // milliseconds are refused, not guessed
    ["2023-02-29", "bad_date"],
    ["2024-13-01", "bad_date"],
    ["2024-05-01T24:00:00Z", "bad_date"],
    ["2024-05-01T08:00:00+15:00", "bad_date"],
    ["01/05/2024", "bad_date"],
    ["yesterday", "bad_date"],
    [1714521600.5, "not_integer"],
    [-1, "bad_date"],
    ["", "missing"],
    [null, "missing"],
  ];
  for (const [cell, expected] of timestamps) {
    it(`reads timestamp ${JSON.stringify(cell)} as ${expected}`, () => {
      expect(parseTimestampSec(cell)).to.deep.equal(typeof expected === "number" ? { ok: true, value: expected } : { ok: false, reason: expected });
    });
  }

  const levels: Array<[string | number, number | string]> = [["1", 1], [" 5 ", 5], [3, 3], ["0", "out_of_range"], ["6", "out_of_range"], ["3.5", "not_integer"], [2.5, "not_integer"], ["high", "not_integer"], ["", "missing"]];
  for (const [cell, expected] of levels) {
    it(`reads level ${JSON.stringify(cell)} as ${expected}`, () => {
      expect(parseLevel(cell)).to.deep.equal(typeof expected === "number" ? { ok: true, value: expected } : { ok: false, reason: expected });
    });
  }

  it("picks the format from the file name", () => {
    expect(["a.csv", "a.jsonl", "a.NDJSON", "a.txt"].map(formatFromName)).to.deep.equal(["csv", "jsonl", "jsonl", "csv"]);
  });
});

describe("import worker transfer", () => {
  it("carries every entry field back unchanged, with the keys the evaluator gives, expiry and reference absent or present", () => {
    const entries = [
      { type: "phone", normalised: "+8613800138000", categoryId: 1, level: 3, reason: "R01", reportedAtSec: 1_714_521_600, expiresAtSec: undefined, ownRef: undefined },
      { type: "email", normalised: "a@mail.example.cn", categoryId: 63, level: 5, reason: "R.x:y-z", reportedAtSec: 0, expiresAtSec: 99_999_999_999, ownRef: "号码-😀" },
    ] as const;
    const packer = new EntryPacker(4);
    for (const entry of entries) packer.add(entry);
    const packed = structuredClone(packer.take());
    packed.keys = packKeys(packed.types, packed.values, (type, value) => evaluator.keysOf(type, value));
    const back = unpackEntries(packed);
    const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
    expect(back.map((e) => ({ ...e, entryId: hex(e.entryId), tag: hex(e.tag), metadataKey: hex(e.metadataKey) }))).to.deep.equal(entries.map(({ normalised, ...e }) => {
      const keys = evaluator.keysOf(e.type, normalised);
      return { ...e, entryId: hex(keys.entryId), tag: hex(keys.tag), metadataKey: hex(keys.metadataKey) };
    }));
    expect(() => unpackEntries(structuredClone(packer.take())), "not keyed yet").to.throw(RangeError);
    expect(unpackEntries({ ...new EntryPacker(4).take(), keys: new Uint8Array(0) })).to.deep.equal([]);
    expect(() => packer.add(entries[0]), "up to capacity").to.not.throw();
    packer.add(entries[0]);
    expect(() => packer.add(entries[0])).to.throw(RangeError);
  });
});

describe("import", () => {
  let root: string;
  let created = 0;
  const opened: Store[] = [];

  async function freshStore(): Promise<Store> {
    const store = new Store({ location: join(root, `store-${created++}`), categories: FIXTURE_CATEGORIES, binding: FIXTURE_BINDING }, { logger });
    await store.open();
    opened.push(store);
    return store;
  }

  async function file(name: string, content: string): Promise<string> {
    const path = join(root, `${created++}-${name}`);
    await writeFile(path, content);
    return path;
  }

  function run(store: Store, source: ImportSource, opts: ImportOptions = {}): Promise<ImportSummary> {
    return importList(source, { nowSec: NOW, ...opts }, { store, evaluator, logger });
  }

  /** The store's full content (hashes and metadata), for comparing two stores. */
  async function dump(store: Store): Promise<string> {
    return collectText(exportEntries(store, { format: "jsonl", includeExpired: true, nowSec: NOW }));
  }

  before(async () => {
    root = await mkdtemp(join(tmpdir(), "riskshare-import-"));
  });
  afterEach(async () => {
    for (const store of opened.splice(0)) await store.close();
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it("imports valid rows and reports each bad one by line, field and reason — never by value", async () => {
    const store = await freshStore();
    const rows = [
      "phone,138 0013 8000,fraud_confirmed,3,R01,2024-05-01,,case-1", // line 2
      "national_id,110105194912310021,fraud_confirmed,3,R01,2024-05-01,,", // 3: check digit
      "bank_card,4111 1111 1111 1112,money_mule,2,R02,2024-05-01,,", // 4: Luhn
      "email,alice@mail.example.cn,no_such_category,3,R01,2024-05-01,,", // 5
      "email,bob@mail.example.cn,fraud_suspected,7,R01,2024-05-01,,", // 6: level
      "email,carol@mail.example.cn,fraud_suspected,3,R01,31/12/2024,,", // 7: date
      "passport,E1234567,fraud_suspected,3,R01,2024-05-01,,", // 8: type
      "email,dave@mail.example.cn,2,3,R01,2024-05-01,2099-01-01T00:00:00Z,", // 9: category by id
      "email,erin@mail.example.cn,fraud_suspected,3", // 10: too few cells
      "email,frank@mail.example.cn,fraud_suspected,3,R01,2024-05-01,2024-04-01,", // 11: expires before reported
      ",,,,,,,", // 12: empty row
      "device_id,dev-1,money_mule,1,R09,1714521600,,\"ticket, 42\"", // 13
    ];
    const summary = await run(store, { path: await file("list.csv", `${CSV_HEADER}\n${rows.join("\n")}\n`) });
    expect(summary).to.deep.include({ rows: 12, imported: 3, updated: 0, unchanged: 0, rejected: 9, errorsTotal: 9, format: "csv", source: summary.source });
    expect(summary.errors).to.deep.equal([
      { line: 3, field: "value", reason: "check_digit" },
      { line: 4, field: "value", reason: "check_digit" },
      { line: 5, field: "category", reason: "unknown_category" },
      { line: 6, field: "level", reason: "out_of_range" },
      { line: 7, field: "reported_at", reason: "bad_date" },
      { line: 8, field: "type", reason: "unknown_type" },
      { line: 10, field: "row", reason: "columns" },
      { line: 11, field: "expires_at", reason: "before_reported" },
      { line: 12, field: "type", reason: "missing" },
    ]);
    const text = JSON.stringify(summary);
    for (const raw of ["110105194912310021", "4111", "alice", "bob", "carol", "E1234567", "erin", "frank"]) expect(text, raw).not.to.contain(raw);
    expect(store.countPerCategory()).to.deep.equal(new Map([[1, 1], [2, 1], [3, 1]]));
    const [device] = await store.checkMany([{ type: "device_id", entryId: evaluator.keysOf("device_id", "dev-1").entryId }], NOW);
    expect(device).to.deep.include({ hit: true });
    if (device!.hit) expect(device!.entry).to.deep.include({ level: 1, reason: "R09", ownRef: "ticket, 42", reportedAtSec: 1714521600, addedAtSec: NOW });
  });

  it("takes type and category from defaults when the columns are left out", async () => {
    const store = await freshStore();
    const path = await file("phones.csv", "Value,Level,Reason,Reported_At\n138 0013 8000,3,R01,2024-05-01\n+86 139 0013 9000,4,R02,2024-05-02\n");
    const summary = await run(store, { path }, { defaultType: "phone", defaultCategory: "money_mule" });
    expect(summary).to.deep.include({ imported: 2, rejected: 0 });
    expect(store.countPerCategory()).to.deep.equal(new Map([[3, 2]]));
  });

  it("uses the defaults for blank type and category cells too", async () => {
    const store = await freshStore();
    const path = await file("mixed.csv", `${CSV_HEADER}\n,138 0013 8000,,3,R01,2024-05-01,,\nemail,a@mail.example.cn,fraud_confirmed,3,R01,2024-05-01,,\n`);
    const summary = await run(store, { path }, { defaultType: "phone", defaultCategory: "money_mule" });
    expect(summary).to.deep.include({ imported: 2, rejected: 0 });
    expect(store.countPerCategory()).to.deep.equal(new Map([[1, 1], [3, 1]]));
  });

  it("refuses a file whose header is wrong, before importing anything", async () => {
    const store = await freshStore();
    const cases: Array<[string, string]> = [
      ["type,value,category,level,reason,reported_at,colour\n", "column 7"],
      ["type,value,category,level,reason\n", "reported_at"],
      ["value,level,reason,reported_at\n", "type"],
      ["type,value,value,level,reason,reported_at,category\n", "twice"],
      ["", "empty"],
    ];
    for (const [content, mention] of cases) {
      for (const workers of [0, 1] as const) {
        let thrown: unknown;
        try {
          await run(store, { path: await file("bad.csv", content) }, { workers });
        } catch (err) {
          thrown = err;
        }
        expect(isRiskshareError(thrown, "E_IMPORT_FORMAT"), `${JSON.stringify(content)}, ${workers} workers`).to.equal(true);
        expect((thrown as Error).message, JSON.stringify(content)).to.contain(mention);
      }
    }
    expect(store.countPerCategory().size).to.equal(0);
  });

  it("refuses an unknown default type or category up front", async () => {
    const store = await freshStore();
    const path = await file("x.csv", `${CSV_HEADER}\n`);
    for (const [opts, code] of [[{ defaultType: "passport" }, "E_IDENTIFIER_TYPE"], [{ defaultCategory: "nope" }, "E_CATEGORY_UNKNOWN"]] as const) {
      let thrown: unknown;
      try {
        await run(store, { path }, opts);
      } catch (err) {
        thrown = err;
      }
      expect(isRiskshareError(thrown, code), code).to.equal(true);
    }
  });

  it("reads CSV with a BOM, CRLF line endings, any column order and quoted cells", async () => {
    const store = await freshStore();
    const content = "\ufeffREF,Type,Value,Category,Level,Reason,Reported_At,Expires_At\r\n\"a,\"\"b\"\"\",phone,138 0013 8000,fraud_confirmed,3,R01,2024-05-01,\r\n\r\nx,email,\"a@mail.example.cn\",fraud_confirmed,2,R01,2024-05-01,2099-01-01\r\n";
    const summary = await run(store, { path: await file("crlf.csv", content) });
    expect(summary).to.deep.include({ imported: 2, rejected: 0 });
    const answer = await store.checkOne({ type: "phone", entryId: evaluator.keysOf("phone", "+8613800138000").entryId }, NOW);
    if (!answer.hit) expect.fail("expected a hit");
    expect(answer.entry.ownRef).to.equal('a,"b"');
  });

  it("reports a CSV record it cannot parse, and keeps what it could read", async () => {
    const store = await freshStore();
    const content = `${CSV_HEADER}\nphone,138 0013 8000,1,3,R01,2024-05-01,,\nphone,"139 0013 9000"x,1,3,R01,2024-05-01,,\nphone,137 0013 7000,1,3,R01,2024-05-01,,"unclosed\n`;
    const summary = await run(store, { path: await file("syntax.csv", content) });
    expect(summary).to.deep.include({ imported: 1, rejected: 2 });
    expect(summary.errors).to.deep.equal([
      { line: 3, field: "value", reason: "extension" }, // a stray quote is kept as text; the value check refuses it
      { line: 4, field: "row", reason: "csv_syntax" }, // an unclosed quote runs to the end of the file
    ]);
  });

  it("imports JSON Lines to the same state as the equivalent CSV", async () => {
    const csvStore = await freshStore();
    const jsonStore = await freshStore();
    const csv = generateCsv({ rows: 300, badEvery: 25, expiringEvery: 3 });
    const csvSummary = await run(csvStore, { path: await file("list.csv", csv) });
    const [header, ...lines] = csv.trimEnd().split("\n");
    const columns = header!.split(",");
    const jsonl = lines.map((line) => {
      const cells = line.split(",");
      return cells.length !== columns.length ? `{"broken": ` : JSON.stringify(Object.fromEntries(columns.map((c, i) => [c, c === "level" && /^\d$/.test(cells[i]!) ? Number(cells[i]) : cells[i]])));
    }).join("\n");
    const jsonSummary = await run(jsonStore, { path: await file("list.jsonl", `${jsonl}\n\n`) });
    expect(jsonSummary.format).to.equal("jsonl");
    expect({ ...jsonSummary, errors: jsonSummary.errors.map((e) => e.line) }).to.deep.include({ imported: csvSummary.imported, rejected: csvSummary.rejected, rows: csvSummary.rows });
    // The same rows, one line earlier: JSON Lines has no header line.
    expect(jsonSummary.errors.map((e) => e.line)).to.deep.equal(csvSummary.errors.map((e) => e.line - 1));
    expect(await dump(jsonStore)).to.equal(await dump(csvStore));
  });

  it("reads and converts in the worker exactly as in this thread: JSON Lines, a stream in tiny chunks, slow writes", async () => {
    const csv = generateCsv({ rows: 2000, badEvery: 29, repeatEvery: 7, expiringEvery: 3 });
    const [header, ...lines] = csv.trimEnd().split("\n");
    const columns = header!.split(",");
    const jsonl = `${lines.map((line) => (line.split(",").length !== columns.length ? "[1]" : JSON.stringify(Object.fromEntries(line.split(",").map((cell, i) => [columns[i], cell]))))).join("\n")}\n`;
    for (const [name, content] of [["list.jsonl", jsonl], ["list.csv", csv]] as const) {
      const inThread = await freshStore();
      const reference = await run(inThread, { path: await file(name, content) }, { workers: 0, batchSize: 300 });
      // Chunks of 1–97 bytes, cut anywhere (inside cells and multi-byte characters).
      const bytes = Buffer.from(content);
      const chunks: Buffer[] = [];
      for (let at = 0, n = 1; at < bytes.length; at += n, n = (n * 31 + 7) % 97 + 1) chunks.push(bytes.subarray(at, at + n));
      const pooled = await freshStore();
      const slowProgress = () => void Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 2); // 2 ms a batch: the worker gets ahead
      const summary = await run(pooled, { stream: Readable.from(chunks), name }, { workers: 1, batchSize: 300, onProgress: slowProgress });
      expect(summary.workerThreads, name).to.equal(1);
      const { elapsedMs: _a, rowsPerSec: _ra, workerThreads: _wa, importId: _ia, source: _sa, ...restA } = reference;
      const { elapsedMs: _b, rowsPerSec: _rb, workerThreads: _wb, importId: _ib, source: _sb, ...restB } = summary;
      expect(restB, name).to.deep.equal(restA);
      expect(await dump(pooled), name).to.equal(await dump(inThread));
    }
  });

  it("stops the worker when aborted, and a rerun through the worker resumes to the state of a clean import", async () => {
    const content = generateCsv({ rows: 3000, badEvery: 97, repeatEvery: 13, expiringEvery: 5 });
    const path = await file("abort-worker.csv", content);
    const clean = await freshStore();
    const cleanSummary = await run(clean, { path }, { workers: 0, batchSize: 100 });
    const store = await freshStore();
    const controller = new AbortController();
    let thrown: unknown;
    try {
      await run(store, { path }, { workers: 1, batchSize: 100, signal: controller.signal, onProgress: (p) => p.rows >= 700 && controller.abort() });
    } catch (err) {
      thrown = err;
    }
    expect(isRiskshareError(thrown, "E_ABORTED")).to.equal(true);
    const resumed = await run(store, { path }, { workers: 1, batchSize: 100 });
    expect(resumed.resumedAfterLine).to.be.a("number").that.is.at.least(700);
    expect({ ...resumed, elapsedMs: 0, rowsPerSec: 0, resumedAfterLine: 0, workerThreads: 0 }).to.deep.equal({ ...cleanSummary, elapsedMs: 0, rowsPerSec: 0, resumedAfterLine: 0, workerThreads: 0 });
    expect(await dump(store)).to.equal(await dump(clean));
  });

  it("converts rows in worker threads to exactly what it converts in this thread", async () => {
    const content = generateCsv({ rows: 3000, badEvery: 37, repeatEvery: 11, expiringEvery: 4 });
    const path = await file("workers.csv", content);
    const inThread = await freshStore();
    const pooled = await freshStore();
    const a = await run(inThread, { path }, { workers: 0, batchSize: 250 });
    const b = await run(pooled, { path }, { workers: 1, batchSize: 250 });
    expect([a.workerThreads, b.workerThreads]).to.deep.equal([0, 1]);
    const { elapsedMs: _a, rowsPerSec: _ra, workerThreads: _wa, ...restA } = a;
    const { elapsedMs: _b, rowsPerSec: _rb, workerThreads: _wb, ...restB } = b;
    expect(restB).to.deep.equal(restA);
    expect(await dump(pooled)).to.equal(await dump(inThread));
  });

  it("ends a batch at 8 MiB of source, so long rows cannot swell a worker's capped heap, and imports them as in this thread", async () => {
    // 150 rows with a ~60 KB ref (over-long: each is rejected for it) among 150 ordinary ones: ~9 MB, far under 10,000 rows.
    const ordinary = generateCsv({ rows: 300 }).trimEnd().split("\n");
    const long = ordinary.slice(1).map((line, i) => (i % 2 === 0 ? line.replace(/,[^,]*$/, `,${"x".repeat(60_000)}`) : line));
    const content = `${ordinary[0]}\n${long.join("\n")}\n`;
    const path = await file("long.csv", content);
    const reports: ImportProgress[] = [];
    const pooled = await freshStore();
    const summary = await run(pooled, { path }, { workers: 1, onProgress: (p) => reports.push(p) });
    expect(summary.workerThreads).to.equal(1);
    // One report a batch plus the final one: ~9 MB of rows make two batches, not one.
    expect(Buffer.byteLength(content)).to.be.above(IMPORT_DEFAULTS.maxBatchBytes);
    expect(reports.length, "progress reports").to.equal(Math.ceil(Buffer.byteLength(content) / IMPORT_DEFAULTS.maxBatchBytes) + 1);
    const inThread = await freshStore();
    const reference = await run(inThread, { path }, { workers: 0 });
    expect(summary).to.deep.include({ rows: 300, imported: reference.imported, rejected: reference.rejected });
    expect(reference.rejected).to.equal(150);
    expect(await dump(pooled)).to.equal(await dump(inThread));
  });

  it("reports JSON Lines rows that are not JSON objects of known fields", async () => {
    const store = await freshStore();
    const lines = [
      `{"type":"phone","value":"13800138000","category":"fraud_confirmed","level":3,"reason":"R01","reported_at":1714521600}`,
      `not json`,
      `["phone","13800138000"]`,
      `{"type":"phone","value":"13900139000","category":"fraud_confirmed","level":3,"reason":"R01","reported_at":1714521600,"colour":"red"}`,
      `{"type":"phone","value":13900139000,"category":"fraud_confirmed","level":3,"reason":"R01","reported_at":1714521600}`,
      `{"type":"phone","value":"13900139000","category":"fraud_confirmed","level":{"x":1},"reason":"R01","reported_at":1714521600}`,
      `{"type":"phone","value":"13700137000","category":"fraud_confirmed","level":"3","reason":"R01","reported_at":"2024-05-01","expires_at":null,"ref":null}`,
    ];
    const summary = await run(store, { stream: Readable.from([Buffer.from(lines.join("\r\n"))]), name: "stdin.jsonl" });
    expect(summary).to.deep.include({ imported: 2, rejected: 5 });
    expect(summary.errors).to.deep.equal([
      { line: 2, field: "row", reason: "json" },
      { line: 3, field: "row", reason: "not_object" },
      { line: 4, field: "row", reason: "unknown_field" },
      { line: 5, field: "value", reason: "wrong_type" },
      { line: 6, field: "level", reason: "wrong_type" },
    ]);
  });

  it("reads reported_at cells as parseTimestampSec does, plain seconds included", async () => {
    const cells = ["0", "7", "1714521600", "0001714521600", "01714521600", " 1714521600", "1714521600 ", "99999999999", "171452160000", "1714521600.0", "17145x21600", "2024-05-01"];
    const lines = cells.map((cell, i) => `phone,${fixtureValue("phone", i)},1,3,R01,"${cell}",,`);
    const store = await freshStore();
    const summary = await run(store, { path: await file("seconds.csv", `${CSV_HEADER}\n${lines.join("\n")}\n`) }, { workers: 0 });
    const rejectedLines = new Set(summary.errors.map((e) => e.line));
    for (const [i, cell] of cells.entries()) {
      const parsed = parseTimestampSec(cell);
      const answer = await store.checkOne({ type: "phone", entryId: evaluator.keysOf("phone", normalise("phone", fixtureValue("phone", i), { defaultRegion: "CN" })).entryId }, NOW);
      if (parsed.ok && parsed.value <= NOW) expect(answer.hit && answer.entry.reportedAtSec, `cell ${JSON.stringify(cell)}`).to.equal(parsed.value);
      else expect(rejectedLines.has(i + 2), `cell ${JSON.stringify(cell)} is refused`).to.equal(true);
    }
  });

  it("counts re-imported rows as unchanged, changed rows as updated", async () => {
    const store = await freshStore();
    const first = await run(store, { path: await file("a.csv", generateCsv({ rows: 200 })) });
    expect(first).to.deep.include({ imported: 200, updated: 0, unchanged: 0 });
    const again = await run(store, { path: await file("a-again.csv", generateCsv({ rows: 200 })) });
    expect(again).to.deep.include({ imported: 0, updated: 0, unchanged: 200 });
    const changed = generateCsv({ rows: 200 }).replaceAll(",R1,", ",R99,");
    const third = await run(store, { path: await file("a-changed.csv", changed) });
    expect(third).to.deep.include({ imported: 0, updated: 4, unchanged: 196 });
    expect((await store.verify()).ok).to.equal(true);
  });

  it("imports with a presence filter to exactly the state and counts of an import without one", async () => {
    // A store already holding part of the list, then a file that repeats, changes and adds rows.
    const existing = await file("existing.csv", generateCsv({ rows: 1500, expiringEvery: 5 }));
    const content = generateCsv({ rows: 3000, badEvery: 41, repeatEvery: 13, expiringEvery: 4 }).replaceAll(",R2,", ",R77,");
    const path = await file("mixed.csv", content);
    const [filtered, plain] = [await freshStore(), await freshStore()];
    for (const store of [filtered, plain]) await run(store, { path: existing });
    const a = await run(filtered, { path }, { presenceFilter: true, batchSize: 400 });
    const b = await run(plain, { path }, { presenceFilter: false, batchSize: 400 });
    expect(a.imported + a.updated + a.unchanged, "rows stored").to.be.above(2000);
    expect([a.updated, a.unchanged].every((n) => n > 0), "some rows updated, some unchanged").to.equal(true);
    const { elapsedMs: _a, rowsPerSec: _ra, ...restA } = a;
    const { elapsedMs: _b, rowsPerSec: _rb, ...restB } = b;
    expect(restA).to.deep.equal(restB);
    expect(await dump(filtered)).to.equal(await dump(plain));
    expect((await filtered.verify()).ok).to.equal(true);
  });

  it("handles duplicates within one file, across batch boundaries: a repeat is unchanged, a changed repeat an update", async () => {
    const phone = "phone,138 0013 8000,fraud_confirmed,3,R01,2024-05-01,,";
    const content = `${CSV_HEADER}\n${phone}\n${phone}\nemail,a@mail.example.cn,1,3,R01,2024-05-01,,\n${phone}\n${phone.replace(",3,", ",5,")}\n`;
    for (const batchSize of [1, 2, 100]) {
      const target = await freshStore();
      const summary = await run(target, { path: await file("dups.csv", content) }, { batchSize });
      expect(summary, `batch size ${batchSize}`).to.deep.include({ imported: 2, unchanged: 2, updated: 1, rejected: 0 });
      const answer = await target.checkOne({ type: "phone", entryId: evaluator.keysOf("phone", "+8613800138000").entryId }, NOW);
      expect(answer.hit && answer.entry.level, `batch size ${batchSize}`).to.equal(5);
    }
  });

  it("reports progress after every batch, with rows, bytes and a rate", async () => {
    const store = await freshStore();
    const content = generateCsv({ rows: 1000 });
    const reports: ImportProgress[] = [];
    await run(store, { path: await file("p.csv", content) }, { batchSize: 100, onProgress: (p) => reports.push(p) });
    expect(reports.length).to.be.at.least(10);
    const rows = reports.map((r) => r.rows);
    expect(rows, "rows never go back").to.deep.equal([...rows].sort((a, b) => a - b));
    const last = reports[reports.length - 1]!;
    expect(last).to.deep.include({ rows: 1000, imported: 1000, totalBytes: Buffer.byteLength(content) });
    expect(last.bytes).to.be.within(1, Buffer.byteLength(content));
    expect(last.rowsPerSec).to.be.greaterThan(0);
  });

  it("stops between batches when aborted, and a rerun resumes to the same state as a clean import", async () => {
    const content = generateCsv({ rows: 2000, badEvery: 97, repeatEvery: 13, expiringEvery: 5 });
    const path = await file("abort.csv", content);
    const clean = await freshStore();
    const cleanSummary = await run(clean, { path }, { batchSize: 100 });

    const store = await freshStore();
    const controller = new AbortController();
    let thrown: unknown;
    try {
      await run(store, { path }, { batchSize: 100, signal: controller.signal, onProgress: (p) => p.rows >= 500 && controller.abort() });
    } catch (err) {
      thrown = err;
    }
    expect(isRiskshareError(thrown, "E_ABORTED")).to.equal(true);
    expect((await store.verify()).ok).to.equal(true);
    const resumed = await run(store, { path }, { batchSize: 100 });
    expect(resumed.resumedAfterLine).to.be.a("number").that.is.at.least(500);
    const counts = (s: ImportSummary) => ({ rows: s.rows, imported: s.imported, updated: s.updated, unchanged: s.unchanged, rejected: s.rejected, errorsTotal: s.errorsTotal, errors: s.errors });
    expect(counts(resumed)).to.deep.equal(counts(cleanSummary));
    expect(await dump(store)).to.equal(await dump(clean));
    const rerun = await run(store, { path }, { batchSize: 100 });
    expect(rerun).to.deep.include({ resumedAfterLine: undefined, imported: 0, updated: 0 });
  });

  it("records each finished import in the audit trail", async () => {
    const store = await freshStore();
    await run(store, { path: await file("audit.csv", generateCsv({ rows: 10, badEvery: 5 })) });
    const trail = [];
    for await (const record of store.auditTrail()) trail.push(record);
    expect(trail).to.have.length(1);
    expect(trail[0]).to.deep.include({ action: "import", imported: 8, rejected: 2, updated: 0, unchanged: 0 });
  });

  it("hashes what the identity module hashes: imported rows answer lookups of any spelling", async () => {
    const store = await freshStore();
    await run(store, { path: await file("spell.csv", generateCsv({ rows: 12 })) });
    const lookups = ["phone", "national_id", "bank_card", "email", "device_id", "ip"].map((type) => {
      const raw = fixtureValue(type, ["phone", "national_id", "bank_card", "email", "device_id", "ip"].indexOf(type));
      return { type, entryId: evaluator.keysOf(type, normalise(type, raw.toUpperCase().replaceAll(" ", "-"), { defaultRegion: "CN" })).entryId };
    });
    const answers = await store.checkMany(lookups, NOW);
    expect(answers.map((a, i) => `${lookups[i]!.type}:${a.hit}`)).to.deep.equal(lookups.map((l) => `${l.type}:${l.type !== "device_id"}`));
  });
});

describe("progress reporter", () => {
  const progress: ImportProgress = { rows: 500, bytes: 5_000, totalBytes: 10_000, rowsPerSec: 1_000, elapsedMs: 500, imported: 490, updated: 0, unchanged: 0, rejected: 10 };

  function capture(tty: boolean): { stream: NodeJS.WritableStream; text: () => string } {
    const stream = new PassThrough();
    let text = "";
    stream.on("data", (chunk: Buffer) => (text += chunk.toString()));
    Object.assign(stream, { isTTY: tty, columns: 120, cursorTo: () => true, clearLine: () => true, moveCursor: () => true });
    return { stream, text: () => text };
  }

  it("stays silent when the output is not a terminal, in JSON mode and in CI", () => {
    for (const opts of [{ tty: false, json: false }, { tty: true, json: true }, { tty: true, json: false, ci: true }]) {
      const out = capture(true);
      const reporter = createProgressReporter({ ...opts, stream: out.stream });
      reporter.update(progress);
      reporter.stop();
      expect(out.text(), JSON.stringify(opts)).to.equal("");
    }
  });

  it("draws rows, rate and rejected counts on a terminal", () => {
    const out = capture(true);
    const reporter = createProgressReporter({ tty: true, json: false, ci: false, stream: out.stream });
    reporter.update(progress);
    reporter.stop();
    expect(out.text()).to.contain("500 rows").and.to.contain("1,000 rows/s").and.to.contain("10 rejected").and.to.contain("50%");
  });
});
