/**
 * The member's own lists as one service (node/store/lists.ts): what the running node's API and the
 * CLI without a node both call. Streamed imports resume under the sender's id; one import at a time;
 * which categories changed since the snapshot on chain.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough, Readable } from "node:stream";
import { expect } from "chai";
import type { EntryKeyEvaluator } from "../../node/identity/index.ts";
import { silentLogger } from "../../node/logger.ts";
import { bucketBits } from "../../node/p2p/index.ts";
import { categoriesDue, ListService, Store } from "../../node/store/index.ts";
import { FIXTURE_BINDING, FIXTURE_CATEGORIES, fixtureEvaluator } from "../fixtures/riskList.ts";

const NOW = 1_750_000_000;
const HEADER = "type,value,category,level,reason,reported_at";
/** The error a promise rejects with (fails when it resolves). */
async function rejection(promise: Promise<unknown>): Promise<Error & { code?: string }> {
  try {
    await promise;
  } catch (err) {
    return err as Error & { code?: string };
  }
  return expect.fail("expected a rejection");
}
const rows = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => `merchant_id,M-${from + i},fraud_confirmed,3,R1,2025-01-01\n`).join("");

describe("ListService: the own lists behind the API and the CLI", function () {
  this.timeout(60_000);
  let dir: string;
  let store: Store;
  let evaluator: EntryKeyEvaluator;
  let lists: ListService;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "riskshare-lists-"));
    evaluator = await fixtureEvaluator();
    store = new Store({ location: join(dir, "db"), categories: FIXTURE_CATEGORIES, binding: FIXTURE_BINDING }, { logger: silentLogger() });
    await store.open();
    lists = new ListService({ store, evaluator: () => evaluator, region: "CN", logger: silentLogger() });
  });
  afterEach(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  const stream = (text: string) => Readable.from([Buffer.from(text)]);

  it("resumes a streamed import under the same importId after an interruption, and starts afresh under another id", async () => {
    // The first run: three batches of 100 rows arrive, then the sender goes away.
    const cut = new PassThrough();
    const first = lists.import({ stream: cut, name: "feed.csv", sizeBytes: undefined, importId: "sha256-feed" }, { batchSize: 100, nowSec: NOW, workers: 0 });
    cut.write(`${HEADER}\n${rows(0, 350)}`);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(lists.importStatus(), "in flight").to.deep.include({ source: "feed.csv" });
    cut.destroy(new Error("connection reset"));
    expect((await rejection(first)).message).to.contain("connection reset");
    expect(lists.importStatus(), "no import in flight once it failed").to.equal(undefined);
    const committed = (await lists.stats()).entries;
    expect(committed, "whole batches only").to.be.oneOf([100, 200, 300]);

    const again = await lists.import({ stream: stream(`${HEADER}\n${rows(0, 500)}`), name: "feed.csv", sizeBytes: undefined, importId: "sha256-feed" }, { batchSize: 100, nowSec: NOW, workers: 0 });
    expect(again.resumedAfterLine, "resumed after the last committed line").to.equal(committed + 1);
    expect(again).to.include({ rows: 500, imported: 500, rejected: 0 });
    expect((await lists.stats()).entries).to.equal(500);

    const other = await lists.import({ stream: stream(`${HEADER}\n${rows(0, 500)}`), name: "feed.csv", sizeBytes: undefined, importId: "sha256-other" }, { batchSize: 100, nowSec: NOW, workers: 0 });
    expect(other.resumedAfterLine, "another id: a run of its own").to.equal(undefined);
    expect(other).to.include({ rows: 500, imported: 0, unchanged: 500 });
  });

  it("runs one import at a time (E_IMPORT_BUSY) while checks and removals go on", async () => {
    const slow = new PassThrough();
    const running = lists.import({ stream: slow, name: "slow.csv", sizeBytes: undefined, importId: undefined }, { batchSize: 10, nowSec: NOW, workers: 0 });
    slow.write(`${HEADER}\n${rows(0, 25)}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect((await rejection(lists.import({ stream: stream(`${HEADER}\n`), name: "second.csv", sizeBytes: undefined, importId: undefined }, {}))).code).to.equal("E_IMPORT_BUSY");
    expect(await lists.check("merchant_id", "M-3"), "checked while the import runs").to.deep.include({ hit: true, reason: "R1" });
    expect(await lists.remove("merchant_id", "M-3", "appeal_upheld")).to.deep.equal({ removed: true, category: "fraud_confirmed", reason: "appeal_upheld" });
    slow.end();
    expect(await running).to.include({ rows: 25 });
    expect(await lists.check("merchant_id", "M-3")).to.deep.equal({ hit: false });
  });

  it("names the categories changed since the snapshot on chain: none published, a delta since the base, or another filter", async () => {
    const category = FIXTURE_CATEGORIES.get("fraud_confirmed")!;
    expect(lists.changedCategories(() => undefined), "nothing listed, nothing published").to.deep.equal([]);
    await lists.import({ stream: stream(`${HEADER}\n${rows(0, 20)}`), name: "a.csv", sizeBytes: undefined, importId: undefined }, { nowSec: NOW, workers: 0 });
    expect(lists.changedCategories(() => undefined), "listed, never published").to.deep.equal([category]);
    const published = await new ListService({
      store, evaluator: () => evaluator, region: "CN", logger: silentLogger(),
      publisher: { publish: async () => "0xtx" },
    }).publish([category]);
    const onChain = (id: number) => (id === category ? { filterHash: published[0]!.filterHash, keyEpoch: 1 } : undefined);
    expect(lists.changedCategories(onChain), "the base on chain covers every change").to.deep.equal([]);
    expect(lists.changedCategories((id) => (id === category ? { filterHash: `0x${"00".repeat(32)}`, keyEpoch: 1 } : undefined)), "another filter on chain").to.deep.equal([category]);
    await lists.remove("merchant_id", "M-1", "appeal_upheld");
    expect(lists.changedCategories(onChain), "a delta since the base").to.deep.equal([category]);
  });

  it("publishes by itself what outgrew its snapshot at once, other changes every publishEveryHours, nothing when it is 0", () => {
    const hour = 3_600;
    const published = new Map([[1, { liveCount: 1_000, publishedAt: NOW - 2 * hour }], [2, { liveCount: 1_000, publishedAt: NOW - 7 * hour }], [3, { liveCount: 600, publishedAt: NOW - 60 }]]);
    const counts = new Map([[1, 1_010], [2, 1_020], [3, 9_000], [4, 20]]);
    const due = (everyHours: number, changed = [1, 2, 3, 4]) => categoriesDue({
      changed, storedCount: (id) => counts.get(id) ?? 0, published: (id) => published.get(id), bits: bucketBits, nowSec: NOW, everySec: everyHours * hour,
    });
    // 1: changed 2 h ago (not due at 6 h); 2: 7 h ago (due); 3: grew from 600 to 9,000 (4 more bucket bits: at once); 4: never published (at once).
    expect(due(6)).to.deep.equal([2, 3, 4]);
    expect(due(1)).to.deep.equal([1, 2, 3, 4]);
    expect(due(6, [1]), "unchanged categories are never published").to.deep.equal([]);
    expect(due(0), "0: by hand only").to.deep.equal([]);
  });
});
