import { expect } from "chai";
import { getAddress } from "ethers";
import { lookupRequestDigest, recoverLookupRequestSigner, recoverLookupAnswerSigner } from "../../node/chain/eip712.ts";
import { QueryOutcome } from "../../node/chain/outcomes.ts";
import { RiskshareError } from "../../node/errors.ts";
import { silentLogger } from "../../node/logger.ts";
import {
  encodeFrame, fromWireRequest, lookup, LOOKUP_PROTOCOL, lookupResponseFrame, MAX_FRAME_BYTES, MAX_ITEMS_PER_REQUEST, MAX_OUTBOUND_STREAMS, MAX_PROVIDER_REF_CHARS, MAX_REASON_CHARS,
  peerIdBytes, peerIdFromBytes, peerIdFromEvmKey, peerIdToAddress, resultsDigest, encodeResults, signedAnswerOf,
  type AnsweredLookup, type LookupOutcome, type LookupResult,
} from "../../node/p2p/index.ts";
import {
  buildRequestFrame, CHAIN_ID, FakeMembership, hit, LEDGER, NOW, randomItem, rawExchange, startNode, stopAll, type Member,
} from "./p2p.fixtures.ts";

function answered(outcome: LookupOutcome): AnsweredLookup {
  if (outcome.status !== "answered") throw new Error(`expected an answer, got ${outcome.status} ${outcome.code}: ${outcome.message}`);
  return outcome;
}

