/**
 * The outbox's side of one writer per member key, on a real store: the writer mark and the hashes
 * of batch transactions survive a restart, a key rotation's fresh store carries the mark over, and
 * a take-over re-indexes what waits, dropping what is on chain already.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { Wallet } from "ethers";
import type { LedgerRecord } from "../../node/chain/index.ts";
import { silentLogger } from "../../node/logger.ts";
import { Bucket, Store, type Outbox } from "../../node/store/index.ts";

const PROVIDER = Wallet.createRandom().address;

/** A record told apart by its nonce; nothing here reaches a chain. */
function record(n: number, receivedAtMs = 1_000 + n): LedgerRecord {
  return {
    request: { querier: PROVIDER, provider: PROVIDER, kind: 0, categoryMask: 2n, itemCount: 1, itemsCommitment: `0x${"11".repeat(32)}`, nonce: `0x${n.toString(16).padStart(64, "0")}`, deadline: 2_000_000_000n },
    signature: "0x", outcome: 0, keyEpoch: 1, count: 1, answerDigest: `0x${"00".repeat(32)}`, receivedAtMs,
  };
}

const nonceOf = (r: LedgerRecord) => Number(BigInt(r.request.nonce));

describe("ledger outbox: the writer mark", () => {
  let dir: string;
  const stores: Store[] = [];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "riskshare-outbox-writer-"));
  });
  afterEach(async () => {
    for (const store of stores.splice(0)) if (store.isOpen) await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function open(name = "db"): Promise<{ store: Store; outbox: Outbox }> {
    const store = new Store({ location: join(dir, name), categories: new Map() }, { logger: silentLogger() });
    await store.open();
    stores.push(store);
    const outbox = store.outbox({ maxBacklog: 100 });
    await outbox.open();
    return { store, outbox };
  }

  it("keeps the mark of the last batch landed and the hashes of a batch's transactions across a restart; tracks the oldest record", async () => {
    let { store, outbox } = await open();
    expect(outbox.writerMark(PROVIDER), "a new store has sent nothing").to.equal(undefined);
    expect(outbox.oldestReceivedAtMs()).to.equal(undefined);
    for (let n = 0; n < 3; n++) await outbox.append(record(n));
    expect(outbox.oldestReceivedAtMs()).to.equal(1_000);
    await outbox.assignBatch(1n, 2);
    await outbox.noteSent(1n, "0xaa");
    await outbox.noteSent(1n, "0xbb");
    await store.close();
    ({ store, outbox } = await open());
    expect((await outbox.pendingBatches()).map((b) => [b.seq, b.txHashes])).to.deep.equal([[1n, ["0xaa", "0xbb"]]]);
    await outbox.completeBatch(1n, { providerAddress: PROVIDER, txHash: "0xbb", atMs: 5_000 });
    expect(outbox.oldestReceivedAtMs(), "the oldest left is the third").to.equal(1_002);
    await store.close();
    ({ outbox } = await open());
    expect(outbox.writerMark(PROVIDER)).to.deep.equal({ seq: 1n, atMs: 5_000, txHash: "0xbb" });
    expect(outbox.writerMark(Wallet.createRandom().address), "a mark is for one account").to.equal(undefined);
    expect(outbox.oldestReceivedAtMs()).to.equal(1_002);
  });

  it("passes the mark to a key rotation's fresh store, and tells a store from before marks from a new one", async () => {
    const old = await open("db");
    await old.outbox.append(record(0));
    await old.outbox.assignBatch(1n, 10);
    await old.outbox.completeBatch(1n, { providerAddress: PROVIDER, txHash: "0xcc", atMs: 7_000 });
    const next = await open("db-next");
    await next.store.copyProtocolStateFrom(old.store);
    await next.store.close();
    expect((await open("db-next")).outbox.writerMark(PROVIDER)).to.deep.equal({ seq: 1n, atMs: 7_000, txHash: "0xcc" });

    // A store written before marks were kept: records went through it, but it holds no mark.
    await old.store.sublevel(Bucket.outbox).del("m:writer");
    await old.store.close();
    const legacy = await open("db");
    expect(legacy.outbox.writerMark(PROVIDER)).to.include({ legacy: true });
    const rotated = await open("db-rotated");
    await rotated.store.copyProtocolStateFrom(legacy.store);
    await rotated.store.close();
    expect((await open("db-rotated")).outbox.writerMark(PROVIDER), "passed on as such").to.include({ legacy: true });
  });

  it("at a take-over, clears the batches found on chain, queues the others' records again after those waiting, drops what is on chain already, and adopts the chain's number", async () => {
    const { store, outbox } = await open();
    for (let n = 0; n < 7; n++) await outbox.append(record(n));
    await outbox.assignBatch(4n, 2); // 0, 1: this store's transaction landed it
    await outbox.assignBatch(5n, 2); // 2, 3: refused on chain
    const result = await outbox.takeOver(PROVIDER, 9n, new Map([[4n, "0xdd"]]), (r) => nonceOf(r) !== 5); // 5: the other node landed it
    expect(result).to.deep.equal({ landedBatches: 1, requeuedRecords: 2, droppedRecords: 1 });
    expect(outbox.writerMark(PROVIDER)).to.include({ seq: 9n, adopted: true });
    expect(await outbox.pendingBatches()).to.deep.equal([]);
    expect(outbox.oldestReceivedAtMs()).to.equal(1_004);
    await store.close();
    const reopened = (await open()).outbox;
    expect(await reopened.size()).to.equal(4);
    const batch = await reopened.assignBatch(10n, 10);
    expect(batch!.records.map(nonceOf), "waiting first, then the refused batch's").to.deep.equal([4, 6, 2, 3]);
  });
});
