import { expect } from "chai";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { network } from "hardhat";
import { Level } from "level";
import { hexlify, makeError, randomBytes, Wallet, type Signer } from "ethers";
import {
  connectContracts, deployConsortium, LedgerBatcher, LookupKind, lookupDomain, LOOKUP_ANSWER_TYPES, LOOKUP_REQUEST_TYPES, lookupRequestDigest, mutable,
  QueryOutcome, readLedger, REFUSAL_ERROR_CODES, refusalDigest, recordedOnChain, RpcLedgerChannel, takeOverLedger, toQueryRecord, transactionState, verifyLedger, type ConsortiumContracts, type LedgerBatcherOptions, type LedgerChannel,
  type LedgerRecord, type LookupRequest,
} from "../../node/chain/index.ts";
import { Outbox, type OutboxLevel } from "../../node/store/outbox.ts";
import { readHeldAnswers, Store } from "../../node/store/index.ts";
import { silentLogger } from "../../node/logger.ts";
import { isRiskshareError, RiskshareError } from "../../node/errors.ts";
import { devAccount } from "../../scripts/devnet/consortium.ts";

const { ethers } = await network.create();

describe("ledger batcher: outbox to QueryLedger, each query exactly once", () => {
  let dir: string;
  let db: Level<string, unknown>;
  let contracts: ConsortiumContracts;
  /** The provider member's key (Hardhat's account 1: the same mnemonic as the devnet's). */
  let provider: Wallet;
  let querier: Signer;
  let chainId: bigint;

  before(async () => {
    const [admin, a, b] = await ethers.getSigners();
    provider = new Wallet(devAccount(1).privateKey);
    expect(provider.address).to.equal(await a!.getAddress());
    querier = b!;
    chainId = (await ethers.provider.getNetwork()).chainId;
    const deployment = await deployConsortium(admin!, {
      founders: [
        { address: await a!.getAddress(), name: "Provider", peerId: hexlify(randomBytes(38)), oprfKey: hexlify(randomBytes(32)) },
        { address: await b!.getAddress(), name: "Querier", peerId: hexlify(randomBytes(38)), oprfKey: hexlify(randomBytes(32)) },
      ],
    }, silentLogger());
    contracts = connectContracts(deployment.addresses, a!);
  });

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "riskshare-outbox-"));
    db = new Level<string, unknown>(dir, { valueEncoding: "json" });
    await db.open();
  });
  afterEach(async () => {
    await db.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function signedRecord(outcome: number = QueryOutcome.Answered): Promise<LedgerRecord> {
    const request: LookupRequest = {
      querier: await querier.getAddress(),
      provider: await provider.getAddress(),
      kind: LookupKind.Evaluate,
      categoryMask: 0b110n,
      itemCount: 3,
      itemsCommitment: hexlify(randomBytes(32)),
      nonce: hexlify(randomBytes(32)),
      deadline: BigInt(Math.floor(Date.now() / 1000) + 60),
    };
    const signature = await querier.signTypedData(lookupDomain(chainId, contracts.addresses.ledger), mutable(LOOKUP_REQUEST_TYPES), request);
    return {
      request, signature, outcome, keyEpoch: outcome === 0 ? 1 : 0, count: 1, answerDigest: outcome === 0 ? hexlify(randomBytes(32)) : refusalDigest(REFUSAL_ERROR_CODES[outcome]!),
      receivedAtMs: Date.now(),
    };
  }

  /**
   * The test's outbox. Each test's store is fresh but the provider's key has batches on chain from
   * the tests before: a fresh store takes over the key's batches (as `riskshare node take-over`
   * does); `reopen` opens the same store again after a crash.
   */
  async function openOutbox(maxBacklog = 10_000, reopen = false): Promise<Outbox> {
    const outbox = new Outbox({ maxBacklog }, { db: db.sublevel("outbox", { valueEncoding: "json" }) as unknown as OutboxLevel });
    await outbox.open();
    if (!reopen) await outbox.takeOver(provider.address, await providerSeq(), new Map());
    return outbox;
  }

  async function providerSeq(): Promise<bigint> {
    return contracts.ledger.lastSequence(provider.address);
  }

  /** The node's channel: raw transactions signed with the provider's key, over the test chain's JSON-RPC. */
  function rpcChannel(): RpcLedgerChannel {
    return new RpcLedgerChannel(
      { chainId, ledgerAddress: contracts.addresses.ledger, confirmTimeoutMs: 30_000, pollIntervalMs: 50 },
      { rpc: { call: (method, params) => ethers.provider.send(method, params) }, fees: ethers.provider, wallet: provider, ledger: contracts.ledger },
    );
  }

  function batcher(channel: LedgerChannel, outbox: Outbox, opts: Partial<LedgerBatcherOptions> = {}): LedgerBatcher {
    return new LedgerBatcher({ providerAddress: provider.address, flushIntervalMs: 60_000, maxBatchRecords: 100, ...opts }, { channel, outbox, logger: silentLogger() });
  }

  /** Wraps `inner`, logging each submit. */
  function tracing(inner: LedgerChannel, events: string[]): LedgerChannel {
    return {
      lastSequence: () => inner.lastSequence(),
      reset: () => inner.reset(),
      submit: async (seq, records, beforeSend) => {
        const submitted = await inner.submit(seq, records, beforeSend);
        events.push(`submit ${seq}`);
        return submitted;
      },
      confirm: (batch) => inner.confirm(batch),
      succeeded: (txHash) => inner.succeeded(txHash),
    };
  }

  /** Makes `outbox` log each batch the batcher notes as landed, into `events`. */
  function traceCompletions(outbox: Outbox, events: string[]): Outbox {
    const complete = outbox.completeBatch.bind(outbox);
    outbox.completeBatch = async (seq, landed) => {
      await complete(seq, landed);
      events.push(`landed ${seq}`);
    };
    return outbox;
  }

  async function expectEachOnChainOnce(records: readonly LedgerRecord[]): Promise<void> {
    const { records: onChain, batches } = await readLedger({ provider: ethers.provider as never, registry: contracts.registry, ledger: contracts.ledger, chainId });
    const ids = onChain.map((r) => r.queryId);
    for (const record of records) {
      const id = lookupRequestDigest(chainId, contracts.addresses.ledger, record.request);
      expect(ids.filter((x) => x === id), `query ${id}`).to.have.length(1);
    }
    expect(await verifyLedger({ provider: ethers.provider as never, registry: contracts.registry, ledger: contracts.ledger, chainId }, { records: onChain, batches })).to.deep.equal([]);
  }

  it("lands every appended record once, in batches with consecutive sequence numbers", async () => {
    const outbox = await openOutbox();
    const records = await Promise.all(Array.from({ length: 25 }, () => signedRecord()));
    await Promise.all(records.map((r) => outbox.append(r)));
    const startSeq = await providerSeq();
    expect(await batcher(rpcChannel(), outbox, { maxBatchRecords: 10 }).flush()).to.equal(25);
    expect(await providerSeq()).to.equal(startSeq + 3n);
    expect(await outbox.size()).to.equal(0);
    const { batches } = await readLedger({ provider: ethers.provider as never, registry: contracts.registry, ledger: contracts.ledger, chainId });
    expect(batches.map((b) => b.recordCount).slice(-3)).to.deep.equal([10, 10, 5]);
    await expectEachOnChainOnce(records);
  });

  it("pipelines full batches: sends up to maxInFlight before the first is mined, and they land in order", async () => {
    const outbox = await openOutbox();
    const records = await Promise.all(Array.from({ length: 50 }, () => signedRecord()));
    await Promise.all(records.map((r) => outbox.append(r)));
    const s = await providerSeq();
    const events: string[] = [];
    expect(await batcher(tracing(rpcChannel(), events), traceCompletions(outbox, events), { maxBatchRecords: 10, maxInFlight: 3 }).flush()).to.equal(50);
    expect(events).to.deep.equal([
      `submit ${s + 1n}`, `submit ${s + 2n}`, `submit ${s + 3n}`, `landed ${s + 1n}`, `submit ${s + 4n}`, `landed ${s + 2n}`, `submit ${s + 5n}`,
      `landed ${s + 3n}`, `landed ${s + 4n}`, `landed ${s + 5n}`,
    ]);
    await expectEachOnChainOnce(records);
  });

  it("sends a partial batch only when nothing else is in flight", async () => {
    const outbox = await openOutbox();
    const records = await Promise.all(Array.from({ length: 23 }, () => signedRecord()));
    await Promise.all(records.map((r) => outbox.append(r)));
    const s = await providerSeq();
    const events: string[] = [];
    expect(await batcher(tracing(rpcChannel(), events), traceCompletions(outbox, events), { maxBatchRecords: 10, maxInFlight: 4 }).flush()).to.equal(23);
    expect(events).to.deep.equal([`submit ${s + 1n}`, `submit ${s + 2n}`, `landed ${s + 1n}`, `landed ${s + 2n}`, `submit ${s + 3n}`, `landed ${s + 3n}`]);
  });

  it("after a crash with batches in flight, notes those on chain and resends the rest under their sequence numbers", async () => {
    const outbox = await openOutbox();
    const records = await Promise.all(Array.from({ length: 7 }, () => signedRecord()));
    for (const r of records) await outbox.append(r);
    const seq = (await providerSeq()) + 1n;
    const first = await outbox.assignBatch(seq, 3);
    await outbox.assignBatch(seq + 1n, 3);
    // The first batch's transaction lands, then the node dies before noting it and before the second is mined.
    const channel = rpcChannel();
    await channel.confirm(await channel.submit(seq, first!.records, (txHash) => outbox.noteSent(seq, txHash)));
    const reopened = await openOutbox(undefined, true);
    expect((await reopened.pendingBatches()).map((b) => [b.seq, b.records.length])).to.deep.equal([[seq, 3], [seq + 1n, 3]]);
    expect(reopened.unassigned()).to.equal(1);
    expect(await batcher(rpcChannel(), reopened).flush()).to.equal(7);
    expect(await providerSeq()).to.equal(seq + 2n);
    expect(await reopened.size()).to.equal(0);
    const { batches } = await readLedger({ provider: ethers.provider as never, registry: contracts.registry, ledger: contracts.ledger, chainId });
    expect(batches.slice(-3).map((b) => [b.seq, b.recordCount])).to.deep.equal([[seq, 3], [seq + 1n, 3], [seq + 2n, 1]]);
    await expectEachOnChainOnce(records);
  });

  it("after a crash before the batch's transaction, resends the same records under the same sequence number", async () => {
    const outbox = await openOutbox();
    const records = [await signedRecord(), await signedRecord(QueryOutcome.DeniedReciprocity)];
    for (const r of records) await outbox.append(r);
    const seq = (await providerSeq()) + 1n;
    await outbox.assignBatch(seq, 100);
    const reopened = await openOutbox(undefined, true);
    await reopened.append(await signedRecord()); // arrives after the restart: goes into the next batch
    expect(await batcher(rpcChannel(), reopened).flush()).to.equal(3);
    expect(await providerSeq()).to.equal(seq + 1n);
    const { batches } = await readLedger({ provider: ethers.provider as never, registry: contracts.registry, ledger: contracts.ledger, chainId });
    expect(batches.slice(-2).map((b) => [b.seq, b.recordCount])).to.deep.equal([[seq, 2], [seq + 1n, 1]]);
  });

  it("when a batch is refused while others are in flight, keeps them all and the next flush lands each once", async () => {
    const outbox = await openOutbox();
    const records = await Promise.all(Array.from({ length: 30 }, () => signedRecord()));
    await Promise.all(records.map((r) => outbox.append(r)));
    const start = await providerSeq();
    const inner = rpcChannel();
    let sabotage = true;
    // The second batch goes out under a wrong sequence number: the chain refuses it.
    const channel: LedgerChannel = { ...tracing(inner, []), submit: (seq, recs, beforeSend) => inner.submit(sabotage && seq === start + 2n ? seq + 1_000n : seq, recs, beforeSend) };
    const b = batcher(channel, outbox, { maxBatchRecords: 10, maxInFlight: 3 });
    try {
      await b.flush();
      expect.fail("expected the flush to fail");
    } catch (err) {
      expect(isRiskshareError(err, "E_CHAIN_REVERTED"), String(err)).to.equal(true);
    }
    expect(await providerSeq()).to.equal(start + 1n);
    expect((await outbox.pendingBatches()).map((p) => p.seq)).to.deep.equal([start + 1n, start + 2n]);
    expect(b.health()).to.include({ consecutiveFailures: 1, lastError: "E_CHAIN_REVERTED" });
    sabotage = false;
    expect(await b.flush()).to.equal(30);
    expect(await providerSeq()).to.equal(start + 3n);
    await expectEachOnChainOnce(records);
  });

  it("when waiting for a batch times out while it and those behind it land, the next flush only notes them", async () => {
    const outbox = await openOutbox();
    const records = await Promise.all(Array.from({ length: 35 }, () => signedRecord()));
    await Promise.all(records.map((r) => outbox.append(r)));
    const start = await providerSeq();
    const inner = rpcChannel();
    const submitted: bigint[] = [];
    let slow = true;
    const channel: LedgerChannel = {
      ...tracing(inner, []),
      submit: async (seq, recs, beforeSend) => {
        submitted.push(seq);
        return inner.submit(seq, recs, beforeSend);
      },
      confirm: async (batch) => {
        const mined = await inner.confirm(batch);
        if (slow && batch.seq === start + 1n) throw new RiskshareError("E_TIMEOUT", "the query batch transaction was not mined in time", { seq: batch.seq });
        return mined;
      },
    };
    const b = batcher(channel, outbox, { maxBatchRecords: 10, maxInFlight: 3 });
    try {
      await b.flush();
      expect.fail("expected the flush to fail");
    } catch (err) {
      expect(isRiskshareError(err, "E_TIMEOUT"), String(err)).to.equal(true);
    }
    expect(await providerSeq()).to.equal(start + 3n);
    expect((await outbox.pendingBatches()).map((p) => p.seq)).to.deep.equal([start + 1n, start + 2n, start + 3n]);
    slow = false;
    submitted.length = 0;
    expect(await b.flush()).to.equal(35);
    expect(submitted, "only the batch not yet sent is sent").to.deep.equal([start + 4n]);
    await expectEachOnChainOnce(records);
  });

  it("keeps records while the chain fails, reports it in health, and lands them once it recovers", async () => {
    const outbox = await openOutbox();
    for (let i = 0; i < 3; i++) await outbox.append(await signedRecord());
    let down = true;
    const inner = rpcChannel();
    const refused = () => Promise.reject(Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" }));
    const flaky: LedgerChannel = {
      lastSequence: () => (down ? refused() : inner.lastSequence()),
      submit: (seq, records, beforeSend) => (down ? refused() : inner.submit(seq, records, beforeSend)),
      confirm: (batch) => inner.confirm(batch),
      succeeded: (txHash) => inner.succeeded(txHash),
      reset: () => inner.reset(),
    };
    const b = batcher(flaky, outbox);
    try {
      await b.flush();
      expect.fail("expected the flush to fail");
    } catch (err) {
      expect(isRiskshareError(err, "E_CHAIN_UNREACHABLE")).to.equal(true);
    }
    expect(b.health().consecutiveFailures).to.equal(1);
    expect(await outbox.size()).to.equal(3);
    down = false;
    expect(await b.flush()).to.equal(3);
    expect(b.health().consecutiveFailures).to.equal(0);
  });

  it("counts nonces afresh each flush, so transactions sent from the same key meanwhile (the operator's CLI) cost nothing", async () => {
    const outbox = await openOutbox();
    const b = batcher(rpcChannel(), outbox);
    await outbox.append(await signedRecord());
    expect(await b.flush()).to.equal(1);
    // Another program uses the key: two plain transfers.
    const other = provider.connect(ethers.provider);
    for (let i = 0; i < 2; i++) await (await other.sendTransaction({ to: await querier.getAddress(), value: 1n })).wait();
    await outbox.append(await signedRecord());
    expect(await b.flush()).to.equal(1);
    expect(b.health().consecutiveFailures).to.equal(0);
  });

  it("resends at once with a fresh nonce when the key was used between counting and sending (NONCE_EXPIRED)", async () => {
    const outbox = await openOutbox();
    for (let i = 0; i < 2; i++) await outbox.append(await signedRecord());
    const inner = rpcChannel();
    let stale = 1;
    const racing: LedgerChannel = {
      ...tracing(inner, []),
      submit: (seq, records, beforeSend) => {
        if (stale-- > 0) return Promise.reject(makeError("nonce has already been used", "NONCE_EXPIRED", { transaction: {} as never }));
        return inner.submit(seq, records, beforeSend);
      },
    };
    const b = batcher(racing, outbox);
    expect(await b.flush()).to.equal(2);
    expect(b.health().consecutiveFailures).to.equal(0);
  });

  it("reads each QueryRecorded field back as the ABI coder decodes it, at the edges of each type", async () => {
    const querierAddress = await querier.getAddress();
    const edge = (over: Partial<ReturnType<typeof toQueryRecord>>) => ({
      querier: querierAddress, categoryMask: (1n << 64n) - 1n, deadline: (1n << 64n) - 1n, itemCount: 0xffffffff, kind: 1, keyEpoch: 0, outcome: 255, count: 0xffffffff,
      itemsCommitment: `0x${"00".repeat(32)}`, nonce: hexlify(randomBytes(32)), signatureR: `0x${"ff".repeat(32)}`, signatureVs: `0x${"7f".repeat(32)}`,
      answerDigest: `0x${"ff".repeat(32)}`, ...over,
    });
    const sent = [edge({}), edge({
      categoryMask: 0n, deadline: 0n, itemCount: 0, kind: 255, keyEpoch: 0xffffffff, outcome: 0, count: 1, signatureR: `0x${"00".repeat(32)}`, answerDigest: `0x${"00".repeat(32)}`,
    })];
    const seq = (await providerSeq()) + 1n;
    const receipt = await (await contracts.ledger.connect(provider.connect(ethers.provider)).recordBatch(seq, sent)).wait();
    const expected = receipt!.logs.map((log) => contracts.ledger.interface.parseLog(log)).filter((p) => p?.name === "QueryRecorded").map((p) => p!.args);
    const { records } = await readLedger({ provider: ethers.provider as never, registry: contracts.registry, ledger: contracts.ledger, chainId });
    const read = records.filter((r) => r.txHash === receipt!.hash);
    expect(read).to.have.length(2);
    read.forEach((r, i) => {
      const a = expected[i]!;
      expect([r.queryId, r.querier, r.provider, r.deadline, r.itemCount, r.kind, r.keyEpoch, r.outcome, r.count, r.itemsCommitment, r.nonce, r.answerDigest, r.seq]).to.deep.equal([
        a[0], a[1], a[2], a[4], Number(a[5]), Number(a[6]), Number(a[7]), Number(a[8]), Number(a[9]), a[10], a[11], a[14], seq,
      ]);
    });
    expect(read[0]!.categoryIds).to.deep.equal([]); // bit 0 is no category: the mask is not a valid one, so none are listed
    expect(read[1]!.signature).to.equal("");
  });

  it("verify checks every record's signature against its querier, also after it has seen that querier's key", async () => {
    const outbox = await openOutbox();
    const honest = await Promise.all(Array.from({ length: 3 }, () => signedRecord()));
    const forged = await signedRecord();
    // Claims the querier, but another member's key signed it.
    forged.signature = await provider.signTypedData(lookupDomain(chainId, contracts.addresses.ledger), mutable(LOOKUP_REQUEST_TYPES), forged.request);
    for (const r of [...honest, forged]) await outbox.append(r);
    expect(await batcher(rpcChannel(), outbox).flush()).to.equal(4);
    const ledger = await readLedger({ provider: ethers.provider as never, registry: contracts.registry, ledger: contracts.ledger, chainId });
    const failures = await verifyLedger({ provider: ethers.provider as never, registry: contracts.registry, ledger: contracts.ledger, chainId }, ledger);
    const forgedId = lookupRequestDigest(chainId, contracts.addresses.ledger, forged.request);
    const ours = new Set([...honest, forged].map((r) => lookupRequestDigest(chainId, contracts.addresses.ledger, r.request)));
    // (Earlier tests left records with made-up signatures on this chain; only this test's count here.)
    expect(failures.filter((f) => ours.has(f.queryId!)).map((f) => [f.kind, f.queryId])).to.deep.equal([["forged_querier", forgedId]]);
  });

  it("verify flags, by name, a forged querier of any outcome, a query id recorded twice, and an answer that does not match its digest", async () => {
    const modules = { provider: ethers.provider as never, registry: contracts.registry, ledger: contracts.ledger, chainId };
    const outbox = await openOutbox();
    const regulator = Wallet.createRandom();
    const idOf = (record: LedgerRecord) => lookupRequestDigest(chainId, contracts.addresses.ledger, record.request);

    // Honest: an answer, resent twice (one DeniedReplay, one DeniedExpired repeat its id), and a refusal folded with a count.
    const answered = await signedRecord();
    const replay = { ...answered, outcome: QueryOutcome.DeniedReplay, keyEpoch: 0, answerDigest: refusalDigest("E_REPLAY") };
    const expired = { ...answered, outcome: QueryOutcome.DeniedExpired, keyEpoch: 0, answerDigest: refusalDigest("E_EXPIRED") };
    const folded = { ...(await signedRecord(QueryOutcome.DeniedBadSignature)), count: 40 };
    // Forged: refusals naming the regulator (never a member) with or without a signature check before them.
    const blamesRegulator = { ...(await signedRecord(QueryOutcome.DeniedBadSignature)) };
    blamesRegulator.request = { ...blamesRegulator.request, querier: regulator.address };
    const quotaOfRegulator = { ...(await signedRecord(QueryOutcome.DeniedQuota)) };
    quotaOfRegulator.request = { ...quotaOfRegulator.request, querier: regulator.address };
    const notMemberRegulator = { ...(await signedRecord(QueryOutcome.DeniedNotMember)) };
    notMemberRegulator.request = { ...notMemberRegulator.request, querier: regulator.address };
    // Honest: a DeniedNotMember names an admitted member (refused once it is no longer Active).
    const notMemberHonest = await signedRecord(QueryOutcome.DeniedNotMember);
    // Not duplicates: a peer's spoiled copies of a request (refused before the signature check), twice,
    // and a spoiled copy of the answered request: their ids are whatever the frames claimed.
    const spoiled = await signedRecord(QueryOutcome.DeniedBadSignature);
    const spoiledAgain = { ...spoiled };
    const spoiledAnswered = { ...answered, outcome: QueryOutcome.DeniedBadSignature, keyEpoch: 0, answerDigest: refusalDigest("E_BAD_SIGNATURE") };
    // Duplicate: the same answered request landed again (a second DeniedReplay too).
    const again = { ...answered };
    const replayAgain = { ...replay };
    // Mismatch: a refusal whose digest is another code's; an answer recorded with an item count other than the one signed.
    const wrongCode = { ...(await signedRecord(QueryOutcome.DeniedQuota)), answerDigest: refusalDigest("E_RECIPROCITY") };
    const inflated = await signedRecord();
    const signedAnswer = { queryId: idOf(inflated), provider: provider.address, keyEpoch: 1, itemCount: inflated.request.itemCount, answerDigest: inflated.answerDigest };
    const answerSignature = await provider.signTypedData(lookupDomain(chainId, contracts.addresses.ledger), mutable(LOOKUP_ANSWER_TYPES), signedAnswer);
    inflated.keyEpoch = 2; // the record claims the answer was given under another key epoch than the one signed
    const refusedButAnswered = await signedRecord(QueryOutcome.DeniedQuota);
    const answerOfRefused = { queryId: idOf(refusedButAnswered), provider: provider.address, keyEpoch: 1, itemCount: refusedButAnswered.request.itemCount, answerDigest: hexlify(randomBytes(32)) };

    const all = [answered, replay, expired, folded, blamesRegulator, quotaOfRegulator, notMemberRegulator, notMemberHonest, spoiled, spoiledAgain, spoiledAnswered, again, replayAgain, wrongCode, inflated, refusedButAnswered];
    for (const record of all) await outbox.append(record);
    expect(await batcher(rpcChannel(), outbox).flush()).to.equal(all.length);
    const ledger = await readLedger(modules);
    const held = [
      { answer: signedAnswer, answerSignature },
      { answer: answerOfRefused, answerSignature: await provider.signTypedData(lookupDomain(chainId, contracts.addresses.ledger), mutable(LOOKUP_ANSWER_TYPES), answerOfRefused) },
    ];
    const failures = await verifyLedger(modules, ledger, held);
    const ours = new Set(all.map(idOf));
    expect(failures.filter((f) => ours.has(f.queryId!)).map((f) => [f.kind, f.queryId])).to.deep.equal([
      ["forged_querier", idOf(blamesRegulator)],
      ["forged_querier", idOf(quotaOfRegulator)],
      ["forged_querier", idOf(notMemberRegulator)],
      ["duplicate_query_id", idOf(again)],
      ["duplicate_query_id", idOf(replayAgain)],
      ["answer_mismatch", idOf(wrongCode)],
      ["answer_mismatch", idOf(inflated)],
      ["answer_mismatch", idOf(refusedButAnswered)],
    ]);
    expect(ledger.records.find((r) => r.queryId === idOf(folded))).to.include({ count: 40, outcomeName: "DeniedBadSignature" });
  });

  it("verify, fed the signed answers the querier's journal kept, flags each record that differs from what its provider signed and sent, and passes an honest one", async () => {
    const modules = { provider: ethers.provider as never, registry: contracts.registry, ledger: contracts.ledger, chainId };
    const outbox = await openOutbox();
    const idOf = (record: LedgerRecord) => lookupRequestDigest(chainId, contracts.addresses.ledger, record.request);
    const honest = await signedRecord();
    const otherDigest = await signedRecord();
    const otherEpoch = await signedRecord();
    const refused = await signedRecord(QueryOutcome.DeniedQuota);
    // What the provider signed and sent for each (the querier's client checked the signature and journaled it).
    const sent = new Map([honest, otherDigest, otherEpoch, refused].map((record) => [idOf(record), {
      queryId: idOf(record), provider: provider.address, keyEpoch: 1, itemCount: record.request.itemCount,
      answerDigest: record.outcome === QueryOutcome.Answered ? record.answerDigest : hexlify(randomBytes(32)),
    }]));
    const journalDir = await mkdtemp(join(tmpdir(), "riskshare-journal-"));
    try {
      const store = new Store({ location: journalDir, categories: new Map() }, { logger: silentLogger() });
      await store.open();
      try {
        const journal = store.queryJournal(new Uint8Array(randomBytes(32)));
        for (const record of [honest, otherDigest, otherEpoch, refused]) {
          const answer = sent.get(idOf(record))!;
          await journal.record(idOf(record), record.request, { items: [], blinds: [], paddingInputs: [] });
          await journal.recordAnswer(idOf(record), answer, await provider.signTypedData(lookupDomain(chainId, contracts.addresses.ledger), mutable(LOOKUP_ANSWER_TYPES), answer));
        }
      } finally {
        await store.close();
      }
      // The provider records other than it sent: another digest, another key epoch, and a refusal for an answer.
      otherDigest.answerDigest = hexlify(randomBytes(32));
      otherEpoch.keyEpoch = 2;
      const all = [honest, otherDigest, otherEpoch, refused];
      for (const record of all) await outbox.append(record);
      expect(await batcher(rpcChannel(), outbox).flush()).to.equal(all.length);
      const ledger = await readLedger(modules);
      const ours = new Set(all.map(idOf));
      const found = (failures: Awaited<ReturnType<typeof verifyLedger>>) => failures.filter((f) => ours.has(f.queryId!)).map((f) => [f.kind, f.queryId]);

      expect(found(await verifyLedger(modules, ledger)), "the ledger alone cannot tell").to.deep.equal([]);
      const held = await readHeldAnswers({ location: journalDir }, { logger: silentLogger() });
      expect(held.map((h) => h.answer.queryId).sort()).to.deep.equal([...ours].sort());
      expect(found(await verifyLedger(modules, ledger, held)), "one failure each, the honest record passes").to.have.deep.members([
        ["answer_mismatch", idOf(otherDigest)],
        ["answer_mismatch", idOf(otherEpoch)],
        ["answer_mismatch", idOf(refused)],
      ]);
    } finally {
      await rm(journalDir, { recursive: true, force: true });
    }
  });

  it("two nodes under one key: the second refuses to flush and says why, its own refused batch is not taken for landed; a take-over makes it the writer and the first stops", async () => {
    const first = await openOutbox();
    const secondDir = await mkdtemp(join(tmpdir(), "riskshare-outbox-second-"));
    const secondDb = new Level<string, unknown>(secondDir, { valueEncoding: "json" });
    await secondDb.open();
    try {
      // A second data dir for the same member key (a standby started by mistake): nothing sent yet.
      const second = new Outbox({ maxBacklog: 100 }, { db: secondDb.sublevel("outbox", { valueEncoding: "json" }) as unknown as OutboxLevel });
      await second.open();
      const firstRecords = await Promise.all(Array.from({ length: 2 }, () => signedRecord()));
      const secondRecords = await Promise.all(Array.from({ length: 3 }, () => signedRecord()));
      for (const r of firstRecords) await first.append(r);
      for (const r of secondRecords) await second.append(r);
      // The second also holds one of the first's records, as a backup of the first restored would.
      await second.append(firstRecords[0]!);
      const seq = (await providerSeq()) + 1n;
      // Both bind their records to the next sequence number; the first node's batch lands, the second's is refused on chain.
      const clash = await second.assignBatch(seq, 1);
      expect(await batcher(rpcChannel(), first).flush()).to.equal(2);
      const channel = rpcChannel();
      await channel.submit(seq, clash!.records, (txHash) => second.noteSent(seq, txHash)).then((sent) => channel.confirm(sent)).then(
        () => expect.fail("the chain took a batch under a used sequence number"),
        () => undefined,
      );

      const standby = batcher(rpcChannel(), second);
      const err = await standby.flush().catch((e: unknown) => e);
      expect(isRiskshareError(err, "E_LEDGER_OTHER_WRITER"), String(err)).to.equal(true);
      expect(standby.health().otherWriter).to.deep.equal({ chainSeq: seq, ownSeq: 0n });
      expect(await second.size(), "the second node keeps every record").to.equal(4);
      expect(await providerSeq(), "and sent nothing that landed").to.equal(seq);

      // The operator stops the first node and takes over with the second.
      const rpc = { call: (method: string, params: unknown[]) => ethers.provider.send(method, params) };
      const takeOver = await takeOverLedger(provider.address, {
        chain: { lastSequence: providerSeq, transactionState: (txHash) => transactionState(rpc, txHash) },
        outbox: second,
        onChain: recordedOnChain({ provider: ethers.provider as never, rpc, registry: contracts.registry, ledger: contracts.ledger, chainId }, provider.address, contracts.addresses.ledger),
      });
      expect(takeOver, "the refused batch's record queued again, the record the first landed dropped").to.deep.equal({ chainSeq: seq, previousSeq: undefined, landedBatches: 0, requeuedRecords: 1, droppedRecords: 1 });
      const writer = batcher(rpcChannel(), second);
      expect(await writer.flush()).to.equal(3);
      expect(writer.health().lastLanded?.seq).to.equal(seq + 1n);
      // Each record of both nodes on chain once (the ledger as a whole holds the earlier tests' forgeries).
      const { records: onChain } = await readLedger({ provider: ethers.provider as never, registry: contracts.registry, ledger: contracts.ledger, chainId });
      for (const record of [...firstRecords, ...secondRecords]) {
        const id = lookupRequestDigest(chainId, contracts.addresses.ledger, record.request);
        expect(onChain.filter((r) => r.queryId === id), `query ${id}`).to.have.length(1);
      }

      // Should the first node come back, it is the one that stops now.
      await first.append(await signedRecord());
      const back = await batcher(rpcChannel(), first).flush().catch((e: unknown) => e);
      expect(isRiskshareError(back, "E_LEDGER_OTHER_WRITER"), String(back)).to.equal(true);
    } finally {
      await secondDb.close();
      await rm(secondDir, { recursive: true, force: true });
    }
  });

  it("refuses appends past the backlog cap with E_BACKLOG (fail closed)", async () => {
    const outbox = await openOutbox(2);
    await outbox.append(await signedRecord());
    await outbox.append(await signedRecord());
    try {
      await outbox.append(await signedRecord());
      expect.fail("expected E_BACKLOG");
    } catch (err) {
      expect(isRiskshareError(err, "E_BACKLOG")).to.equal(true);
    }
  });
});
