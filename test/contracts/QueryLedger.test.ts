import { expect } from "chai";
import { network } from "hardhat";
import { TypedDataEncoder, Wallet, ZeroHash, getBytes, hexlify, id as keccakOfText, randomBytes } from "ethers";
import {
  LOOKUP_ANSWER_TYPES,
  LOOKUP_ANSWER_TYPE_STRING,
  LOOKUP_REQUEST_TYPES,
  LOOKUP_REQUEST_TYPE_STRING,
  LookupKind,
  lookupDomain,
  lookupRequestDigest,
  mutable,
  recoverLookupRequestSigner,
  type LookupRequest,
} from "../../node/chain/eip712.ts";
import { categoryIdsFromMask, categoryMask, fromCompactSignature, ProposalKind } from "../../node/chain/governance.ts";
import { QueryOutcome } from "../../node/chain/outcomes.ts";
import { refusalDigest } from "../../node/chain/digests.ts";
import {
  admitArgsFor,
  consortiumFixture,
  oprfKeyFor,
  passProposal,
  propose,
  queryRecordFor,
  randomLookupRequest,
  randomQueryRecord,
  type QueryRecordInput,
} from "./fixtures.ts";

const { ethers, networkHelpers } = await network.create();
const { loadFixture, time } = networkHelpers;

/** A deadline five minutes past the chain's clock. */
async function deadline(): Promise<bigint> {
  return BigInt(await time.latest()) + 300n;
}

