import { mkdtemp, rm } from "node:fs/promises";
import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { silentLogger } from "../../node/logger.ts";
import { openSecrets, readHeldAnswers, readSentQuery, Store, type JournalRequest, type JournalSecrets } from "../../node/store/index.ts";

const QUERIER = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC";
const PROVIDER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";

/** A signed request's public fields, with made-up values: the journal keeps them in the clear. */
function sentRequest(): JournalRequest {
  return {
    querier: QUERIER, provider: PROVIDER, kind: 0, categoryMask: 2n, itemCount: 2,
    itemsCommitment: `0x${"11".repeat(32)}`, nonce: `0x${"22".repeat(32)}`, deadline: 1_750_000_600n,
  };
}

/** What opens that request's commitment: one identifier and one padding input, a blind each. */
function sentSecrets(): JournalSecrets {
  return {
    items: [{ type: "phone", value: "+8613800138000" }],
    blinds: [new Uint8Array(randomBytes(32)), new Uint8Array(randomBytes(32))],
    paddingInputs: [new Uint8Array(randomBytes(32))],
  };
}

describe("the store's query journal", () => {
  let dir: string;
  const journalKey = new Uint8Array(randomBytes(32));

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "riskshare-journal-"));
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("keeps a sent query's public fields in the clear and its secrets sealed; readSentQuery reads it back from the closed store, whatever the id's case", async () => {
    const queryId = `0x${"ab".repeat(32)}`;
    const secrets = sentSecrets();
    const store = new Store({ location: dir, categories: new Map([["fraud_confirmed", 1]]) }, { logger: silentLogger() });
    await store.open();
    try {
      await store.queryJournal(journalKey).record(queryId, sentRequest(), secrets, 1_750_000_000_000);
      expect(await store.queryJournal().count()).to.equal(1);
    } finally {
      await store.close();
    }
    const entry = await readSentQuery({ location: dir }, { logger: silentLogger() }, queryId.toUpperCase().replace("0X", "0x"));
    expect(entry).to.deep.include({
      queryId, querier: QUERIER, provider: PROVIDER, kind: 0, categoryMask: "2", itemCount: 2,
      itemsCommitment: `0x${"11".repeat(32)}`, nonce: `0x${"22".repeat(32)}`, deadline: "1750000600", sentAtMs: 1_750_000_000_000,
    });
    expect(entry!.sealed, "the identifier never appears in the clear").to.not.contain(Buffer.from("+8613800138000").toString("hex"));
    expect(JSON.stringify(entry)).to.not.contain("8613800138000");
    expect(await readSentQuery({ location: dir }, { logger: silentLogger() }, `0x${"cd".repeat(32)}`)).to.equal(undefined);
  });

  it("opens the secrets with the journal key it sealed them under, and refuses another key (E_JOURNAL_OPEN)", async () => {
    const queryId = `0x${"ab".repeat(32)}`;
    const secrets = sentSecrets();
    const store = new Store({ location: dir, categories: new Map() }, { logger: silentLogger() });
    await store.open();
    try {
      const journal = store.queryJournal(journalKey);
      await journal.record(queryId, sentRequest(), secrets);
      const entry = (await journal.get(queryId))!;
      expect(openSecrets(journalKey, entry)).to.deep.equal(secrets);
      const error = (() => {
        try {
          return openSecrets(new Uint8Array(randomBytes(32)), entry);
        } catch (err) {
          return err;
        }
      })();
      expect(error).to.have.property("code", "E_JOURNAL_OPEN");
      expect((error as Error).message).to.not.contain("8613800138000");
      expect(() => openSecrets(journalKey, { ...entry, queryId: `0x${"cd".repeat(32)}` }), "a record moved under another query id").to.throw().with.property("code", "E_JOURNAL_OPEN");
    } finally {
      await store.close();
    }
  });

  it("deletes the records older than the retention limit and keeps the younger ones", async () => {
    const store = new Store({ location: dir, categories: new Map() }, { logger: silentLogger() });
    await store.open();
    try {
      const journal = store.queryJournal(journalKey);
      const sentAtMs = [1_000, 2_000, 3_000];
      for (const [index, at] of sentAtMs.entries()) await journal.record(`0x${String(index).repeat(64)}`, sentRequest(), sentSecrets(), at);
      expect(await journal.sweep(2_000), "only what was sent before the limit").to.equal(1);
      expect(await journal.count()).to.equal(2);
      expect(await journal.get(`0x${"0".repeat(64)}`)).to.equal(undefined);
      expect(await journal.get(`0x${"1".repeat(64)}`)).to.not.equal(undefined);
      expect(await journal.sweep(2_000), "a second sweep finds nothing").to.equal(0);
    } finally {
      await store.close();
    }
  });

  it("keeps a provider's signed answer beside its query, lists it for audit verify, and lets it go with the query at retention", async () => {
    const answer = (queryId: string) => ({ queryId, provider: PROVIDER, keyEpoch: 1, itemCount: 2, answerDigest: `0x${"33".repeat(32)}` });
    const signature = `0x${"44".repeat(65)}`;
    const [old, young, unknown] = [`0x${"0".repeat(64)}`, `0x${"1".repeat(64)}`, `0x${"2".repeat(64)}`];
    const store = new Store({ location: dir, categories: new Map() }, { logger: silentLogger() });
    await store.open();
    try {
      const journal = store.queryJournal(journalKey);
      await journal.record(old, sentRequest(), sentSecrets(), 1_000);
      await journal.record(young, sentRequest(), sentSecrets(), 3_000);
      await journal.record(`0x${"3".repeat(64)}`, sentRequest(), sentSecrets(), 3_000); // refused: no answer
      await journal.recordAnswer(old, answer(old), signature);
      await journal.recordAnswer(young.toUpperCase().replace("0X", "0x"), answer(young), signature);
      await journal.recordAnswer(unknown, answer(unknown), signature);
      expect(await journal.get(unknown), "an answer to a query the journal does not hold is not kept").to.equal(undefined);
      expect((await journal.get(young))!).to.deep.include({ answer: answer(young), answerSignature: signature, sentAtMs: 3_000 });
      expect(openSecrets(journalKey, (await journal.get(young))!).items, "the secrets stay sealed as they were").to.have.length(1);
      expect(await journal.heldAnswers()).to.deep.equal([{ answer: answer(old), answerSignature: signature }, { answer: answer(young), answerSignature: signature }]);
      expect(await journal.sweep(2_000)).to.equal(1);
      expect(await journal.heldAnswers(), "swept with its query").to.deep.equal([{ answer: answer(young), answerSignature: signature }]);
    } finally {
      await store.close();
    }
    expect(await readHeldAnswers({ location: dir }, { logger: silentLogger() }), "read back from the closed store").to.deep.equal([{ answer: answer(young), answerSignature: signature }]);
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