describe("p2p: lookup protocol between members", function () {
  this.timeout(20_000);
  const membership = new FakeMembership();
  let a: Member, b: Member, c: Member, outsider: Member;

  before(async () => {
    [a, b, c] = await Promise.all([startNode(membership), startNode(membership), startNode(membership)]);
    outsider = await startNode(membership, { member: false });
  });
  after(async () => {
    await stopAll([a, b, c, outsider]);
  });
  afterEach(() => {
    for (const node of [a, b, c]) {
      membership.add(node.address);
      node.outbox.failWith = undefined;
      node.outbox.release();
      node.entries.release();
      node.reciprocity.decision = { allowed: true, quotaRemaining: 10 };
      node.clock.now = NOW;
    }
  });

  describe("identity", () => {
    it("binds each PeerId to its member's EVM address", () => {
      for (const node of [a, b, c]) {
        expect(peerIdToAddress(node.host.peerId)).to.equal(node.address);
        expect(node.host.address).to.equal(node.address);
        expect(peerIdFromEvmKey(node.wallet.privateKey).toString()).to.equal(node.host.peerId.toString());
        expect(peerIdFromBytes(peerIdBytes(node.host.peerId)).toString()).to.equal(node.host.peerId.toString());
      }
    });
  });

  describe("answers", () => {
    it("finds hits and misses across three members, each answer signed and recorded before it left", async () => {
      const onB = randomItem("phone");
      const onC = randomItem("bank_card");
      const nowhere = randomItem("device_id");
      const onBOtherCategory = randomItem("email");
      b.entries.byHash.set(onB.hash, hit(1, { providerRef: "b-17" }));
      b.entries.byHash.set(onBOtherCategory.hash, hit(5));
      c.entries.byHash.set(onC.hash, hit(2, { level: 2, expiresAt: undefined, providerRef: undefined }));
      const items = [onB, onC, nowhere, onBOtherCategory];
      const bRecords = b.outbox.records.length;
      const cRecords = c.outbox.records.length;

      const outcomes = await a.lookup.fanOut(
        [{ peer: b.host.getMultiaddrs(), providerAddress: b.address }, { peer: c.host.getMultiaddrs(), providerAddress: c.address }],
        { items, categoryIds: [1, 2] },
        { timeoutMsPerPeer: 5_000 },
      );
      const [fromB, fromC] = outcomes.map(answered);
      expect(fromB!.results.map((r) => r.hit)).to.deep.equal([true, false, false, false]);
      expect(fromC!.results.map((r) => r.hit)).to.deep.equal([false, true, false, false]);
      expect(fromB!.results[0]).to.deep.equal(hit(1, { providerRef: "b-17" }));
      expect(recoverLookupAnswerSigner(CHAIN_ID, LEDGER, signedAnswerOf(fromB!.answer, fromB!.request.itemCount), fromB!.answerSignature)).to.equal(b.address);
      expect(fromB!.answer.resultsDigest).to.equal(resultsDigest(fromB!.results));


      // each provider recorded exactly this query, answered, before answering
      expect(b.outbox.records.length).to.equal(bRecords + 1);
      expect(c.outbox.records.length).to.equal(cRecords + 1);
      const record = b.outbox.records.at(-1)!;
      expect(record).to.include({ queryId: fromB!.queryId, outcome: QueryOutcome.Answered, hitCount: 1, receivedAt: NOW, signature: fromB!.signature });
      expect(recoverLookupRequestSigner(CHAIN_ID, LEDGER, record.request, record.signature)).to.equal(a.address);
      expect(b.reciprocity.calls.at(-1)).to.deep.equal({ querier: a.address, categoryIds: [1, 2] });

      // the querier journaled what opens each commitment
      const journaled = a.journal.records.slice(-2);
      expect(journaled.map((j) => j.queryId)).to.have.members([fromB!.queryId, fromC!.queryId]);
      for (const entry of journaled) {
        expect(entry.items, "journal items").to.deep.equal(items);
        expect(lookupRequestDigest(CHAIN_ID, LEDGER, entry.request), "journal query id").to.equal(entry.queryId);
      }
    });

    it("answers a full batch of 1,000 items", async () => {
      const items = Array.from({ length: MAX_ITEMS_PER_REQUEST }, () => randomItem());
      b.entries.byHash.set(items[999]!.hash, hit(1));
      const started = performance.now();
      const outcome = answered(await a.lookup.lookupPeer(b.host.getMultiaddrs(), { providerAddress: b.address, items, categoryIds: [1] }));
      const elapsedMs = performance.now() - started;
      expect(outcome.results).to.have.length(1_000);
      expect(outcome.answer.hitCount).to.equal(1);
      expect(outcome.results[999]!.hit).to.equal(true);
      console.log(`      (1,000-item lookup round trip: ${elapsedMs.toFixed(1)} ms)`);
    });

    it("queues lookups beyond the per-connection stream limit instead of failing them", async () => {
      const burst = MAX_OUTBOUND_STREAMS * 2 + 8;
      const outcomes = await Promise.all(Array.from({ length: burst }, () =>
        a.lookup.lookupPeer(b.host.getMultiaddrs(), { providerAddress: b.address, items: [randomItem()], categoryIds: [1] }, { timeoutMs: 30_000 })));
      expect(outcomes.filter((o) => o.status !== "answered").map((o) => (o as { code: string }).code)).to.deep.equal([]);
    });

    it("reports a provider that times out as timed out, never as a miss", async () => {
      c.entries.hold();
      const item = randomItem();
      b.entries.byHash.set(item.hash, hit(1));
      const outcomes = await a.lookup.fanOut(
        [{ peer: b.host.getMultiaddrs(), providerAddress: b.address }, { peer: c.host.getMultiaddrs(), providerAddress: c.address }],
        { items: [item], categoryIds: [1] },
        { timeoutMsPerPeer: 300 },
      );
      c.entries.release();
      expect(outcomes[0]!.status).to.equal("answered");
      expect(outcomes[1]).to.include({ status: "timeout", code: "E_TIMEOUT", providerAddress: c.address });
    });

    it("refuses to send to a peer that is not the provider named", async () => {
      const outcome = await a.lookup.lookupPeer(c.host.getMultiaddrs(), { providerAddress: b.address, items: [randomItem()], categoryIds: [1] });
      expect(outcome).to.include({ status: "error", code: "E_PEER_UNREACHABLE" });
    });
  });

  describe("membership (I-1)", () => {
    it("refuses a non-member's connection before any stream is opened", async () => {
      const before = a.outbox.records.length;
      // The Noise handshake completes (that is how the provider learns who is calling), then the
      // provider's gater drops the connection: whatever the dialer manages to start, no stream opens.
      let streamOpened = false;
      try {
        const connection = await outsider.host.libp2p.dial(a.host.getMultiaddrs(), { signal: AbortSignal.timeout(5_000) });
        const stream = await connection.newStream(LOOKUP_PROTOCOL, { signal: AbortSignal.timeout(5_000) });
        stream.abort(new Error("test"));
        streamOpened = true;
      } catch {
        streamOpened = false;
      }
      expect(streamOpened, "a stream from a non-member").to.equal(false);
      const outcome = await outsider.lookup.lookupPeer(a.host.getMultiaddrs(), { providerAddress: a.address, items: [randomItem()], categoryIds: [1] });
      expect(outcome).to.include({ status: "error", code: "E_PEER_UNREACHABLE" });
      expect(a.outbox.records.length, "nothing reached the provider").to.equal(before);
      expect(a.host.libp2p.getConnections(outsider.host.peerId)).to.deep.equal([]);
    });

    it("refuses a member suspended mid-test, on its open connection and on every new one", async () => {
      answered(await c.lookup.lookupPeer(a.host.getMultiaddrs(), { providerAddress: a.address, items: [randomItem()], categoryIds: [1] }));
      expect(a.host.libp2p.getConnections(c.host.peerId).length).to.be.greaterThan(0);

      membership.remove(c.address);
      const denied = await c.lookup.lookupPeer(a.host.getMultiaddrs(), { providerAddress: a.address, items: [randomItem()], categoryIds: [1] });
      expect(denied).to.include({ status: "denied", code: "E_NOT_MEMBER" });
      expect(a.outbox.records.at(-1)).to.include({ outcome: QueryOutcome.DeniedNotMember, queryId: denied.queryId });

      expect(await a.host.disconnectInactive()).to.equal(1);
      expect(await b.host.disconnectInactive()).to.equal(b.host.libp2p.getConnections(c.host.peerId).length);
      const afterwards = await c.lookup.lookupPeer(a.host.getMultiaddrs(), { providerAddress: a.address, items: [randomItem()], categoryIds: [1] });
      expect(afterwards).to.include({ status: "error", code: "E_PEER_UNREACHABLE" });

      membership.add(c.address);
      answered(await c.lookup.lookupPeer(a.host.getMultiaddrs(), { providerAddress: a.address, items: [randomItem()], categoryIds: [1] }));
    });
  });

  describe("refusals, each recorded with its outcome", () => {
    const cases: {
      name: string;
      build: () => Promise<object>;
      setup?: () => void;
      code: string;
      outcome: number | undefined;
    }[] = [
      { name: "a signature by another key", build: () => buildRequestFrame(outsider.wallet, { querier: a.address, provider: b.address }), code: "E_BAD_SIGNATURE", outcome: QueryOutcome.DeniedBadSignature },
      { name: "a request another member signed", build: () => buildRequestFrame(c.wallet, { provider: b.address }), code: "E_BAD_SIGNATURE", outcome: QueryOutcome.DeniedBadSignature },
      {
        name: "a signature that recovers nothing",
        build: async () => ({ ...(await buildRequestFrame(a.wallet, { provider: b.address })), signature: `0x${"00".repeat(65)}` }),
        code: "E_BAD_SIGNATURE",
        outcome: QueryOutcome.DeniedBadSignature,
      },
      { name: "a request for another provider", build: () => buildRequestFrame(a.wallet, { provider: c.address }), code: "E_BAD_REQUEST", outcome: QueryOutcome.DeniedBadRequest },
      { name: "a passed deadline", build: () => buildRequestFrame(a.wallet, { provider: b.address, deadline: BigInt(NOW - 1) }), code: "E_EXPIRED", outcome: QueryOutcome.DeniedExpired },
      { name: "a deadline too far ahead", build: () => buildRequestFrame(a.wallet, { provider: b.address, deadline: BigInt(NOW + 3_600) }), code: "E_BAD_REQUEST", outcome: QueryOutcome.DeniedBadRequest },
      { name: "an item count that lies", build: () => buildRequestFrame(a.wallet, { provider: b.address, itemCount: 2 }), code: "E_BAD_REQUEST", outcome: QueryOutcome.DeniedBadRequest },
      {
        name: "items that do not open the commitment",
        build: async () => ({ ...(await buildRequestFrame(a.wallet, { provider: b.address })), items: [randomItem()] }),
        code: "E_BAD_REQUEST",
        outcome: QueryOutcome.DeniedBadRequest,
      },
      {
        name: "reciprocity: no fresh contribution",
        setup: () => { b.reciprocity.decision = { allowed: false, reason: "snapshot_stale", categoryId: 1 }; },
        build: () => buildRequestFrame(a.wallet, { provider: b.address }),
        code: "E_RECIPROCITY",
        outcome: QueryOutcome.DeniedReciprocity,
      },
      {
        name: "reciprocity: quota used up",
        setup: () => { b.reciprocity.decision = { allowed: false, reason: "quota_exceeded", categoryId: 1 }; },
        build: () => buildRequestFrame(a.wallet, { provider: b.address }),
        code: "E_QUOTA",
        outcome: QueryOutcome.DeniedQuota,
      },
      {
        name: "reciprocity: inactive category",
        setup: () => { b.reciprocity.decision = { allowed: false, reason: "category_inactive", categoryId: 1 }; },
        build: () => buildRequestFrame(a.wallet, { provider: b.address }),
        code: "E_CATEGORY_UNKNOWN",
        outcome: QueryOutcome.DeniedCategory,
      },
      { name: "a malformed frame (not recorded: nothing to record)", build: async () => ({ hello: "world" }), code: "E_PROTOCOL", outcome: undefined },
      {
        name: "more than 1,000 items",
        build: async () => {
          const frame = await buildRequestFrame(a.wallet, { provider: b.address });
          return { ...frame, items: Array.from({ length: MAX_ITEMS_PER_REQUEST + 1 }, () => randomItem()) };
        },
        code: "E_FRAME_TOO_LARGE",
        outcome: undefined,
      },
    ];
    for (const row of cases) {
      it(`${row.name} → ${row.code}`, async () => {
        row.setup?.();
        const frame = await row.build();
        const before = b.outbox.records.length;
        const reply = await rawExchange(a, b, frame);
        expect(reply.kind, row.name).to.equal("frame");
        if (reply.kind !== "frame" || reply.frame.ok) throw new Error(`${row.name}: expected an error frame`);
        expect(reply.frame.error.code, row.name).to.equal(row.code);
        if (row.outcome === undefined) {
          expect(b.outbox.records.length, `${row.name}: nothing recorded`).to.equal(before);
        } else {
          expect(b.outbox.records.length, `${row.name}: one record`).to.equal(before + 1);
          const record = b.outbox.records.at(-1)!;
          expect(record.outcome, row.name).to.equal(row.outcome);
          expect(record.hitCount, row.name).to.equal(0);
          expect(record.queryId, row.name).to.equal(lookupRequestDigest(CHAIN_ID, LEDGER, fromWireRequest((frame as { request: never }).request)));
        }
      });
    }

    it("a replayed request (same nonce) → E_REPLAY", async () => {
      const frame = await buildRequestFrame(a.wallet, { provider: b.address });
      const first = await rawExchange(a, b, frame);
      expect(first.kind === "frame" && first.frame.ok, "first request answered").to.equal(true);
      const second = await rawExchange(a, b, frame);
      expect(second.kind === "frame" && !second.frame.ok && second.frame.error.code).to.equal("E_REPLAY");
      expect(b.outbox.records.at(-1)!.outcome).to.equal(QueryOutcome.DeniedReplay);
    });

    it("a request past its deadline by the provider's clock → E_EXPIRED (the querier's client reports it as denied)", async () => {
      b.clock.now = NOW + 61; // the client signs deadline = NOW + 60 by its own clock
      const outcome = await a.lookup.lookupPeer(b.host.getMultiaddrs(), { providerAddress: b.address, items: [randomItem()], categoryIds: [1] });
      expect(outcome).to.include({ status: "denied", code: "E_EXPIRED" });
    });
  });

  describe("the ledger record comes first (I-5)", () => {
    it("does not answer until the outbox append resolved", async () => {
      b.outbox.hold();
      let settled = false;
      const pending = a.lookup.lookupPeer(b.host.getMultiaddrs(), { providerAddress: b.address, items: [randomItem()], categoryIds: [1] })
        .finally(() => { settled = true; });
      const record = await b.outbox.nextAppend();
      expect(record.outcome).to.equal(QueryOutcome.Answered);
      // give the network every chance to deliver an answer that should not exist yet
      for (let turn = 0; turn < 50; turn += 1) await new Promise((resolve) => setImmediate(resolve));
      expect(settled, "the client must not have an answer before the record is durable").to.equal(false);
      b.outbox.release();
      const outcome = answered(await pending);
      expect(outcome.queryId).to.equal(record.queryId);
    });

    it("sends no answer when the outbox append throws", async () => {
      b.outbox.failWith = new Error("disk on fire");
      const outcome = await a.lookup.lookupPeer(b.host.getMultiaddrs(), { providerAddress: b.address, items: [randomItem()], categoryIds: [1] });
      expect(outcome).to.include({ status: "denied", code: "E_INTERNAL" });
    });

    it("refuses with E_BACKLOG and records nothing while the backlog is full", async () => {
      b.outbox.failWith = new RiskshareError("E_BACKLOG", "outbox full");
      const before = b.outbox.records.length;
      const outcome = await a.lookup.lookupPeer(b.host.getMultiaddrs(), { providerAddress: b.address, items: [randomItem()], categoryIds: [1] });
      expect(outcome).to.include({ status: "denied", code: "E_BACKLOG" });
      const denial = await rawExchange(a, b, await buildRequestFrame(a.wallet, { provider: b.address, deadline: BigInt(NOW - 5) }));
      expect(denial.kind === "frame" && !denial.frame.ok && denial.frame.error.code, "a denial too").to.equal("E_BACKLOG");
      expect(b.outbox.records.length).to.equal(before);
    });
  });

  describe("frames", () => {
    it("resets an oversized frame and keeps serving", async () => {
      const oversized = new Uint8Array(MAX_FRAME_BYTES + 1).fill(0x20);
      const reply = await rawExchange(a, b, { framed: oversized });
      if (reply.kind === "frame") expect(!reply.frame.ok && reply.frame.error.code).to.equal("E_FRAME_TOO_LARGE");
      answered(await a.lookup.lookupPeer(b.host.getMultiaddrs(), { providerAddress: b.address, items: [randomItem()], categoryIds: [1] }));
    });

    it("drops a stream that sends half a frame and waits, once its time is up", async () => {
      const slow = await startNode(membership, { lookup: { timeoutMs: 300 } });
      try {
        const half = new Uint8Array([0x90, 0x01, 0x7b]); // announces 144 bytes, sends 1
        const reply = await rawExchange(a, slow, { raw: half }, { keepOpen: true, timeoutMs: 5_000 });
        expect(reply.kind).to.equal("closed");
        answered(await a.lookup.lookupPeer(slow.host.getMultiaddrs(), { providerAddress: slow.address, items: [randomItem()], categoryIds: [1] }));
      } finally {
        await slow.stop();
      }
    });

    it("fits the largest possible answer in one frame", () => {
      const longest: LookupResult = hit(63, {
        level: 5, reason: "\"".repeat(MAX_REASON_CHARS), providerRef: "\\".repeat(MAX_PROVIDER_REF_CHARS), reportedAt: Number.MAX_SAFE_INTEGER, expiresAt: Number.MAX_SAFE_INTEGER,
      });
      const results = Array.from({ length: MAX_ITEMS_PER_REQUEST }, () => longest);
      const frame = { ok: true as const, answer: { queryId: `0x${"ab".repeat(32)}`, provider: a.address, resultsDigest: resultsDigest(results), hitCount: results.length }, answerSignature: `0x${"cd".repeat(65)}`, results };
      const bytes = encodeFrame(frame, lookupResponseFrame, MAX_FRAME_BYTES);
      expect(bytes.byteLength).to.be.below(MAX_FRAME_BYTES);
    });
  });

  describe("results digest", () => {
    it("encodes misses, hits and optional fields distinctly", () => {
      const variants: LookupResult[][] = [
        [],
        [{ hit: false }],
        [{ hit: false }, { hit: false }],
        [hit(1)],
        [hit(1, { expiresAt: undefined })],
        [hit(1, { providerRef: undefined })],
        [hit(1, { providerRef: "x" })],
        [hit(2)],
        [hit(1, { level: 5 })],
        [hit(1, { reason: "chargeback_frauD" })],
        [hit(1), { hit: false }],
        [{ hit: false }, hit(1)],
      ];
      const digests = variants.map(resultsDigest);
      expect(new Set(digests).size).to.equal(variants.length);
      expect(encodeResults([{ hit: false }])).to.deep.equal(Uint8Array.of(0, 0, 0, 1, 0));
    });
  });

  describe("service lifecycle", () => {
    it("stops serving once stopped, and serves again once restarted", async () => {
      await b.lookup.stop();
      const outcome = await a.lookup.lookupPeer(b.host.getMultiaddrs(), { providerAddress: b.address, items: [randomItem()], categoryIds: [1] });
      expect(outcome).to.include({ status: "error", code: "E_PEER_UNREACHABLE" });
      await b.lookup.start();
      answered(await a.lookup.lookupPeer(b.host.getMultiaddrs(), { providerAddress: b.address, items: [randomItem()], categoryIds: [1] }));
    });

    it("aborts lookups in flight when stopped", async () => {
      b.entries.hold();
      const pending = c.lookup.lookupPeer(b.host.getMultiaddrs(), { providerAddress: b.address, items: [randomItem()], categoryIds: [1] });
      await c.lookup.stop();
      expect(await pending).to.include({ status: "error", code: "E_ABORTED" });
      await c.lookup.start();
    });

    it("will not build without every component", () => {
      const components = { registrar: a.host.libp2p, dialer: a.host.libp2p, membership, signer: a.wallet, outbox: a.outbox, nonceGuard: a.nonces, reciprocity: { decide: () => a.reciprocity.decision }, entries: a.entries, journal: a.journal, logger: silentLogger() };
      for (const name of Object.keys(components)) {
        expect(() => lookup({ chainId: CHAIN_ID, queryLedgerAddress: LEDGER })({ ...components, [name]: undefined } as never), name).to.throw(RiskshareError, name);
      }
    });

    it("refuses a malformed query at the caller with E_BAD_INPUT", async () => {
      for (const query of [
        { providerAddress: b.address, items: [], categoryIds: [1] },
        { providerAddress: b.address, items: [randomItem()], categoryIds: [] },
        { providerAddress: b.address, items: [randomItem()], categoryIds: [64] },
        { providerAddress: "bank b", items: [randomItem()], categoryIds: [1] },
        { providerAddress: b.address, items: [{ type: "phone", hash: "+8613800000000" }], categoryIds: [1] },
      ]) {
        let code: string | undefined;
        try {
          await a.lookup.lookupPeer(b.host.getMultiaddrs(), query);
        } catch (err) {
          code = (err as RiskshareError).code;
        }
        expect(code, JSON.stringify(query.categoryIds) + query.providerAddress).to.equal("E_BAD_INPUT");
      }
    });
  });

  it("uses checksummed addresses throughout", () => {
    expect(getAddress(a.address)).to.equal(a.address);
  });
});
