import { expect } from "chai";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { network } from "hardhat";
import { Level } from "level";
import { hexlify, makeError, randomBytes, type Signer } from "ethers";
import {
  connectContracts, deployConsortium, LedgerBatcher, lookupDomain, LOOKUP_REQUEST_TYPES, lookupRequestDigest, mutable, QueryOutcome,
  readLedger, toQueryRecord, verifyLedger, type ConsortiumContracts, type LedgerRecord, type LookupRequest,
} from "../../node/chain/index.ts";
import { Outbox, type OutboxLevel } from "../../node/store/outbox.ts";
import { silentLogger } from "../../node/logger.ts";
import { isRiskshareError } from "../../node/errors.ts";

const { ethers } = await network.create();

describe("ledger batcher: outbox to QueryLedger, each query exactly once", () => {
  let dir: string;
  let db: Level<string, unknown>;
  let contracts: ConsortiumContracts;
  let provider: Signer;
  let querier: Signer;
  let chainId: bigint;

  before(async () => {
    const [admin, a, b] = await ethers.getSigners();
    provider = a!;
    querier = b!;
    chainId = (await ethers.provider.getNetwork()).chainId;
    const deployment = await deployConsortium(admin!, {
      founders: [
        { address: await a!.getAddress(), name: "Provider", peerId: hexlify(randomBytes(38)) },
        { address: await b!.getAddress(), name: "Querier", peerId: hexlify(randomBytes(38)) },
      ],
    }, silentLogger());
    contracts = connectContracts(deployment.addresses, provider);
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
      categoryMask: 0b110n,
      itemCount: 3,
      itemsCommitment: hexlify(randomBytes(32)),
      nonce: hexlify(randomBytes(32)),
      deadline: BigInt(Math.floor(Date.now() / 1000) + 60),
    };
    const signature = await querier.signTypedData(lookupDomain(chainId, contracts.addresses.ledger), mutable(LOOKUP_REQUEST_TYPES), request);
    return { request, signature, outcome, hitCount: outcome === 0 ? 1 : 0, receivedAtMs: Date.now() };
  }

  async function openOutbox(maxBacklog = 10_000): Promise<Outbox> {
    const outbox = new Outbox({ maxBacklog }, { db: db.sublevel("outbox", { valueEncoding: "json" }) as unknown as OutboxLevel });
    await outbox.open();
    return outbox;
  }

  async function providerSeq(): Promise<bigint> {
    return contracts.ledger.lastSequence(await provider.getAddress());
  }

  it("lands every appended record once, in batches with consecutive sequence numbers", async () => {
    const outbox = await openOutbox();
    const records = await Promise.all(Array.from({ length: 25 }, () => signedRecord()));
    await Promise.all(records.map((r) => outbox.append(r)));
    const startSeq = await providerSeq();
    const batcher = new LedgerBatcher({ providerAddress: await provider.getAddress(), flushIntervalMs: 60_000, maxBatchRecords: 10 }, { ledger: contracts.ledger, outbox, logger: silentLogger() });
    expect(await batcher.flush()).to.equal(25);
    expect(await providerSeq()).to.equal(startSeq + 3n);
    expect(await outbox.size()).to.equal(0);
    const { records: onChain, batches } = await readLedger({ provider: ethers.provider as never, registry: contracts.registry, ledger: contracts.ledger, chainId });
    const ids = onChain.map((r) => r.queryId);
    for (const record of records) {
      const id = lookupRequestDigest(chainId, contracts.addresses.ledger, record.request);
      expect(ids.filter((x) => x === id), `query ${id}`).to.have.length(1);
    }
    expect(batches.map((b) => b.recordCount).slice(-3)).to.deep.equal([10, 10, 5]);
    expect(await verifyLedger({ provider: ethers.provider as never, registry: contracts.registry, ledger: contracts.ledger, chainId }, { records: onChain, batches })).to.deep.equal([]);
  });

  it("after a crash between sending a batch and noting it, finds it on chain and never sends it twice", async () => {
    const outbox = await openOutbox();
    for (let i = 0; i < 4; i++) await outbox.append(await signedRecord());
    const seq = (await providerSeq()) + 1n;
    const batch = await outbox.assignBatch(seq, 100);
    // The batch's transaction lands, then the node dies before completeBatch.
    await (await contracts.ledger.recordBatch(seq, batch!.records.map(toQueryRecord))).wait();
    const reopened = await openOutbox();
    expect((await reopened.pendingBatch())?.seq).to.equal(seq);
    const batcher = new LedgerBatcher({ providerAddress: await provider.getAddress(), flushIntervalMs: 60_000, maxBatchRecords: 100 }, { ledger: contracts.ledger, outbox: reopened, logger: silentLogger() });
    expect(await batcher.flush()).to.equal(4);
    expect(await providerSeq()).to.equal(seq);
    expect(await reopened.size()).to.equal(0);
  });

  it("after a crash before the batch's transaction, resends the same records under the same sequence number", async () => {
    const outbox = await openOutbox();
    const records = [await signedRecord(), await signedRecord(QueryOutcome.DeniedReciprocity)];
    for (const r of records) await outbox.append(r);
    const seq = (await providerSeq()) + 1n;
    await outbox.assignBatch(seq, 100);
    const reopened = await openOutbox();
    await reopened.append(await signedRecord()); // arrives after the restart: goes into the next batch
    const batcher = new LedgerBatcher({ providerAddress: await provider.getAddress(), flushIntervalMs: 60_000, maxBatchRecords: 100 }, { ledger: contracts.ledger, outbox: reopened, logger: silentLogger() });
    expect(await batcher.flush()).to.equal(3);
    expect(await providerSeq()).to.equal(seq + 1n);
    const { batches } = await readLedger({ provider: ethers.provider as never, registry: contracts.registry, ledger: contracts.ledger, chainId });
    expect(batches.slice(-2).map((b) => [b.seq, b.recordCount])).to.deep.equal([[seq, 2], [seq + 1n, 1]]);
  });

  it("keeps records while the chain fails, reports it in health, and lands them once it recovers", async () => {
    const outbox = await openOutbox();
    for (let i = 0; i < 3; i++) await outbox.append(await signedRecord());
    let down = true;
    const flaky = new Proxy(contracts.ledger, {
      get(target, key, receiver) {
        if (down && (key === "recordBatch" || key === "lastSequence")) return () => Promise.reject(Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" }));
        return Reflect.get(target, key, receiver);
      },
    });
    const batcher = new LedgerBatcher({ providerAddress: await provider.getAddress(), flushIntervalMs: 60_000, maxBatchRecords: 100 }, { ledger: flaky, outbox, logger: silentLogger() });
    try {
      await batcher.flush();
      expect.fail("expected the flush to fail");
    } catch (err) {
      expect(isRiskshareError(err, "E_CHAIN_UNREACHABLE")).to.equal(true);
    }
    expect(batcher.health().consecutiveFailures).to.equal(1);
    expect(await outbox.size()).to.equal(3);
    down = false;
    expect(await batcher.flush()).to.equal(3);
    expect(batcher.health().consecutiveFailures).to.equal(0);
  });

  it("resends at once with a fresh nonce when another program used this key meanwhile (NONCE_EXPIRED)", async () => {
    const outbox = await openOutbox();
    for (let i = 0; i < 2; i++) await outbox.append(await signedRecord());
    let stale = 1;
    let resets = 0;
    const racing = new Proxy(contracts.ledger, {
      get(target, key, receiver) {
        if (key === "recordBatch" && stale > 0) {
          stale--;
          return () => Promise.reject(makeError("nonce has already been used", "NONCE_EXPIRED", { transaction: {} as never }));
        }
        return Reflect.get(target, key, receiver);
      },
    });
    const batcher = new LedgerBatcher({ providerAddress: await provider.getAddress(), flushIntervalMs: 60_000, maxBatchRecords: 100 }, {
      ledger: racing, outbox, logger: silentLogger(), resetNonce: () => { resets++; },
    });
    expect(await batcher.flush()).to.equal(2);
    expect(resets).to.equal(1);
    expect(batcher.health().consecutiveFailures).to.equal(0);
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
