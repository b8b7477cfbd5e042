/**
 * Feedback on hits (docs/PROTOCOL.md "Feedback"): the report's MAC, the provider's store taking
 * reports (refusing a wrong MAC or an unknown entry, counting each member's confirmation once and
 * re-sealing the entry as a new version), the querier's queue (only kept hits can be reported, each
 * once, marked sent once), which batches are due and their shuffled order, a batch the provider did
 * not acknowledge staying queued, and the decay score raised by confirmations.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { isRiskshareError, RiskshareError } from "../../node/errors.ts";
import { feedbackMac, verifyFeedbackMac, type FeedbackKind } from "../../node/identity/index.ts";
import { silentLogger } from "../../node/logger.ts";
import { Wallet } from "ethers";
import {
  createHost, dueFeedbackBatches, feedback, FeedbackSender, FeedbackService, peerIdFromEvmKey, shuffled, type FeedbackCounts, type FeedbackOutcome, type IncomingReport,
  type OutgoingReport, type RiskshareHost,
} from "../../node/p2p/index.ts";
import { FakeChain } from "./p2p.fixtures.ts";
import { decayScore, DecayModels, type DecayModel } from "../../node/policy/index.ts";
import { createMetadataCipher, metadataAssociatedData, Store, type EntryInput, type KeptHit } from "../../node/store/index.ts";

const PROVIDER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
const MEMBER_B = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC";
const MEMBER_D = "0x90F79bf6EB2c4f870365E785982E1f101E93b906";
const CONTEXT = { chainId: 31337n, providerAddress: PROVIDER, keyEpoch: 1 };
const NOW = 1_750_000_000;
const DAY = 86_400;
const bytes = (n: number) => new Uint8Array(randomBytes(n));

async function expectCode(promise: Promise<unknown>, code: string): Promise<void> {
  let thrown: unknown;
  try {
    await promise;
  } catch (err) {
    thrown = err;
  }
  expect(isRiskshareError(thrown) ? thrown.code : String(thrown)).to.equal(code);
}

describe("feedback report MAC", () => {
  const key = bytes(32);
  const tag = bytes(8);
  const fields = { kind: "confirmed" as FeedbackKind, categoryId: 1, version: 2 };

  it("verifies under the entry's metadata key for its provider, epoch, tag, kind, category and version, and under nothing else", () => {
    const mac = feedbackMac(key, CONTEXT, tag, fields);
    expect(mac.length).to.equal(32);
    expect(verifyFeedbackMac(mac, key, CONTEXT, tag, fields)).to.equal(true);
    expect(verifyFeedbackMac(mac, bytes(32), CONTEXT, tag, fields), "another key: a sender that never evaluated the identifier").to.equal(false);
    expect(verifyFeedbackMac(mac, key, CONTEXT, bytes(8), fields), "another tag").to.equal(false);
    expect(verifyFeedbackMac(mac, key, { ...CONTEXT, keyEpoch: 2 }, tag, fields), "another key epoch").to.equal(false);
    expect(verifyFeedbackMac(mac, key, { ...CONTEXT, providerAddress: MEMBER_B }, tag, fields), "another provider").to.equal(false);
    expect(verifyFeedbackMac(mac, key, { ...CONTEXT, chainId: 1n }, tag, fields), "another chain").to.equal(false);
    expect(verifyFeedbackMac(mac, key, CONTEXT, tag, { ...fields, kind: "false_positive" }), "another kind").to.equal(false);
    expect(verifyFeedbackMac(mac, key, CONTEXT, tag, { ...fields, version: 3 }), "another version").to.equal(false);
    expect(verifyFeedbackMac(mac, key, CONTEXT, tag, { ...fields, categoryId: 2 }), "another category").to.equal(false);
    expect(verifyFeedbackMac(mac.subarray(1), key, CONTEXT, tag, fields), "a truncated MAC").to.equal(false);
  });
});

describe("the provider's store takes feedback reports", () => {
  let dir: string;
  let store: Store;
  const entry = (fields: Partial<EntryInput> = {}): EntryInput => ({
    type: "phone", entryId: bytes(32), tag: bytes(8), metadataKey: bytes(32), categoryId: 1, level: 4, reason: "R01", reportedAtSec: NOW - DAY, ownRef: "C-77", ...fields,
  });
  const report = (e: EntryInput, kind: FeedbackKind = "confirmed", version = 1) => ({
    categoryId: e.categoryId, keyEpoch: 1, tag: e.tag, version, kind, mac: feedbackMac(e.metadataKey, CONTEXT, e.tag, { kind, categoryId: e.categoryId, version }),
  });
  const stored = async (e: EntryInput) => {
    const result = await store.checkOne(e, NOW);
    if (!result.hit) throw new Error("not stored");
    return result.entry;
  };

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "riskshare-feedback-"));
    store = new Store({ location: dir, categories: new Map([["fraud_confirmed", 1], ["mule_account", 2]]), binding: CONTEXT }, { logger: silentLogger() });
    await store.open();
  });
  afterEach(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("refuses a report whose MAC does not verify (E_FEEDBACK_MAC) and one about an entry it does not list (E_FEEDBACK_UNKNOWN_ENTRY); nothing changes", async () => {
    const listed = entry();
    await store.upsert([listed], { nowSec: NOW });
    const forged = { ...report(listed), mac: feedbackMac(bytes(32), CONTEXT, listed.tag, { kind: "confirmed", categoryId: 1, version: 1 }) };
    const outcomes = await store.receiveFeedback(MEMBER_B, [
      forged,
      { ...report(listed), mac: report(listed, "false_positive").mac },
      report(entry()),
      { ...report(listed), categoryId: 2 },
      { ...report(listed), keyEpoch: 2 },
      report(listed, "confirmed", 2),
    ], NOW);
    expect(outcomes).to.deep.equal(["E_FEEDBACK_MAC", "E_FEEDBACK_MAC", "E_FEEDBACK_UNKNOWN_ENTRY", "E_FEEDBACK_UNKNOWN_ENTRY", "E_FEEDBACK_UNKNOWN_ENTRY", "E_FEEDBACK_UNKNOWN_ENTRY"]);
    expect((await stored(listed)).version).to.equal(1);
    expect(await store.receivedFeedback()).to.deep.equal([]);
  });

  it("counts each member's confirmation once, re-seals the entry as version + 1 with the count and date, and keeps them across a list update", async () => {
    const listed = entry();
    await store.upsert([listed], { nowSec: NOW });
    expect(await store.receiveFeedback(MEMBER_B, [report(listed), report(listed)], NOW + 10)).to.deep.equal(["accepted", "accepted"]);
    expect(await stored(listed)).to.include({ version: 2, confirmations: 1, lastConfirmedAtSec: NOW + 10 });
    expect(await store.receiveFeedback(MEMBER_B, [report(listed, "confirmed", 2)], NOW + 20), "the same member again").to.deep.equal(["accepted"]);
    expect(await stored(listed)).to.include({ version: 2, confirmations: 1, lastConfirmedAtSec: NOW + 10 });
    expect(await store.receiveFeedback(MEMBER_D, [report(listed, "confirmed", 1)], NOW + 30), "another member, at the version it opened").to.deep.equal(["accepted"]);
    expect(await stored(listed)).to.include({ version: 3, confirmations: 2, lastConfirmedAtSec: NOW + 30 });
    // What a querier's Fetch opens: the new version's sealed metadata carries the count and date.
    const [bucket] = await store.fetchBuckets(1, [{ bits: 0, value: 0n }], NOW + 40);
    const fetched = bucket!.entries.find((e) => Buffer.from(e.tag).equals(Buffer.from(listed.tag)))!;
    expect(fetched.version).to.equal(3);
    const opened = (await createMetadataCipher()).open(fetched.sealed, listed.metadataKey, metadataAssociatedData(CONTEXT, "phone", 3, listed.tag));
    expect(opened).to.include({ confirmations: 2, lastConfirmedAtSec: NOW + 30, level: 4 });
    // Re-importing the same row changes nothing; a changed row keeps the confirmations.
    expect((await store.upsert([listed], { nowSec: NOW + 50 })).unchanged).to.equal(1);
    await store.upsert([{ ...listed, level: 5 }], { nowSec: NOW + 60 });
    expect(await stored(listed)).to.include({ version: 4, confirmations: 2, level: 5 });
  });

  it("records accepted reports for the operator with kind, category, tag prefix and own reference, never the reporter", async () => {
    const listed = entry();
    await store.upsert([listed], { nowSec: NOW });
    await store.receiveFeedback(MEMBER_B, [report(listed, "false_positive"), report(listed, "outdated")], NOW + 5);
    // Reports received together come back in no particular order among themselves.
    const received = (await store.receivedFeedback()).sort((x, y) => x.kind.localeCompare(y.kind));
    expect(received).to.deep.equal([
      { receivedAtSec: NOW + 5, kind: "false_positive", categoryId: 1, tagPrefix: Buffer.from(listed.tag.subarray(0, 4)).toString("hex"), ownRef: "C-77" },
      { receivedAtSec: NOW + 5, kind: "outdated", categoryId: 1, tagPrefix: Buffer.from(listed.tag.subarray(0, 4)).toString("hex"), ownRef: "C-77" },
    ]);
    expect(JSON.stringify(received).toLowerCase()).to.not.contain(MEMBER_B.slice(2).toLowerCase());
    expect(await stored(listed), "no confirmation, no new version").to.include({ version: 1 });
    expect(await store.receivedFeedback((NOW + 6) * 1000)).to.deep.equal([]);
  });

  it("prunes received reports older than the retention, and the confirmations of entries it no longer holds", async () => {
    const [kept, delisted] = [entry(), entry()];
    await store.upsert([kept, delisted], { nowSec: NOW });
    await store.receiveFeedback(MEMBER_B, [report(kept), report(delisted)], NOW + 5);
    await store.receiveFeedback(MEMBER_D, [report(kept, "outdated", 2)], NOW + 100);
    await store.remove(delisted, { reason: "appeal_upheld", nowSec: NOW + 200 });
    expect(await store.pruneFeedback(NOW + 50)).to.deep.equal({ received: 2, confirmers: 1 });
    expect((await store.receivedFeedback()).map((r) => [r.kind, r.receivedAtSec])).to.deep.equal([["outdated", NOW + 100]]);
    // The kept entry's confirmer is still known: the same member's second confirmation does not count again.
    expect(await store.receiveFeedback(MEMBER_B, [report(kept, "confirmed", 2)], NOW + 300)).to.deep.equal(["accepted"]);
    expect(await stored(kept)).to.include({ version: 2, confirmations: 1 });
    expect(await store.pruneFeedback(NOW + 50), "nothing left to prune").to.deep.equal({ received: 0, confirmers: 0 });
  });
});

describe("the querier's feedback queue", () => {
  let dir: string;
  let store: Store;
  const journalKey = bytes(32);
  const hit = (fields: Partial<KeptHit> = {}): KeptHit => ({
    providerAddress: PROVIDER, categoryId: 1, keyEpoch: 1, tag: bytes(8), metadataKey: bytes(32), queryId: `0x${"ab".repeat(32)}`, keptAtMs: NOW * 1000, version: 3, ...fields,
  });

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "riskshare-feedback-queue-"));
    store = new Store({ location: dir, categories: new Map() }, { logger: silentLogger() });
    await store.open();
  });
  afterEach(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("reports only a kept hit (E_FEEDBACK_UNKNOWN_HIT), once (E_FEEDBACK_DUPLICATE), with a MAC the provider verifies", async () => {
    const hits = store.keptHits({ key: journalKey, chainId: CONTEXT.chainId });
    const found = hit();
    const hitId = await hits.keep(found);
    const legacy = await hits.keep(hit({ version: undefined }));
    await expectCode(hits.queueReport(randomBytes(8).toString("hex"), "confirmed", NOW * 1000), "E_FEEDBACK_UNKNOWN_HIT");
    await expectCode(hits.queueReport("not-a-hit-id", "confirmed", NOW * 1000), "E_FEEDBACK_UNKNOWN_HIT");
    await expectCode(hits.queueReport(legacy, "confirmed", NOW * 1000), "E_FEEDBACK_UNKNOWN_HIT");
    const queued = await hits.queueReport(hitId, "confirmed", NOW * 1000);
    expect(queued).to.include({ hitId, providerAddress: PROVIDER, categoryId: 1, keyEpoch: 1, version: 3, kind: "confirmed" });
    expect(verifyFeedbackMac(Buffer.from(queued.mac, "hex"), found.metadataKey, CONTEXT, found.tag, { kind: "confirmed", categoryId: 1, version: 3 })).to.equal(true);
    await expectCode(hits.queueReport(hitId, "false_positive", NOW * 1000), "E_FEEDBACK_DUPLICATE");
    // Survives a restart (sealed at rest), and is marked sent exactly once.
    const reloaded = store.keptHits({ key: journalKey, chainId: CONTEXT.chainId });
    await reloaded.load();
    expect((await reloaded.reports()).map((r) => r.reportId)).to.deep.equal([queued.reportId]);
    expect(await reloaded.markSent(new Map([[queued.reportId, "accepted"]]), NOW * 1000 + 1)).to.equal(1);
    expect(await reloaded.markSent(new Map([[queued.reportId, "E_FEEDBACK_MAC"]]), NOW * 1000 + 2)).to.equal(0);
    expect((await reloaded.reports())[0]).to.include({ sentAtMs: NOW * 1000 + 1, outcome: "accepted" });
    expect(await reloaded.markCounted([queued.reportId], NOW * 1000 + 3)).to.equal(1);
    expect(await reloaded.markCounted([queued.reportId], NOW * 1000 + 4), "counted once").to.equal(0);
    expect((await reloaded.reports())[0]).to.include({ countedAtMs: NOW * 1000 + 3 });
    for await (const [, value] of store.sublevel<{ sealed: string }>("hits" as never).iterator()) expect(JSON.stringify(value), "sealed at rest").to.not.contain(queued.mac);
  });
});

describe("feedback batches", () => {
  const queued = (n: number, provider = PROVIDER, atMs = NOW * 1000): OutgoingReport[] => Array.from({ length: n }, (_, i) => ({
    reportId: `${provider.slice(2, 6)}${i.toString().padStart(12, "0")}`, providerAddress: provider, categoryId: 1, keyEpoch: 1, tag: "00".repeat(8), version: 1,
    kind: "confirmed" as const, mac: "00".repeat(32), queuedAtMs: atMs + i,
  }));
  const rule = { minBatch: 5, maxWaitDays: 30 };
  const ids = (reports: readonly OutgoingReport[]) => reports.map((r) => r.reportId);

  it("wait until 5 are queued for a provider or the oldest is 30 days old; sent ones do not count", () => {
    const nowMs = NOW * 1000 + 1000;
    expect(dueFeedbackBatches(queued(4), nowMs, rule).size, "4 fresh").to.equal(0);
    expect(ids(dueFeedbackBatches(queued(5), nowMs, rule).get(PROVIDER.toLowerCase())![0]!).sort(), "5").to.deep.equal(ids(queued(5)).sort());
    const four = queued(4);
    expect(dueFeedbackBatches(four, four[0]!.queuedAtMs + 30 * DAY * 1000 - 1, rule).size, "just under 30 days").to.equal(0);
    expect(dueFeedbackBatches(four, four[0]!.queuedAtMs + 30 * DAY * 1000, rule).size, "30 days").to.equal(1);
    const withSent = [...queued(4), { ...queued(5)[4]!, reportId: "sent", sentAtMs: nowMs }];
    expect(dueFeedbackBatches(withSent, nowMs, rule).size, "a sent report is not queued").to.equal(0);
    const mixed = dueFeedbackBatches([...queued(5), ...queued(3, MEMBER_B)], nowMs, rule);
    expect([...mixed.keys()], "per provider").to.deep.equal([PROVIDER.toLowerCase()]);
  });

  it("are shuffled: a batch holds the provider's queued reports in an order that is not the queue's", () => {
    const reports = queued(20);
    const [batch] = dueFeedbackBatches(reports, NOW * 1000, rule).get(PROVIDER.toLowerCase())!;
    expect(ids(batch!).sort()).to.deep.equal(ids(reports).sort());
    // 1 in 20! that a uniform shuffle keeps the order.
    expect(ids(batch!)).to.not.deep.equal(ids(reports));
    // Fisher–Yates with a fixed draw: every position can move (a reversal).
    expect(shuffled([1, 2, 3, 4], (n) => (n === 4 ? 0 : n === 3 ? 1 : 0))).to.not.deep.equal([1, 2, 3, 4]);
  });

  it("stay queued when the provider does not acknowledge the batch (unreachable, not a member)", async () => {
    const marked: string[] = [];
    const reports = [...queued(5), ...queued(5, MEMBER_B)];
    const sender = new FeedbackSender({}, {
      dialer: { dial: async () => { throw new RiskshareError("E_PEER_UNREACHABLE", "down"); } },
      queue: { reports: async () => reports, markSent: async (outcomes) => { marked.push(...outcomes.keys()); return outcomes.size; }, markCounted: async () => 0 },
      target: (provider) => (provider === PROVIDER ? ({} as never) : undefined),
      logger: silentLogger(),
      nowMs: () => NOW * 1000,
    });
    const round = await sender.sendDue();
    expect(round.sent).to.equal(0);
    expect(round.failed.map((f) => f.code).sort()).to.deep.equal(["E_NOT_MEMBER", "E_PEER_UNREACHABLE"]);
    expect(marked).to.deep.equal([]);
  });
});

describe("the provider side of /riskshare/feedback/1", () => {
  const reporter = Wallet.createRandom();
  const peer = { remotePeer: peerIdFromEvmKey(reporter.privateKey) };
  const frame = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
  const batch = { provider: PROVIDER, reports: [{ category: 1, epoch: 1, tag: `0x${"ab".repeat(8)}`, version: 2, kind: "confirmed", mac: `0x${"cd".repeat(32)}` }] };
  const taken: Array<{ reporter: string; reports: readonly IncomingReport[] }> = [];
  const active = new Set<string>();
  const service = new FeedbackService({}, {
    registrar: { handle: async () => undefined, unhandle: async () => undefined },
    membership: { isActivePeer: (p) => active.has(p.address.toLowerCase()) },
    self: PROVIDER,
    sink: { receiveFeedback: async (from, reports) => { taken.push({ reporter: from, reports }); return reports.map(() => "E_FEEDBACK_MAC" as const); } },
    logger: silentLogger(),
  });

  it("takes batches from Active members only, addressed to it, well formed; answers one outcome per report", async () => {
    expect(await service.respond(frame(batch), peer)).to.deep.include({ ok: false, error: { code: "E_NOT_MEMBER", message: "the peer is not an Active member" } });
    active.add(reporter.address.toLowerCase());
    expect((await service.respond(frame({ ...batch, provider: MEMBER_B }), peer) as { error: { code: string } }).error.code).to.equal("E_BAD_REQUEST");
    expect((await service.respond(frame({ ...batch, reports: [] }), peer) as { error: { code: string } }).error.code, "an empty batch").to.equal("E_PROTOCOL");
    expect((await service.respond(frame({ ...batch, reports: [{ ...batch.reports[0], kind: "sighted" }] }), peer) as { error: { code: string } }).error.code).to.equal("E_PROTOCOL");
    expect(taken, "nothing reached the store").to.deep.equal([]);
    expect(await service.respond(frame(batch), peer)).to.deep.equal({ ok: true, outcomes: ["E_FEEDBACK_MAC"] });
    expect(taken[0]!.reporter.toLowerCase(), "the batch's peer is the reporter").to.equal(reporter.address.toLowerCase());
    expect(taken[0]!.reports[0]).to.deep.include({ categoryId: 1, keyEpoch: 1, version: 2, kind: "confirmed" });
    expect(Buffer.from(taken[0]!.reports[0]!.tag).toString("hex")).to.equal("ab".repeat(8));
  });
});

describe("feedback batches over /riskshare/feedback/1 (libp2p on 127.0.0.1)", function () {
  this.timeout(60_000);
  const chain = new FakeChain();
  const providerWallet = Wallet.createRandom();
  const querierWallet = Wallet.createRandom();
  let providerHost: RiskshareHost;
  let querierHost: RiskshareHost;
  let service: FeedbackService;
  let answer: (reports: readonly IncomingReport[]) => FeedbackOutcome[];

  before(async () => {
    chain.add(providerWallet.address);
    chain.add(querierWallet.address);
    providerHost = await createHost({ privateKey: providerWallet.privateKey }, { logger: silentLogger(), membership: chain });
    querierHost = await createHost({ privateKey: querierWallet.privateKey }, { logger: silentLogger(), membership: chain });
    await providerHost.start();
    await querierHost.start();
    service = feedback()({
      registrar: providerHost.libp2p, membership: chain, self: providerWallet.address, logger: silentLogger(),
      sink: { receiveFeedback: async (_reporter, reports) => answer(reports) },
    });
    await service.start();
  });
  after(async () => {
    await service?.stop();
    await Promise.allSettled([providerHost?.stop(), querierHost?.stop()]);
  });

  it("marks an acknowledged batch sent once, each report with its outcome, then counts its accepted reports per kind on chain once; a refused batch stays queued, refused counts wait for the next round", async () => {
    const kinds: FeedbackKind[] = ["confirmed", "confirmed", "false_positive", "outdated", "confirmed"];
    const reports: OutgoingReport[] = kinds.map((kind, i) => ({
      reportId: `r${i}`, providerAddress: providerWallet.address, categoryId: 1, keyEpoch: 1, tag: `${i}`.padStart(16, "0"), version: 1, kind, mac: "00".repeat(32), queuedAtMs: NOW * 1000 + i,
    }));
    const marked = new Map<string, string>();
    const countedIds = new Set<string>();
    const counted: FeedbackCounts[] = [];
    let chainUp = false;
    const sender = new FeedbackSender({ timeoutMs: 5_000 }, {
      dialer: querierHost.libp2p,
      queue: {
        reports: async () => reports.map((r) => ({
          ...r, ...(marked.has(r.reportId) ? { sentAtMs: 1, outcome: marked.get(r.reportId)! } : {}), ...(countedIds.has(r.reportId) ? { countedAtMs: 2 } : {}),
        })),
        markSent: async (outcomes) => {
          let n = 0;
          for (const [id, outcome] of outcomes) if (!marked.has(id)) { marked.set(id, outcome); n++; }
          return n;
        },
        markCounted: async (ids) => {
          const fresh = ids.filter((id) => !countedIds.has(id));
          for (const id of fresh) countedIds.add(id);
          return fresh.length;
        },
      },
      target: () => providerHost.getMultiaddrs(),
      logger: silentLogger(),
      recordCounts: async (counts) => {
        if (!chainUp) throw new RiskshareError("E_FEEDBACK_EXCEEDS_EVALUATED", "the provider's ledger batch has not landed yet");
        counted.push(counts);
      },
      nowMs: () => NOW * 1000,
    });
    answer = () => { throw new RiskshareError("E_STORE_CLOSED", "the provider's store is closing"); };
    const refused = await sender.sendDue();
    expect(refused.failed.map((f) => f.code)).to.deep.equal(["E_STORE_CLOSED"]);
    expect(marked.size, "not acknowledged: still queued").to.equal(0);
    // The last confirmed report's MAC fails at the provider: it is sent (answered), never counted.
    answer = (incoming) => incoming.map((r) => (r.tag[7] === 4 ? "E_FEEDBACK_MAC" : "accepted"));
    const round = await sender.sendDue();
    expect(round).to.deep.include({ sent: 1, reports: 5, counted: 0 });
    expect(Object.fromEntries(marked)).to.deep.equal({ r0: "accepted", r1: "accepted", r2: "accepted", r3: "accepted", r4: "E_FEEDBACK_MAC" });
    expect(counted, "the chain refused the counts: they wait").to.deep.equal([]);
    chainUp = true;
    expect(await sender.sendDue(), "the next round sends nothing and counts them").to.deep.include({ sent: 0, reports: 0, counted: 4 });
    expect(counted).to.deep.equal([{ providerAddress: providerWallet.address, confirmed: 2, falsePositive: 1, outdated: 1 }]);
    expect((await sender.sendDue()).counted, "counted once").to.equal(0);
    expect(counted).to.have.length(1);
  });
});

describe("decay with confirmations", () => {
  const linear: DecayModel = { lifetimeDays: 100, speed: 1 };

  it("raises the score by at most base/4 per distinct confirmation, decayed by the last one's age, never above base", () => {
    // level 4: base 80; reported 50 days ago under a 100-day linear model: 40.
    expect(decayScore(4, 50 * DAY, linear)).to.equal(40);
    expect(decayScore(4, 50 * DAY, linear, { count: 1, lastAgeSec: 0 }), "one confirmation now: + 80/4").to.equal(60);
    expect(decayScore(4, 50 * DAY, linear, { count: 1, lastAgeSec: 50 * DAY }), "one confirmation 50 days ago: + 20 × 0.5").to.equal(50);
    expect(decayScore(4, 50 * DAY, linear, { count: 2, lastAgeSec: 0 }), "two: + 40, at base").to.equal(80);
    expect(decayScore(4, 50 * DAY, linear, { count: 9, lastAgeSec: 0 }), "never above base").to.equal(80);
    expect(decayScore(4, 200 * DAY, linear, { count: 3, lastAgeSec: 10 * DAY }), "past the lifetime, the confirmations alone: 3 × 20 × 0.9").to.equal(54);
    expect(decayScore(4, 200 * DAY, linear, { count: 3, lastAgeSec: 100 * DAY }), "confirmations decay away too").to.equal(0);
    expect(decayScore(4, 50 * DAY, linear, { count: 0, lastAgeSec: 0 })).to.equal(40);
    const models = new DecayModels({ default: linear });
    expect(models.score("fraud_confirmed", 4, NOW - 50 * DAY, NOW, { confirmations: 1, lastConfirmedAtSec: NOW - 50 * DAY })).to.equal(50);
    expect(models.score("fraud_confirmed", 4, NOW - 50 * DAY, NOW)).to.equal(40);
  });
});
