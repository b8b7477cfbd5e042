/**
 * `/riskshare/lookup/2` between real libp2p nodes on loopback, with the real VOPRF and small fakes
 * of store, chain view, policy, outbox and journal.
 */
import { expect } from "chai";
import { randomBytes } from "node:crypto";
import { hexlify, Wallet } from "ethers";
import { lookupRequestDigest, nonceToBytes32, QueryOutcome, recoverLookupAnswerSigner, refusalDigest } from "../../node/chain/index.ts";
import {
  fromWireRequest, LOOKUP_PROTOCOL, LOOKUP_PROTOCOL_V1, MAX_BUCKET_ENTRIES, MAX_FRAME_BYTES, MAX_OUTBOUND_STREAMS, peerIdToAddress, type AnsweredLookup, type LookupOutcome,
} from "../../node/p2p/index.ts";
import {
  buildRequestFrame, CHAIN_ID, FakeChain, FakeFilters, LEDGER, nextPairNonce, NOW, randomElements, randomItem, rawExchange, startNode, stopAll, testVoprf, type Member,
} from "./p2p.fixtures.ts";

function answered(outcome: LookupOutcome): AnsweredLookup {
  if (outcome.status !== "answered") expect.fail(`expected an answer, got ${outcome.status} ${outcome.code}: ${outcome.message}`);
  return outcome;
}

