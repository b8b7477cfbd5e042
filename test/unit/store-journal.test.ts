import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { silentLogger } from "../../node/logger.ts";
import { readSentQuery, Store, type JournalEntry } from "../../node/store/index.ts";

/** A journal entry with made-up values: the store keeps it as given. */
function sentEntry(queryId: string): JournalEntry {
  return {
    queryId, provider: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8", querier: "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC",
    categoryMask: "2", itemCount: 1, itemsCommitment: `0x${"11".repeat(32)}`, nonce: `0x${"22".repeat(32)}`, deadline: "1750000600",
    blinding: `0x${"33".repeat(32)}`, items: [{ type: "phone", hash: `0x${"44".repeat(32)}` }], sentAtMs: 1_750_000_000_000,
  };
}

describe("the store's query journal", () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "riskshare-journal-"));
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("keeps what the node sent, and readSentQuery reads it back from the closed store, whatever the id's case", async () => {
    const queryId = `0x${"ab".repeat(32)}`;
    const store = new Store({ location: dir, categories: new Map([["fraud_confirmed", 1]]) }, { logger: silentLogger() });
    await store.open();
    try {
      await store.queryJournal().record(sentEntry(queryId));
      expect(await store.queryJournal().count()).to.equal(1);
    } finally {
      await store.close();
    }
    expect(await readSentQuery({ location: dir }, { logger: silentLogger() }, queryId.toUpperCase().replace("0X", "0x"))).to.deep.equal(sentEntry(queryId));
    expect(await readSentQuery({ location: dir }, { logger: silentLogger() }, `0x${"cd".repeat(32)}`)).to.equal(undefined);
  });

  it("refuses to read while a running node holds the store (E_STORE_CLOSED, locked)", async () => {
    const store = new Store({ location: dir, categories: new Map() }, { logger: silentLogger() });
    await store.open();
    try {
      const error = await readSentQuery({ location: dir }, { logger: silentLogger() }, `0x${"ab".repeat(32)}`).then(() => undefined, (err: unknown) => err);
      expect(error).to.have.property("code", "E_STORE_CLOSED");
      expect(error).to.have.nested.property("meta.locked", true);
    } finally {
      await store.close();
    }
  });
});