describe("QueryLedger", function () {
  describe("EIP-712 domain and types", function () {
    it("computes the domain separator of node/chain/eip712.ts's domain", async function () {
      const { ledger } = await loadFixture(consortiumFixture);
      const { chainId } = await ethers.provider.getNetwork();
      const expected = TypedDataEncoder.hashDomain(lookupDomain(chainId, await ledger.getAddress()));
      expect(await ledger.domainSeparator()).to.equal(expected);
    });

    it("uses the typehash of the TypeScript type string, which is what ethers encodes", async function () {
      const { ledger } = await loadFixture(consortiumFixture);
      expect(await ledger.LOOKUP_REQUEST_TYPEHASH()).to.equal(keccakOfText(LOOKUP_REQUEST_TYPE_STRING));
      expect(TypedDataEncoder.from(mutable(LOOKUP_REQUEST_TYPES)).encodeType("LookupRequest")).to.equal(LOOKUP_REQUEST_TYPE_STRING);
      expect(await ledger.LOOKUP_ANSWER_TYPEHASH()).to.equal(keccakOfText(LOOKUP_ANSWER_TYPE_STRING));
      expect(TypedDataEncoder.from(mutable(LOOKUP_ANSWER_TYPES)).encodeType("LookupAnswer")).to.equal(LOOKUP_ANSWER_TYPE_STRING);
    });

    it("binds the kind: an Evaluate and a Fetch request with the same fields have different query ids", async function () {
      const { ledger, alice } = await loadFixture(consortiumFixture);
      const request = randomLookupRequest(Wallet.createRandom().address, alice.address, await deadline());
      const signature = hexlify(new Uint8Array(65));
      const evaluate = await ledger.queryId(alice.address, queryRecordFor(request, signature));
      const fetch = await ledger.queryId(alice.address, queryRecordFor({ ...request, kind: LookupKind.Fetch }, signature));
      expect(evaluate).to.not.equal(fetch);
      // The key epoch is the provider's, not the querier's: it is recorded but not part of the id.
      expect(await ledger.queryId(alice.address, queryRecordFor(request, signature, QueryOutcome.Answered, 7))).to.equal(evaluate);
    });

    it("gives a record the query id TypeScript computes for the request", async function () {
      const { ledger, alice } = await loadFixture(consortiumFixture);
      const { chainId } = await ethers.provider.getNetwork();
      const request = randomLookupRequest(Wallet.createRandom().address, alice.address, await deadline());
      const record = queryRecordFor(request, hexlify(new Uint8Array(65)));
      expect(await ledger.queryId(alice.address, record)).to.equal(lookupRequestDigest(chainId, await ledger.getAddress(), request));
    });

    it("records a request signed in TypeScript so that a TypeScript verifier recovers the querier from the log", async function () {
      const { ledger, alice } = await loadFixture(consortiumFixture);
      const { chainId } = await ethers.provider.getNetwork();
      const ledgerAddress = await ledger.getAddress();
      const querier = Wallet.createRandom();
      const request: LookupRequest = {
        querier: querier.address,
        provider: alice.address,
        kind: LookupKind.Fetch,
        categoryMask: categoryMask([1, 3]),
        itemCount: 3,
        itemsCommitment: hexlify(randomBytes(32)),
        nonce: hexlify(randomBytes(32)),
        deadline: await deadline(),
      };
      const signature = await querier.signTypedData(lookupDomain(chainId, ledgerAddress), mutable(LOOKUP_REQUEST_TYPES), request);

      const receipt = await (await ledger.connect(alice).recordBatch(1, [queryRecordFor(request, signature, QueryOutcome.Answered, 1)])).wait();
      const events = receipt!.logs.map((log) => ledger.interface.parseLog(log)).filter((parsed) => parsed?.name === "QueryRecorded");
      expect(events).to.have.length(1);
      const recorded = events[0]!.args;

      // What an auditor does with nothing but the log:
      const fromLog: LookupRequest = {
        querier: recorded.querier,
        provider: recorded.provider,
        kind: Number(recorded.kind),
        categoryMask: recorded.categoryMask,
        itemCount: Number(recorded.itemCount),
        itemsCommitment: recorded.itemsCommitment,
        nonce: recorded.nonce,
        deadline: recorded.deadline,
      };
      expect(recorded.queryId).to.equal(lookupRequestDigest(chainId, ledgerAddress, request));
      expect(recorded.queryId).to.equal(lookupRequestDigest(chainId, ledgerAddress, fromLog));
      const signatureFromLog = fromCompactSignature(recorded.signatureR, recorded.signatureVs);
      expect(signatureFromLog).to.equal(signature);
      expect(recoverLookupRequestSigner(chainId, ledgerAddress, fromLog, signatureFromLog)).to.equal(querier.address);
      expect(categoryIdsFromMask(recorded.categoryMask)).to.deep.equal([1, 3]);
      expect([recorded.kind, recorded.keyEpoch]).to.deep.equal([BigInt(LookupKind.Fetch), 1n]);
    });
  });

  describe("recordBatch", function () {
    it("emits every field of every record, then the batch, and advances the sequence", async function () {
      const { ledger, alice } = await loadFixture(consortiumFixture);
      const { chainId } = await ethers.provider.getNetwork();
      const ledgerAddress = await ledger.getAddress();
      const until = await deadline();
      const queriers = [0, 1, 2].map(() => Wallet.createRandom());
      const requests = queriers.map((querier) => randomLookupRequest(querier.address, alice.address, until));
      requests[0] = { ...requests[0]!, kind: LookupKind.Fetch };
      const signatures = await Promise.all(
        requests.map((request, index) =>
          queriers[index]!.signTypedData(lookupDomain(chainId, ledgerAddress), mutable(LOOKUP_REQUEST_TYPES), request)),
      );
      const records: QueryRecordInput[] = [
        queryRecordFor(requests[0]!, signatures[0]!, QueryOutcome.Answered, 2),
        queryRecordFor(requests[1]!, signatures[1]!, QueryOutcome.DeniedReciprocity, 0, 17),
        queryRecordFor(requests[2]!, signatures[2]!, QueryOutcome.Answered, 1),
      ];
      expect(await ledger.lastSequence(alice.address)).to.equal(0n);
      const tx = ledger.connect(alice).recordBatch(1, records);
      for (const [index, record] of records.entries()) {
        await expect(tx, `record ${index}`)
          .to.emit(ledger, "QueryRecorded")
          .withArgs(
            lookupRequestDigest(chainId, ledgerAddress, requests[index]!),
            record.querier,
            alice.address,
            record.categoryMask,
            record.deadline,
            record.itemCount,
            record.kind,
            record.keyEpoch,
            record.outcome,
            record.count,
            record.itemsCommitment,
            record.nonce,
            record.signatureR,
            record.signatureVs,
            record.answerDigest,
          );
      }
      await expect(tx).to.emit(ledger, "BatchRecorded").withArgs(alice.address, 1, 3);
      expect(await ledger.lastSequence(alice.address)).to.equal(1n);

      // The batch event comes after its records.
      const receipt = await (await tx).wait();
      const names = receipt!.logs.map((log) => ledger.interface.parseLog(log)?.name);
      expect(names).to.deep.equal(["QueryRecorded", "QueryRecorded", "QueryRecorded", "BatchRecorded"]);
    });

    it("records refused requests too, whatever their signature", async function () {
      const { ledger, bob } = await loadFixture(consortiumFixture);
      const record = {
        ...randomQueryRecord(await deadline()), outcome: QueryOutcome.DeniedBadSignature, keyEpoch: 0, count: 3, signatureR: ZeroHash, signatureVs: ZeroHash,
        answerDigest: refusalDigest("E_BAD_SIGNATURE"),
      };
      await expect(ledger.connect(bob).recordBatch(1, [record]))
        .to.emit(ledger, "QueryRecorded")
        .withArgs(await ledger.queryId(bob.address, record), record.querier, bob.address, record.categoryMask, record.deadline,
          record.itemCount, record.kind, 0, QueryOutcome.DeniedBadSignature, 3, record.itemsCommitment, record.nonce, ZeroHash, ZeroHash, record.answerDigest);
    });

    it("holds each record to its outcome's shape: an answer is one request under a key epoch, a refusal has key epoch 0 and a count", async function () {
      const { ledger, alice } = await loadFixture(consortiumFixture);
      const until = await deadline();
      const answer = { ...randomQueryRecord(until), outcome: QueryOutcome.Answered, keyEpoch: 1, count: 1 };
      const refusal = { ...randomQueryRecord(until), outcome: QueryOutcome.DeniedQuota, keyEpoch: 0, count: 1 };
      const bad: Array<[string, QueryRecordInput]> = [
        ["an answer folding several requests", { ...answer, count: 2 }],
        ["an answer with count 0", { ...answer, count: 0 }],
        ["an answer without a key epoch", { ...answer, keyEpoch: 0 }],
        ["a refusal under a key epoch", { ...refusal, keyEpoch: 1 }],
        ["a refusal standing for no request", { ...refusal, count: 0 }],
      ];
      for (const [what, record] of bad) {
        await expect(ledger.connect(alice).recordBatch(1, [answer, record]), what).to.be.revertedWithCustomError(ledger, "QueryLedgerBadRecord").withArgs(1);
      }
      await expect(ledger.connect(alice).recordBatch(1, [answer, { ...refusal, count: 0xffffffff }])).to.emit(ledger, "BatchRecorded").withArgs(alice.address, 1, 2);
    });

    it("requires each provider's batches in order: a replay or a gap reverts", async function () {
      const { ledger, alice, bob } = await loadFixture(consortiumFixture);
      const until = await deadline();
      const batch = () => [randomQueryRecord(until), randomQueryRecord(until)];
      await expect(ledger.connect(alice).recordBatch(0, batch()))
        .to.be.revertedWithCustomError(ledger, "QueryLedgerBadSequence")
        .withArgs(alice.address, 1, 0);
      await expect(ledger.connect(alice).recordBatch(2, batch()))
        .to.be.revertedWithCustomError(ledger, "QueryLedgerBadSequence")
        .withArgs(alice.address, 1, 2);
      const first = batch();
      await ledger.connect(alice).recordBatch(1, first);
      await expect(ledger.connect(alice).recordBatch(1, first))
        .to.be.revertedWithCustomError(ledger, "QueryLedgerBadSequence")
        .withArgs(alice.address, 2, 1);
      await expect(ledger.connect(alice).recordBatch(3, batch()))
        .to.be.revertedWithCustomError(ledger, "QueryLedgerBadSequence")
        .withArgs(alice.address, 2, 3);
      await ledger.connect(alice).recordBatch(2, batch());
      // Bob's sequence is his own.
      await expect(ledger.connect(bob).recordBatch(1, batch())).to.emit(ledger, "BatchRecorded").withArgs(bob.address, 1, 2);
      expect(await ledger.lastSequence(alice.address)).to.equal(2n);
      expect(await ledger.lastSequence(bob.address)).to.equal(1n);
    });

    it("refuses an empty batch", async function () {
      const { ledger, alice } = await loadFixture(consortiumFixture);
      await expect(ledger.connect(alice).recordBatch(1, [])).to.be.revertedWithCustomError(ledger, "QueryLedgerEmptyBatch");
    });

    it("takes batches only from members once in force: not outsiders, candidates, members admitted but not yet in force, or regulators", async function () {
      const { registry, ledger, alice, bob, carol, erin, frank, regulator, outsider } = await loadFixture(consortiumFixture);
      await propose(registry, alice, ProposalKind.Admit, await admitArgsFor(registry, frank, "Frank"));
      await passProposal(registry, [alice, bob, carol], ProposalKind.Admit, await admitArgsFor(registry, erin));
      const record = randomQueryRecord(await deadline());
      for (const [caller, who] of [[outsider, "outsider"], [frank, "candidate"], [erin, "admitted, not in force"], [regulator, "regulator"]] as const) {
        await expect(ledger.connect(caller).recordBatch(1, [record]), who)
          .to.be.revertedWithCustomError(ledger, "QueryLedgerNotMember")
          .withArgs(caller.address);
      }
    });

    it("still takes the batches of a member suspended or removed after answering, so no served query is lost (I-6)", async function () {
      const { registry, ledger, alice, bob, carol, dave, regulator } = await loadFixture(consortiumFixture);
      await ledger.connect(dave).recordBatch(1, [randomQueryRecord(await deadline())]);
      await registry.connect(regulator).regulatorSuspend(bob.address, BigInt(await time.latest()) + 86_400n);
      await passProposal(registry, [alice, carol, dave], ProposalKind.Remove, { account: dave.address });
      await expect(ledger.connect(bob).recordBatch(1, [randomQueryRecord(await deadline())])).to.emit(ledger, "BatchRecorded").withArgs(bob.address, 1, 1);
      await expect(ledger.connect(dave).recordBatch(2, [randomQueryRecord(await deadline())])).to.emit(ledger, "BatchRecorded").withArgs(dave.address, 2, 1);
      expect(await ledger.lastSequence(dave.address)).to.equal(2n);
    });

    it("refuses, like the ABI decoder, a record whose small fields carry high bits", async function () {
      const { ledger, alice } = await loadFixture(consortiumFixture);
      const valid = ledger.interface.encodeFunctionData("recordBatch", [1, [randomQueryRecord(await deadline())]]);
      // Calldata: selector, seq, array offset, array length, then the record's thirteen words.
      const recordStart = 4 + 3 * 32;
      const fields = ["querier", "categoryMask", "deadline", "itemCount", "kind", "keyEpoch", "outcome", "count"];
      for (const [word, field] of fields.entries()) {
        const data = getBytes(valid);
        data[recordStart + word * 32] = 0x01; // the word's most significant byte lies outside every field type
        await expect(alice.sendTransaction({ to: await ledger.getAddress(), data: hexlify(data) }), field).to.be.revertedWithoutReason(ethers);
      }
      await expect(alice.sendTransaction({ to: await ledger.getAddress(), data: valid })).to.emit(ledger, "BatchRecorded");
    });

    it("points at its registry", async function () {
      const { registry, ledger } = await loadFixture(consortiumFixture);
      expect(await ledger.registry()).to.equal(await registry.getAddress());
    });
  });
});