describe("p2p: lookup/2 between members", function () {
  this.timeout(60_000);
  const chain = new FakeChain();
  const filters = new FakeFilters();
  let a: Member, b: Member, c: Member, outsider: Member;
  const ask = (from: Member, to: Member, items = [randomItem()], categoryIds = [1], opts = {}) =>
    from.lookup.lookupPeer(to.host.getMultiaddrs(), { providerAddress: to.address, items, categoryIds }, opts);

  before(async () => {
    // Every refusal its own record here (each row below checks its own); folding has its own tests (p2p.flood.test.ts).
    const opts = { filters, lookup: { refusalFoldSeconds: 0 } };
    [a, b, c, outsider] = await Promise.all([startNode(chain, opts), startNode(chain, opts), startNode(chain, opts), startNode(chain, { ...opts, member: false })]);
  });
  after(async () => {
    await stopAll([a, b, c, outsider]);
  });

  it("binds each PeerId to its member's EVM address", () => {
    for (const m of [a, b, c]) expect(peerIdToAddress(m.host.peerId)).to.equal(m.address);
  });

  describe("answers", () => {
    it("finds a listed identifier (metadata opened) and misses an unlisted one; the provider records kind, epoch and item count, never a hit", async () => {
      const listed = randomItem();
      const unlisted = randomItem();
      b.store.list(listed, { categoryId: 1, level: 5, reason: "mule_account", providerRef: "b-17", expiresAtSec: NOW + 3_600 });
      const before = b.outbox.records.length;
      const outcome = answered(await ask(a, b, [listed, unlisted]));
      expect(outcome.results).to.deep.equal([
        { hit: true, category: 1, level: 5, reason: "mule_account", reportedAt: NOW - 86_400, expiresAt: NOW + 3_600, providerRef: "b-17" },
        { hit: false },
      ]);
      expect(outcome.keyEpoch).to.equal(1);
      expect(outcome.fetchQueryIds).to.have.length(1);
      const records = b.outbox.records.slice(before);
      expect(records.map((r) => [r.kind, r.keyEpoch, r.itemCount, r.outcome])).to.deep.equal([[0, 1, 2, QueryOutcome.Answered], [1, 1, 1, QueryOutcome.Answered]]);
      for (const record of records) expect(record, "no hit count in a record").to.not.have.property("hitCount");
      const [evaluateNonce, fetchNonce] = records.map((r) => BigInt(r.request.nonce));
      expect(fetchNonce! - evaluateNonce!, "the Evaluate and its Fetch count on one counter of the pair").to.equal(1n);
      expect(records[0]!.queryId).to.equal(outcome.queryId);
      // the opened hit, and only it, is kept with its tag and metadata key: its delisting is recognised in later filter deltas
      const voprf = await testVoprf();
      const { expandEntryKeys, oprfInput } = await import("../../node/identity/index.ts");
      const keys = expandEntryKeys(voprf.evaluate(b.oprfKey.secretKey, oprfInput(listed.type, listed.value)), { chainId: 31_337n, providerAddress: b.address, keyEpoch: 1 });
      const kept = a.hits.kept.filter((h) => h.queryId === outcome.queryId);
      expect(kept.map((h) => [h.providerAddress, h.categoryId, h.keyEpoch, hexlify(h.tag), hexlify(h.metadataKey)])).to.deep.equal([[b.address, 1, 1, hexlify(keys.tag), hexlify(keys.metadataKey)]]);
      // the journal keeps what opens the commitment: the items, one blind per element
      const journal = a.journal.records.find((r) => r.queryId === outcome.queryId)!;
      expect(journal.secrets.items).to.deep.equal([listed, unlisted]);
      expect(journal.secrets.blinds).to.have.length(2);
      // …and, beside each query, the answer the provider signed: what its record must match for `audit verify`
      for (const record of records) {
        const kept = a.journal.answers.get(record.queryId);
        expect(kept, `signed answer of ${record.queryId} kept`).to.not.equal(undefined);
        expect(kept!.answer, `answer of ${record.queryId}`).to.include({ queryId: record.queryId, provider: b.address, keyEpoch: record.keyEpoch, itemCount: record.itemCount, answerDigest: record.answerDigest });
        expect(recoverLookupAnswerSigner(CHAIN_ID, LEDGER, kept!.answer, kept!.answerSignature), `signer of ${record.queryId}'s answer`).to.equal(b.address);
      }
    });

    it("a filter false positive ends as a miss after the Fetch", async () => {
      const unlisted = randomItem();
      b.store.list(randomItem(), { categoryId: 1 });
      // make the querier's filter say yes to the unlisted item's tag
      const voprf = await testVoprf();
      const { expandEntryKeys, oprfInput } = await import("../../node/identity/index.ts");
      const tag = expandEntryKeys(voprf.evaluate(b.oprfKey.secretKey, oprfInput(unlisted.type, unlisted.value)), { chainId: 31_337n, providerAddress: b.address, keyEpoch: 1 }).tag;
      filters.falsePositives.add(hexlify(tag));
      try {
        const fetchesBefore = b.store.fetches.length;
        const outcome = answered(await ask(a, b, [unlisted]));
        expect(outcome.results).to.deep.equal([{ hit: false }]);
        expect(b.store.fetches.length, "the filter hit made a Fetch").to.equal(fetchesBefore + 1);
        expect(a.hits.kept.some((h) => hexlify(h.tag) === hexlify(tag)), "a miss is not kept").to.equal(false);
      } finally {
        filters.falsePositives.clear();
      }
    });

    it("catches a provider answering under a key other than its published one (E_OPRF_PROOF), keeping nothing", async () => {
      const listed = randomItem();
      b.store.list(listed, { categoryId: 1 });
      const published = b.oprfKey;
      b.oprfKey = { ...(await testVoprf()).generateKeyPair(), epoch: 1 };
      try {
        const outcome = await ask(a, b, [listed]);
        expect(outcome).to.include({ status: "error", code: "E_OPRF_PROOF", providerAddress: b.address });
      } finally {
        b.oprfKey = published;
      }
    });

    it("reports E_OPRF_KEY_UNKNOWN when the view lacks the answer's epoch, and E_FILTER_MISSING without the provider's filter: never a miss", async () => {
      const published = b.oprfKey;
      b.oprfKey = { ...published, epoch: 7 };
      try {
        expect(await ask(a, b)).to.include({ status: "error", code: "E_OPRF_KEY_UNKNOWN" });
      } finally {
        b.oprfKey = published;
      }
      filters.missing = true;
      try {
        expect(await ask(a, b)).to.include({ status: "error", code: "E_FILTER_MISSING" });
      } finally {
        filters.missing = false;
      }
    });

    it("refuses a Fetch whose bucket a stale snapshot made too large (E_SNAPSHOT_STALE), before anything is signed or recorded", async () => {
      // Category 3's snapshot still says 0 entries (bucket bits 0): its whole list is one bucket, and it grew past what a Fetch may carry.
      const listed = randomItem();
      b.store.list(listed, { categoryId: 3 });
      const [entry] = b.store.byCategory.get(3)!;
      b.store.byCategory.set(3, [entry!, ...Array.from({ length: MAX_BUCKET_ENTRIES }, () => ({ ...entry!, tag: randomBytes(8) }))]);
      try {
        const before = b.outbox.records.length;
        const outcome = await ask(a, b, [listed], [3]);
        expect(outcome).to.include({ status: "denied", code: "E_SNAPSHOT_STALE" });
        expect(b.outbox.records.slice(before).map((r) => r.kind), "the Evaluate is recorded, the refused Fetch is not").to.deep.equal([0]);
      } finally {
        b.store.byCategory.delete(3);
      }
    });

    it("pads every Evaluate to a fixed shape (1 → 1, 3 → 4, 1000 → 1000) with fresh random elements", async () => {
      for (const [items, shape] of [[1, 1], [3, 4], [1000, 1000]] as const) {
        const started = performance.now();
        const outcome = answered(await ask(a, b, Array.from({ length: items }, () => randomItem()), [1], { timeoutMs: 30_000 }));
        const elapsedMs = performance.now() - started;
        expect(outcome.results, `${items} items`).to.have.length(items);
        expect(b.received.at(-1), `${items} items → shape`).to.have.length(shape);
        expect(b.outbox.records.find((r) => r.queryId === outcome.queryId)!.itemCount).to.equal(shape);
        const journal = a.journal.records.find((r) => r.queryId === outcome.queryId)!;
        expect(journal.secrets.paddingInputs, `${items} items → padding`).to.have.length(shape - items);
        if (items === 1000) console.log(`      (1,000-item lookup: ${elapsedMs.toFixed(0)} ms, ${(1000 / (elapsedMs / 1000)).toFixed(0)} items/s)`);
      }
    });

    it("never sends the same blinded element twice: not to two providers, not in two requests", async () => {
      const item = randomItem();
      const seen = new Set<string>();
      for (const provider of [b, c, b, c]) {
        const before = provider.received.length;
        answered(await ask(a, provider, [item]));
        for (const element of provider.received.slice(before).flat()) {
          const hex = hexlify(element);
          expect(seen.has(hex), "a blinded element repeated").to.equal(false);
          seen.add(hex);
        }
      }
      expect(seen.size).to.equal(4);
    });

    it("counts quota per item: blinded elements for an Evaluate, prefixes for a Fetch", async () => {
      const listed = randomItem();
      b.store.list(listed, { categoryId: 1 });
      b.reciprocity.calls.length = 0;
      answered(await ask(a, b, [listed, randomItem(), randomItem()]));
      expect(b.reciprocity.calls.map((call) => call.units)).to.deep.equal([4, 1]);
    });

    it("sends a cover Fetch after a lookup without filter hits at coverFetchRate 1, none at 0, and answers without waiting for it", async () => {
      const fetches = b.store.fetches.length;
      const none = answered(await ask(a, b, [randomItem()], [1], { coverFetchRate: 0 }));
      expect(none.fetchQueryIds).to.have.length(0);
      expect(none).to.not.have.property("coverFetchQueryId");
      // The provider's store holds every Fetch: the outcome still comes, the decoy still in flight.
      b.store.hold();
      const before = b.outbox.records.length;
      const cover = answered(await ask(a, b, [randomItem()], [1], { coverFetchRate: 1 }));
      expect(cover.results).to.deep.equal([{ hit: false }]);
      expect(cover.fetchQueryIds, "no filter hit, so no real Fetch").to.have.length(0);
      expect(cover.coverFetchQueryId, "the cover fetch's query id").to.match(/^0x[0-9a-f]{64}$/);
      expect(a.journal.records.some((r) => r.queryId === cover.coverFetchQueryId), "journaled before the outcome").to.equal(true);
      expect(b.outbox.records.slice(before).map((r) => r.queryId), "only the Evaluate recorded so far").to.deep.equal([cover.queryId]);
      b.store.release();
      await a.lookup.idle();
      expect(b.outbox.records.slice(before).map((r) => [r.queryId, r.kind]), "the cover recorded once answered").to.deep.equal([[cover.queryId, 0], [cover.coverFetchQueryId, 1]]);
      expect(b.store.fetches.length).to.equal(fetches + 1);
    });

    it("measures a 1-item lookup on loopback", async () => {
      const samples: number[] = [];
      for (let i = 0; i < 30; i += 1) {
        const started = performance.now();
        answered(await ask(a, b));
        samples.push(performance.now() - started);
      }
      samples.sort((x, y) => x - y);
      console.log(`      (1-item lookup, 30 runs: p50 ${samples[15]!.toFixed(1)} ms, p90 ${samples[27]!.toFixed(1)} ms)`);
    });

    it("queues lookups beyond the per-connection stream limit instead of failing them", async () => {
      const burst = MAX_OUTBOUND_STREAMS + 8;
      const outcomes = await Promise.all(Array.from({ length: burst }, () => ask(a, b, [randomItem()], [1], { timeoutMs: 30_000 })));
      expect(outcomes.filter((o) => o.status !== "answered").map((o) => (o as { code: string }).code)).to.deep.equal([]);
    });

    it("reports a provider that times out as timed out, never as a miss", async () => {
      const listed = randomItem();
      c.store.list(listed, { categoryId: 1 });
      c.store.hold();
      try {
        const outcome = await ask(a, c, [listed], [1], { timeoutMs: 500 });
        expect(outcome).to.include({ status: "timeout", code: "E_TIMEOUT", providerAddress: c.address });
      } finally {
        c.store.release();
      }
    });

    it("refuses to send to a peer that is not the provider named", async () => {
      const outcome = await a.lookup.lookupPeer(c.host.getMultiaddrs(), { providerAddress: b.address, items: [randomItem()], categoryIds: [1] });
      expect(outcome).to.include({ status: "error", code: "E_PEER_UNREACHABLE" });
    });
  });

  describe("versions", () => {
    it("answers a v1 stream with E_PROTOCOL_VERSION", async () => {
      const reply = await rawExchange(a, b, { request: {}, items: [] }, { protocol: LOOKUP_PROTOCOL_V1 });
      expect(reply.kind === "frame" && !reply.frame.ok && reply.frame.error.code).to.equal("E_PROTOCOL_VERSION");
    });

    it("reports a peer that does not speak v2 as E_PROTOCOL_VERSION, never a miss", async () => {
      const old = await startNode(chain, { filters });
      try {
        await old.host.libp2p.unhandle(LOOKUP_PROTOCOL);
        expect(await ask(a, old)).to.include({ status: "error", code: "E_PROTOCOL_VERSION" });
      } finally {
        await old.stop();
      }
    });
  });

  describe("membership (I-1)", () => {
    it("refuses a non-member's connection before any stream is opened", async () => {
      const before = a.outbox.records.length;
      const outcome = await ask(outsider, a);
      expect(outcome).to.include({ status: "error", code: "E_PEER_UNREACHABLE" });
      expect(a.outbox.records.length, "nothing reached the provider").to.equal(before);
    });

    it("refuses a member suspended mid-test on its open connection, recording the refusal with the connected peer", async () => {
      answered(await ask(c, a));
      chain.remove(c.address);
      try {
        const denied = await ask(c, a);
        expect(denied).to.include({ status: "denied", code: "E_NOT_MEMBER" });
        const record = a.outbox.records.at(-1)!;
        expect(record).to.include({ outcome: QueryOutcome.DeniedNotMember, queryId: denied.queryId, keyEpoch: 0 });
        expect(record.request.querier).to.equal(c.address);
      } finally {
        chain.add(c.address);
      }
    });
  });

  describe("refusals, each recorded with its outcome and the connected peer", () => {
    const rows: { name: string; code: string; outcome: number; build: () => Promise<object> }[] = [
      { name: "a request signed for another querier", code: "E_BAD_SIGNATURE", outcome: QueryOutcome.DeniedBadSignature, build: () => buildRequestFrame(c.wallet, { querier: c.address, provider: b.address }) },
      { name: "a request for another provider", code: "E_BAD_REQUEST", outcome: QueryOutcome.DeniedBadRequest, build: () => buildRequestFrame(a.wallet, { provider: c.address }) },
      { name: "a deadline too far ahead", code: "E_BAD_REQUEST", outcome: QueryOutcome.DeniedBadRequest, build: () => buildRequestFrame(a.wallet, { provider: b.address, deadline: BigInt(NOW + 3_600) }) },
      { name: "a past deadline", code: "E_EXPIRED", outcome: QueryOutcome.DeniedExpired, build: () => buildRequestFrame(a.wallet, { provider: b.address, deadline: BigInt(NOW - 1) }) },
      { name: "an itemCount other than the elements sent", code: "E_BAD_REQUEST", outcome: QueryOutcome.DeniedBadRequest, build: async () => buildRequestFrame(a.wallet, { provider: b.address, elements: randomElements(2, await testVoprf()), itemCount: 4 }) },
      { name: "an element count that is not a shape (3)", code: "E_BAD_REQUEST", outcome: QueryOutcome.DeniedBadRequest, build: async () => buildRequestFrame(a.wallet, { provider: b.address, elements: randomElements(3, await testVoprf()) }) },
      { name: "elements that do not open the commitment", code: "E_BAD_REQUEST", outcome: QueryOutcome.DeniedBadRequest, build: () => buildRequestFrame(a.wallet, { provider: b.address, commitment: `0x${"11".repeat(32)}` }) },
      { name: "an element that is not a ristretto255 encoding", code: "E_BAD_REQUEST", outcome: QueryOutcome.DeniedBadRequest, build: () => buildRequestFrame(a.wallet, { provider: b.address, elements: [new Uint8Array(32).fill(0xff)] }) },
      { name: "the identity element", code: "E_BAD_REQUEST", outcome: QueryOutcome.DeniedBadRequest, build: () => buildRequestFrame(a.wallet, { provider: b.address, elements: [new Uint8Array(32)] }) },
      { name: "a Fetch naming two categories", code: "E_BAD_REQUEST", outcome: QueryOutcome.DeniedBadRequest, build: () => buildRequestFrame(a.wallet, { provider: b.address, kind: 1, categoryIds: [1, 2] }) },
      { name: "a Fetch prefix longer than the bucket bits", code: "E_BAD_REQUEST", outcome: QueryOutcome.DeniedBadRequest, build: () => buildRequestFrame(a.wallet, { provider: b.address, kind: 1, prefixes: [{ bits: 20, value: 0n }] }) },
      { name: "a non-canonical prefix", code: "E_BAD_REQUEST", outcome: QueryOutcome.DeniedBadRequest, build: () => buildRequestFrame(a.wallet, { provider: b.address, kind: 1, prefixes: [{ bits: 0, value: 1n }] }) },
      { name: "a nonce of 0 (counters start at 1)", code: "E_BAD_REQUEST", outcome: QueryOutcome.DeniedBadRequest, build: () => buildRequestFrame(a.wallet, { provider: b.address, nonce: nonceToBytes32(0n) }) },
      { name: "a nonce of 2^64 or more (32 random bytes)", code: "E_BAD_REQUEST", outcome: QueryOutcome.DeniedBadRequest, build: () => buildRequestFrame(a.wallet, { provider: b.address, nonce: `0x${"ab".repeat(32)}` }) },
    ];
    for (const row of rows) {
      it(`${row.name} → ${row.code}`, async () => {
        const frame = await row.build();
        const before = b.outbox.records.length;
        const reply = await rawExchange(a, b, frame);
        expect(reply.kind === "frame" && !reply.frame.ok && reply.frame.error.code).to.equal(row.code);
        expect(b.outbox.records.length, "recorded").to.equal(before + 1);
        const record = b.outbox.records.at(-1)!;
        expect(record).to.include({ outcome: row.outcome, keyEpoch: 0, count: 1, answerDigest: refusalDigest(row.code) });
        expect(record.request.querier, "attributed to the connected peer").to.equal(a.address);
        expect(record.queryId, "the id of the request as recorded").to.equal(lookupRequestDigest(CHAIN_ID, LEDGER, record.request));
      });
    }

    it("records a request claiming another querier — the regulator included — against the connected peer, whoever signed it", async () => {
      const regulator = Wallet.createRandom();
      for (const [claimed, signer] of [[c.address, c.wallet], [regulator.address, regulator], [regulator.address, a.wallet]] as const) {
        const frame = await buildRequestFrame(signer as Wallet, { querier: claimed, provider: b.address });
        const before = b.outbox.records.length;
        const reply = await rawExchange(a, b, frame);
        expect(reply.kind === "frame" && !reply.frame.ok && reply.frame.error.code, claimed).to.equal("E_BAD_SIGNATURE");
        expect(b.outbox.records.length, claimed).to.equal(before + 1);
        const record = b.outbox.records.at(-1)!;
        expect(record.request.querier, `claimed ${claimed}`).to.equal(a.address);
        expect(record.outcome).to.equal(QueryOutcome.DeniedBadSignature);
        expect(record.queryId).to.equal(lookupRequestDigest(CHAIN_ID, LEDGER, { ...fromWireRequest(frame.request), querier: a.address }));
      }
    });

    it("binds an answer's record to the LookupAnswer it signed: same key epoch, item count and answer digest", async () => {
      const frame = await buildRequestFrame(a.wallet, { provider: b.address, elements: randomElements(2, await testVoprf()) });
      const reply = await rawExchange(a, b, frame);
      if (reply.kind !== "frame" || !reply.frame.ok) expect.fail("expected an answer");
      const record = b.outbox.records.at(-1)!;
      expect(record).to.include({ queryId: reply.frame.answer.queryId, outcome: QueryOutcome.Answered, count: 1, keyEpoch: reply.frame.answer.keyEpoch, itemCount: reply.frame.answer.itemCount });
      expect(record.answerDigest).to.equal(reply.frame.answer.answerDigest);
    });

    it("reciprocity denied → E_RECIPROCITY, recorded", async () => {
      b.reciprocity.decision = { allowed: false, reason: "no_contribution", categoryId: 1 };
      try {
        const outcome = await ask(a, b);
        expect(outcome).to.include({ status: "denied", code: "E_RECIPROCITY" });
        expect(b.outbox.records.at(-1)).to.include({ outcome: QueryOutcome.DeniedReciprocity, queryId: outcome.queryId });
        expect(a.journal.answers.has(outcome.queryId!), "a refusal leaves no signed answer in the journal").to.equal(false);
      } finally {
        b.reciprocity.decision = { allowed: true, quotaRemaining: 10 };
      }
    });

    it("a nonce 256 or more below the highest seen from the querier → E_REPLAY; one just inside the window is answered", async () => {
      // The querier's counter moved on (e.g. after a restart it continues above its reserved mark).
      let highest = 0n;
      for (let i = 0; i < 300; i++) highest = nextPairNonce(a.address, b.address);
      const first = await rawExchange(a, b, await buildRequestFrame(a.wallet, { provider: b.address, nonce: nonceToBytes32(highest) }));
      expect(first.kind === "frame" && first.frame.ok).to.equal(true);
      const below = await rawExchange(a, b, await buildRequestFrame(a.wallet, { provider: b.address, nonce: nonceToBytes32(highest - 256n) }));
      expect(below.kind === "frame" && !below.frame.ok && below.frame.error.code).to.equal("E_REPLAY");
      expect(b.outbox.records.at(-1)).to.include({ outcome: QueryOutcome.DeniedReplay });
      const inside = await rawExchange(a, b, await buildRequestFrame(a.wallet, { provider: b.address, nonce: nonceToBytes32(highest - 255n) }));
      expect(inside.kind === "frame" && inside.frame.ok, "unseen, in the window: out of order is fine").to.equal(true);
    });

    it("an Evaluate its querier's credits do not cover → E_CREDITS_EXHAUSTED (DeniedCredits), before the quota counts it; a Fetch is not metered", async () => {
      b.credits.set(a.address.toLowerCase(), 3n);
      try {
        const calls = b.reciprocity.calls.length;
        const frame = await buildRequestFrame(a.wallet, { provider: b.address, elements: randomElements(4, await testVoprf()) });
        const reply = await rawExchange(a, b, frame);
        expect(reply.kind === "frame" && !reply.frame.ok && reply.frame.error.code).to.equal("E_CREDITS_EXHAUSTED");
        expect(b.outbox.records.at(-1)).to.include({ outcome: QueryOutcome.DeniedCredits, answerDigest: refusalDigest("E_CREDITS_EXHAUSTED") });
        expect(b.reciprocity.calls.length, "no quota counted for a refused request").to.equal(calls);
        const two = await rawExchange(a, b, await buildRequestFrame(a.wallet, { provider: b.address, elements: randomElements(2, await testVoprf()) }));
        expect(two.kind === "frame" && two.frame.ok, "2 items within 3 credits").to.equal(true);
        b.credits.set(a.address.toLowerCase(), 0n);
        const fetch = await rawExchange(a, b, await buildRequestFrame(a.wallet, { provider: b.address, kind: 1 }));
        expect(fetch.kind === "frame" && fetch.frame.ok, "a Fetch moves no credits: answered").to.equal(true);
      } finally {
        b.credits.delete(a.address.toLowerCase());
      }
    });

    it("a replayed request (same nonce) → E_REPLAY", async () => {
      const frame = await buildRequestFrame(a.wallet, { provider: b.address });
      const first = await rawExchange(a, b, frame);
      expect(first.kind === "frame" && first.frame.ok).to.equal(true);
      const again = await rawExchange(a, b, frame);
      expect(again.kind === "frame" && !again.frame.ok && again.frame.error.code).to.equal("E_REPLAY");
      expect(b.outbox.records.at(-1)).to.include({ outcome: QueryOutcome.DeniedReplay });
    });
  });

  describe("the ledger record comes first (I-5)", () => {
    it("does not answer until the outbox append resolved", async () => {
      b.outbox.hold();
      let settled = false;
      const pending = ask(a, b).then((o) => ((settled = true), o));
      const record = await b.outbox.nextAppend();
      expect(record.kind).to.equal(0);
      await new Promise((resolve) => setImmediate(resolve));
      expect(settled, "answered before the record was durable").to.equal(false);
      b.outbox.release();
      answered(await pending);
    });

    it("sends no answer when the outbox append throws, and refuses with its code", async () => {
      b.outbox.failWith = Object.assign(new (await import("../../node/errors.ts")).RiskshareError("E_BACKLOG", "full"));
      try {
        expect(await ask(a, b)).to.include({ status: "denied", code: "E_BACKLOG" });
      } finally {
        b.outbox.failWith = undefined;
      }
    });
  });

  describe("frames", () => {
    it("answers an oversized frame with E_FRAME_TOO_LARGE (or resets it) and keeps serving", async () => {
      const reply = await rawExchange(a, b, { framed: new Uint8Array(MAX_FRAME_BYTES + 1).fill(0x20) }, { timeoutMs: 10_000 });
      if (reply.kind === "frame") expect(!reply.frame.ok && reply.frame.error.code).to.equal("E_FRAME_TOO_LARGE");
      answered(await ask(a, b));
    });

    it("drops a stream that sends half a frame and waits, once its time is up", async () => {
      const slow = await startNode(chain, { lookup: { timeoutMs: 300 }, filters });
      try {
        const reply = await rawExchange(a, slow, { raw: new Uint8Array([0x90, 0x01, 0x7b]) }, { keepOpen: true, timeoutMs: 5_000 });
        expect(reply.kind).to.equal("closed");
        answered(await ask(a, slow));
      } finally {
        await slow.stop();
      }
    });

    it("refuses more than 1,000 elements as too large", async () => {
      const frame = await buildRequestFrame(a.wallet, { provider: b.address, elements: randomElements(1001, await testVoprf()), itemCount: 1000 });
      const reply = await rawExchange(a, b, frame);
      expect(reply.kind === "frame" && !reply.frame.ok && reply.frame.error.code).to.equal("E_FRAME_TOO_LARGE");
    });
  });

  describe("service lifecycle", () => {
    it("will not build without every component", async () => {
      const { lookup } = await import("../../node/p2p/index.ts");
      expect(() => lookup({ chainId: 1n, queryLedgerAddress: a.address })({} as never)).to.throw(/component/);
    });

    it("refuses a malformed query at the caller with E_BAD_INPUT", async () => {
      for (const query of [
        { providerAddress: "0x1", items: [randomItem()], categoryIds: [1] },
        { providerAddress: b.address, items: [], categoryIds: [1] },
        { providerAddress: b.address, items: [randomItem()], categoryIds: [64] },
        { providerAddress: b.address, items: Array.from({ length: 1001 }, () => randomItem()), categoryIds: [1] },
      ]) {
        await a.lookup.lookupPeer(b.host.getMultiaddrs(), query).then(() => expect.fail("accepted"), (err: { code?: string }) => expect(err.code).to.equal("E_BAD_INPUT"));
      }
    });
  });
});
