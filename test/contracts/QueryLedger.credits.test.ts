/**
 * QueryLedger's credits: metering in recordBatch (signature recovered on chain, per-pair nonce
 * window), decay, overdraft, feedback counts, false-positive burns and the weekly bonus pool, and a
 * junk-list simulation over several weeks with the node's real provider selection.
 */
import { expect } from "chai";
import { network } from "hardhat";
import { toBeHex, type ContractTransactionResponse } from "ethers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import type { QueryLedger } from "../../types/ethers-contracts/index.js";
import { LookupKind } from "../../node/chain/eip712.ts";
import { QueryOutcome } from "../../node/chain/outcomes.ts";
import { ProviderSelection } from "../../node/policy/index.ts";
import * as credits from "../../node/chain/credits.ts";
import { isRiskshareError } from "../../node/errors.ts";
import {
  admitMember,
  boundConsortiumFixture,
  CREDIT_ARGS,
  devSecretKey,
  MAX_REQUEST_LIFETIME_SECONDS,
  REMOVED_GRACE_SECONDS,
  rotationArgsFor,
  signedQueryRecord,
  type QueryRecordInput,
  type SignedRecordOptions,
} from "./fixtures.ts";

const { ethers, networkHelpers } = await network.create();
const { loadFixture, time } = networkHelpers;

const DAY = 86_400n;
const WEEK = 7n * DAY;
const STARTING = CREDIT_ARGS[0];
/** 0.9^(1/30) in 1e18 fixed point, as the contract holds it. */
const DAILY_DECAY_WAD = 996494142730415125n;
const WAD = 10n ** 18n;

/** The contract's decay factor for `days` whole days, computed the same way (by squaring, rounding down). */
function decayFactor(days: bigint): bigint {
  let factor = WAD;
  let base = DAILY_DECAY_WAD;
  for (let d = days; d > 0n; d >>= 1n) {
    if (d & 1n) factor = (factor * base) / WAD;
    base = (base * base) / WAD;
  }
  return factor;
}

/** Hardhat account index of each fixture member (0 is the admin). */
const ACCOUNT_INDEX = { alice: 1, bob: 2, carol: 3, dave: 4, erin: 5 } as const;
type Name = keyof typeof ACCOUNT_INDEX;

/** Drives one ledger: signs members' requests with per-pair counters and lands providers' batches in sequence. */
class Driver {
  readonly #nonces = new Map<string, bigint>();
  readonly #seqs = new Map<string, bigint>();
  constructor(
    readonly ledger: QueryLedger,
    readonly chainId: bigint,
    readonly address: string,
    readonly signers: Record<Name, HardhatEthersSigner>,
  ) {}

  /** The next request of `querier` to `provider`, signed (or `nonce` when given). */
  record(querier: Name, provider: Name, opts: Partial<SignedRecordOptions> & { nonce?: bigint; signWith?: Name } = {}, deadline = 1n << 40n): QueryRecordInput {
    const key = `${querier}>${provider}`;
    const nonce = opts.nonce ?? (this.#nonces.get(key) ?? 0n) + 1n;
    if (opts.nonce === undefined) this.#nonces.set(key, nonce);
    return signedQueryRecord({ chainId: this.chainId, address: this.address }, devSecretKey(ACCOUNT_INDEX[opts.signWith ?? querier]),
      this.signers[querier].address, this.signers[provider].address, nonce, { deadline, ...opts });
  }

  /** Lands `records` as `provider`'s next batch. */
  land(provider: Name, records: QueryRecordInput[]): Promise<ContractTransactionResponse> {
    const seq = (this.#seqs.get(provider) ?? 0n) + 1n;
    this.#seqs.set(provider, seq);
    return this.ledger.connect(this.signers[provider]).recordBatch(seq, records);
  }

  async balance(name: Name): Promise<bigint> {
    return (await this.ledger.creditsOf(this.signers[name].address)).balance;
  }
}

async function driverFor(ledger: QueryLedger, signers: Record<Name, HardhatEthersSigner>): Promise<Driver> {
  const { chainId } = await ethers.provider.getNetwork();
  return new Driver(ledger, chainId, await ledger.getAddress(), signers);
}

async function setUp() {
  const fixture = await loadFixture(boundConsortiumFixture);
  const signers = { alice: fixture.alice, bob: fixture.bob, carol: fixture.carol, dave: fixture.dave, erin: fixture.erin };
  const ledger = fixture.ledger as unknown as QueryLedger;
  return { ...fixture, ledger, signers, driver: await driverFor(ledger, signers) };
}

/** A ledger on the fixture's registry with other credit parameters (not the registry's companion: it only reads it). */
async function ledgerWith(registry: { getAddress(): Promise<string> }, credits: readonly [bigint, bigint, number, number, bigint]): Promise<QueryLedger> {
  const deployed = await ethers.deployContract("QueryLedger", [await registry.getAddress(), REMOVED_GRACE_SECONDS, MAX_REQUEST_LIFETIME_SECONDS, ...credits]);
  return deployed as unknown as QueryLedger;
}

/** Moves the clock to one hour into the next chain week (block.timestamp / 1 weeks). */
async function startOfNextWeek(): Promise<bigint> {
  const now = BigInt(await time.latest());
  const next = (now / WEEK + 1n) * WEEK + 3600n;
  await time.increaseTo(next);
  return next / WEEK;
}

/** The arguments of every `name` event `tx` emitted. */
async function eventsOf(ledger: QueryLedger, tx: Promise<ContractTransactionResponse>, name: string): Promise<Record<string, unknown>[]> {
  const receipt = await (await tx).wait();
  return receipt!.logs.map((log) => ledger.interface.parseLog(log)).filter((parsed) => parsed?.name === name).map((parsed) => parsed!.args.toObject());
}

function sorted(addresses: string[]): string[] {
  return [...addresses].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : BigInt(a) > BigInt(b) ? 1 : 0));
}

describe("QueryLedger credits", function () {
  describe("metering", function () {
    it("moves itemCount credits from querier to provider once per answered Evaluate record; Fetch and refusals move nothing", async function () {
      const { ledger, driver, alice, bob, carol, dave } = await setUp();
      const records = [
        driver.record("bob", "alice", { itemCount: 10 }),
        driver.record("bob", "alice", { itemCount: 5 }),
        driver.record("carol", "alice", { itemCount: 7, kind: LookupKind.Fetch }),
        driver.record("dave", "alice", { itemCount: 9, outcome: QueryOutcome.DeniedQuota }),
      ];
      const tx = driver.land("alice", records);
      await expect(tx).to.emit(ledger, "CreditsMoved").withArgs(bob.address, alice.address, 15);
      const receipt = await (await tx).wait();
      const moved = receipt!.logs.map((log) => ledger.interface.parseLog(log)).filter((parsed) => parsed?.name === "CreditsMoved");
      expect(moved, "one CreditsMoved per paying querier").to.have.length(1);
      expect(await driver.balance("bob")).to.equal(STARTING - 15n);
      expect(await driver.balance("alice")).to.equal(STARTING + 15n);
      expect(await driver.balance("carol")).to.equal(STARTING);
      expect(await driver.balance("dave")).to.equal(STARTING);
      expect(await ledger.pairState(bob.address, alice.address)).to.deep.equal([2n, 0b11n, 15n, 0n]);
      // The Fetch consumed its nonce, moving nothing; the refusal touched nothing.
      expect(await ledger.pairState(carol.address, alice.address)).to.deep.equal([1n, 1n, 0n, 0n]);
      expect(await ledger.pairState(dave.address, alice.address)).to.deep.equal([0n, 0n, 0n, 0n]);

      // The same records again: recorded (I-6), skipped as replays, nothing moves.
      const replay = driver.land("alice", records);
      await expect(replay).to.emit(ledger, "BatchRecorded").withArgs(alice.address, 2, 4);
      for (const record of records.slice(0, 3)) {
        await expect(replay).to.emit(ledger, "CreditsSkipped").withArgs(await ledger.queryId(alice.address, record), 2);
      }
      await expect(replay).to.not.emit(ledger, "CreditsMoved");
      expect(await driver.balance("bob")).to.equal(STARTING - 15n);
      expect(await driver.balance("alice")).to.equal(STARTING + 15n);
    });

    it("a forged or mangled signature moves nothing and the batch still lands", async function () {
      const { ledger, driver, alice, bob } = await setUp();
      const forged = driver.record("bob", "alice", { itemCount: 10, signWith: "carol" });
      const good = driver.record("bob", "alice", { itemCount: 4 });
      const zeroed = { ...driver.record("bob", "alice", { itemCount: 3 }), signatureR: toBeHex(0, 32), signatureVs: toBeHex(0, 32) };
      // The other parity: ecrecover finds some other key.
      const flipped = driver.record("bob", "alice", { itemCount: 2 });
      flipped.signatureVs = toBeHex(BigInt(flipped.signatureVs as string) ^ (1n << 255n), 32);
      const tx = driver.land("alice", [forged, good, zeroed, flipped]);
      await expect(tx).to.emit(ledger, "BatchRecorded").withArgs(alice.address, 1, 4);
      for (const bad of [forged, zeroed, flipped]) {
        await expect(tx).to.emit(ledger, "CreditsSkipped").withArgs(await ledger.queryId(alice.address, bad), 1);
      }
      await expect(tx).to.emit(ledger, "CreditsMoved").withArgs(bob.address, alice.address, 4);
      // A bad signature does not consume its nonce: only nonce 2 (the good record) is marked.
      const [highest, window] = await ledger.pairState(bob.address, alice.address);
      expect([highest, window]).to.deep.equal([2n, 1n]);
    });

    it("meters no record of a non-member or of the provider itself, silently", async function () {
      const { ledger, driver, alice, erin } = await setUp();
      // erin is a candidate, never admitted; alice asks herself.
      const tx = driver.land("alice", [driver.record("erin", "alice", { itemCount: 10 }), driver.record("alice", "alice", { itemCount: 10 })]);
      await expect(tx).to.not.emit(ledger, "CreditsMoved");
      await expect(tx).to.not.emit(ledger, "CreditsSkipped");
      expect(await driver.balance("alice")).to.equal(STARTING);
      expect((await ledger.pairState(erin.address, alice.address))[0]).to.equal(0n);
    });

    it("refuses credit parameters out of range at deployment", async function () {
      const { registry } = await setUp();
      const factory = await ethers.getContractFactory("QueryLedger");
      const base = [await registry.getAddress(), REMOVED_GRACE_SECONDS, MAX_REQUEST_LIFETIME_SECONDS] as const;
      await expect(factory.deploy(...base, 1n, 2n, 101, 20, 3n)).to.be.revertedWithCustomError(factory, "QueryLedgerBadCreditParams").withArgs(1n, 2n, 101, 20, 3n);
      await expect(factory.deploy(...base, 1n, 2n, 10, 101, 3n)).to.be.revertedWithCustomError(factory, "QueryLedgerBadCreditParams");
      await expect(factory.deploy(...base, 1n << 64n, 2n, 10, 20, 3n)).to.be.revertedWithCustomError(factory, "QueryLedgerBadCreditParams");
    });

    it("accepts out-of-order nonces within the 256-window, refuses them below it, and refuses 0, replays and nonces of 2^64 or more", async function () {
      const { ledger, driver, alice, bob } = await setUp();
      const cases: Array<[bigint, boolean]> = [
        [300n, true],
        [100n, true], // 200 below the highest
        [45n, true], // 255 below: the window's last bit
        [44n, false], // 256 below
        [100n, false], // a replay
        [0n, false],
        [1n << 64n, false],
        [(1n << 64n) - 1n, true], // the largest nonce; the window moves past everything
        [299n, false],
      ];
      for (const [nonce, fresh] of cases) {
        const before = await driver.balance("bob");
        const record = driver.record("bob", "alice", { itemCount: 1, nonce });
        const tx = driver.land("alice", [record]);
        if (fresh) await expect(tx, `nonce ${nonce}`).to.emit(ledger, "CreditsMoved").withArgs(bob.address, alice.address, 1);
        else await expect(tx, `nonce ${nonce}`).to.emit(ledger, "CreditsSkipped").withArgs(await ledger.queryId(alice.address, record), 2);
        expect(await driver.balance("bob"), `nonce ${nonce}`).to.equal(before - (fresh ? 1n : 0n));
      }
      expect((await ledger.pairState(bob.address, alice.address))[0]).to.equal((1n << 64n) - 1n);
    });
  });

  describe("member key rotation", function () {
    it("moves the balance to the new account at its first touch and empties the old one: no second grant, no debt shed", async function () {
      const { registry, ledger, driver, bob, erin } = await setUp();
      await driver.land("alice", [driver.record("bob", "alice", { itemCount: 100 })]);
      await registry.connect(bob).rotateMemberKey(...(await rotationArgsFor(registry, bob.address, erin)));
      expect((await ledger.creditsOf(erin.address)).balance, "before its first touch the new account reads as the old one's balance").to.equal(STARTING - 100n);
      await driver.land("alice", [driver.record("erin", "alice", { itemCount: 10 })]);
      expect(await driver.balance("erin")).to.equal(STARTING - 110n);
      expect(await driver.balance("bob"), "the old account is emptied").to.equal(0n);
      expect((await ledger.creditsOf(bob.address)).balance + (await ledger.creditsOf(erin.address)).balance).to.equal(STARTING - 110n);
    });
  });

  describe("overdraft and decay", function () {
    it("gives no overdraft in a member's first 90 days, then min(L, credits earned in the last 13 weeks)", async function () {
      const { registry, members, erin, signers } = await setUp();
      const ledger = await ledgerWith(registry, [0n, 25n, 10, 20, 10n]);
      const driver = await driverFor(ledger, signers);
      await startOfNextWeek();
      await driver.land("alice", [driver.record("bob", "alice", { itemCount: 20 })]);
      expect(await ledger.creditsOf(signers.alice.address)).to.deep.equal([20n, 0n]);
      await time.increase(60n * DAY);
      await driver.land("alice", [driver.record("carol", "alice", { itemCount: 18 })]);
      // Week 13 after the first earning: it has left the 13 weeks, the second has not; the founders are past 90 days.
      await time.increase(31n * DAY);
      expect((await ledger.creditsOf(signers.alice.address))[1]).to.equal(18n);
      await driver.land("alice", [driver.record("dave", "alice", { itemCount: 30 })]);
      expect((await ledger.creditsOf(signers.alice.address))[1], "capped at L").to.equal(25n);
      expect((await ledger.creditsOf(signers.bob.address))[1], "bob earned nothing").to.equal(0n);

      // A member admitted now starts its own 90 days, however long the consortium has run.
      await admitMember(registry, members, erin);
      await driver.land("erin", [driver.record("bob", "erin", { itemCount: 50 })]);
      expect((await ledger.creditsOf(erin.address))[1]).to.equal(0n);
      await time.increase(80n * DAY);
      await driver.land("erin", [driver.record("bob", "erin", { itemCount: 10 })]);
      expect((await ledger.creditsOf(erin.address))[1], "erin at 80 days").to.equal(0n);
      await time.increase(11n * DAY);
      // 91 days: past its first 90; the first 50 are 13 weeks old, the 10 count.
      expect((await ledger.creditsOf(erin.address))[1], "erin at 91 days").to.equal(10n);
    });

    it("decays 10 % a month the part of a balance, of either sign, beyond the member's own spend in the last 30 days", async function () {
      const { registry, signers } = await setUp();
      const ledger = await ledgerWith(registry, [0n, 0n, 10, 20, 10n]);
      const driver = await driverFor(ledger, signers);
      await startOfNextWeek();
      // bob spends 1,000 at alice; alice spends 400 at carol.
      await driver.land("alice", [driver.record("bob", "alice", { itemCount: 1_000 })]);
      await driver.land("carol", [driver.record("alice", "carol", { itemCount: 400 })]);
      expect(await driver.balance("bob")).to.equal(-1_000n);
      expect(await driver.balance("alice")).to.equal(600n);

      await time.increase(10n * DAY);
      // bob's debt is within its own 30 days of spend: no decay. alice keeps her 400 of spend; 200 decay.
      expect(await driver.balance("bob"), "bob at 10 days").to.equal(-1_000n);
      expect(await driver.balance("alice"), "alice at 10 days").to.equal(400n + (200n * decayFactor(10n)) / WAD);
      // carol earned 400 and spent nothing: all of it decays, a month to 90 %.
      await time.increase(20n * DAY);
      expect(await driver.balance("carol"), "carol at 30 days").to.equal((400n * decayFactor(30n)) / WAD);
      expect((400n * decayFactor(30n)) / WAD).to.be.within(359n, 360n);

      // Once its spend is more than five weeks old, bob's debt decays too (lazily, over the days since its last touch).
      await time.increase(30n * DAY);
      expect(await driver.balance("bob"), "bob at 60 days").to.equal(-((1_000n * decayFactor(60n)) / WAD));
    });
  });

  describe("feedback, burns and the bonus pool", function () {
    it("caps a reporter's reports on a provider at the items it was metered for there", async function () {
      const { ledger, driver, alice, bob, outsider } = await setUp();
      await driver.land("alice", [driver.record("bob", "alice", { itemCount: 15 })]);
      const week = await ledger.currentWeek();
      await expect(ledger.connect(bob).reportFeedback([alice.address], [10], [0], [5]))
        .to.emit(ledger, "FeedbackReported").withArgs(week, bob.address, alice.address, 10, 0, 5);
      await expect(ledger.connect(bob).reportFeedback([alice.address], [1], [0], [0]))
        .to.be.revertedWithCustomError(ledger, "QueryLedgerFeedbackExceedsEvaluated").withArgs(alice.address, 15, 16);
      expect(await ledger.pairState(bob.address, alice.address)).to.deep.equal([1n, 1n, 15n, 15n]);
      await expect(ledger.connect(bob).reportFeedback([alice.address], [1, 2], [0], [0]))
        .to.be.revertedWithCustomError(ledger, "QueryLedgerFeedbackLengthMismatch").withArgs(1, 2, 1, 1);
      await expect(ledger.connect(outsider).reportFeedback([], [], [], []))
        .to.be.revertedWithCustomError(ledger, "QueryLedgerNotMember").withArgs(outsider.address);
    });

    it("burns falsePositiveBurn credits of the provider per false positive", async function () {
      const { ledger, driver, alice, bob } = await setUp();
      await driver.land("alice", [driver.record("bob", "alice", { itemCount: 15 })]);
      const week = await ledger.currentWeek();
      await expect(ledger.connect(bob).reportFeedback([alice.address], [0], [3], [0]))
        .to.emit(ledger, "CreditsBurned").withArgs(alice.address, week, 30);
      expect(await driver.balance("alice")).to.equal(STARTING + 15n - 30n);
    });

    it("splits the pool by confirmations, each reporter directing at most its share of the week's items, one provider at most 20 %", async function () {
      const { ledger, driver, alice, bob, carol, dave } = await setUp();
      const week = await startOfNextWeek();
      // 1,000 items metered: a pool of 100, a provider cap of 20.
      await driver.land("alice", [driver.record("bob", "alice", { itemCount: 100 }), driver.record("carol", "alice", { itemCount: 800 })]);
      await driver.land("dave", [driver.record("bob", "dave", { itemCount: 100 })]);
      await ledger.connect(bob).reportFeedback([alice.address, dave.address], [10, 30], [0, 0], [0, 0]);
      await ledger.connect(carol).reportFeedback([alice.address], [10], [0], [0]);
      expect(await ledger.weekState(week, alice.address)).to.deep.equal([1_000n, 50n, 20n, false]);

      await expect(ledger.settleBonus(week, alice.address, sorted([bob.address, carol.address])))
        .to.be.revertedWithCustomError(ledger, "QueryLedgerWeekNotOver").withArgs(week, week);
      await time.increase(WEEK);
      await expect(ledger.settleBonus(week, alice.address, [bob.address]))
        .to.be.revertedWithCustomError(ledger, "QueryLedgerReportersIncomplete").withArgs(week, alice.address, 20, 10);
      await expect(ledger.settleBonus(week, alice.address, [...sorted([bob.address, carol.address])].reverse()))
        .to.be.revertedWithCustomError(ledger, "QueryLedgerReportersNotSorted").withArgs(1);
      const aliceBefore = await driver.balance("alice");
      const daveBefore = await driver.balance("dave");
      // bob: 40 of 50 confirmations would direct 80, his 200 items cap him at 20: 5 to alice, 15 to dave.
      // carol: 10 confirmations direct 20 (her 800 items would allow 80), all to alice. alice 25 → the cap, 20.
      await expect(ledger.settleBonus(week, alice.address, sorted([bob.address, carol.address])))
        .to.emit(ledger, "BonusPaid").withArgs(week, alice.address, 20);
      await expect(ledger.settleBonus(week, dave.address, [bob.address])).to.emit(ledger, "BonusPaid").withArgs(week, dave.address, 15);
      expect(await driver.balance("alice")).to.equal(aliceBefore + 20n);
      expect(await driver.balance("dave")).to.equal(daveBefore + 15n);
      await expect(ledger.settleBonus(week, alice.address, sorted([bob.address, carol.address])))
        .to.be.revertedWithCustomError(ledger, "QueryLedgerBonusAlreadySettled").withArgs(week, alice.address);
      expect((await ledger.weekState(week, alice.address))[3]).to.equal(true);
      await time.increase(13n * WEEK);
      await expect(ledger.settleBonus(week, carol.address, []))
        .to.be.revertedWithCustomError(ledger, "QueryLedgerSettlementExpired").withArgs(week, week + 1n);
    });
  });

  describe("node/chain/credits.ts", function () {
    it("reads balances, pairs, the week, the parameters and the week's totals, typed", async function () {
      const { ledger, driver, alice, bob } = await setUp();
      await driver.land("alice", [driver.record("bob", "alice", { itemCount: 12 })]);
      expect(await credits.creditsOf(ledger, bob.address)).to.deep.equal({ balance: STARTING - 12n, overdraft: 0n, available: STARTING - 12n });
      expect(await credits.pairState(ledger, bob.address, alice.address)).to.deep.equal({ highestNonce: 1n, window: 1n, evaluatedItems: 12n, reportedItems: 0n });
      const week = await credits.currentWeek(ledger);
      expect(week).to.equal(Math.floor((await time.latest()) / 604_800));
      expect(await credits.creditParams(ledger)).to.deep.equal({ startingCredits: 100_000n, overdraftLimit: 100_000n, poolPercent: 10, providerCapPercent: 20, falsePositiveBurn: 10n });
      expect(await credits.weekState(ledger, week, alice.address)).to.deep.equal({ meteredItems: 12n, confirmed: 0n, providerConfirmed: 0n, settled: false });
    });

    it("sends feedback and settles bonuses, mapping the contract's refusals to E_ codes, and reads the events back", async function () {
      const { ledger, driver, alice, bob } = await setUp();
      const from = await ethers.provider.getBlockNumber();
      await driver.land("alice", [driver.record("bob", "alice", { itemCount: 12 })]);
      const sent = await credits.reportFeedback(ledger.connect(bob), [{ provider: alice.address, confirmed: 4, falsePositive: 1, outdated: 0 }]);
      expect(sent.week).to.equal(await credits.currentWeek(ledger));
      const refused = await credits.reportFeedback(ledger.connect(bob), [{ provider: alice.address, confirmed: 8, falsePositive: 0, outdated: 0 }]).catch((err: unknown) => err);
      expect(isRiskshareError(refused, "E_FEEDBACK_EXCEEDS_EVALUATED"), String(refused)).to.equal(true);
      const bad = await credits.reportFeedback(ledger.connect(bob), [{ provider: alice.address, confirmed: -1, falsePositive: 0, outdated: 0 }]).catch((err: unknown) => err);
      expect(isRiskshareError(bad, "E_BAD_INPUT")).to.equal(true);
      const early = await credits.settleBonus(ledger, sent.week, alice.address, [bob.address]).catch((err: unknown) => err);
      expect(isRiskshareError(early, "E_BONUS_NOT_SETTLEABLE"), String(early)).to.equal(true);
      await time.increase(WEEK);
      // 12 items: a pool of 1 (10 %, rounded down), capped at 20 % of it: 0.
      const settled = await credits.settleBonus(ledger, sent.week, alice.address, [bob.address]);
      expect(settled.amount).to.equal(0n);

      const events = await credits.creditEvents(ledger, { fromBlock: from, toBlock: await ethers.provider.getBlockNumber() });
      expect(events.map((e) => e.name)).to.deep.equal(["CreditsMoved", "FeedbackReported", "CreditsBurned", "BonusPaid"]);
      expect(events[1]).to.deep.include({ name: "FeedbackReported", week: sent.week, reporter: bob.address, provider: alice.address, confirmed: 4, falsePositive: 1, outdated: 0 });
      expect(events[2]).to.deep.include({ name: "CreditsBurned", provider: alice.address, week: sent.week, amount: 10n });
      const ofWeek = await credits.creditEvents(ledger, { fromBlock: from, toBlock: await ethers.provider.getBlockNumber(), names: ["FeedbackReported"], week: sent.week, logChunkBlocks: 2 });
      expect(ofWeek).to.have.length(1);
    });

    it("finds the ended weeks whose bonus a provider can still claim, with their reporters, and settles each once", async function () {
      const { ledger, driver, alice, bob, carol, dave } = await setUp();
      const first = Number(await startOfNextWeek());
      await driver.land("alice", [driver.record("bob", "alice", { itemCount: 500 }), driver.record("carol", "alice", { itemCount: 500 })]);
      await ledger.connect(bob).reportFeedback([alice.address], [5], [0], [0]);
      await ledger.connect(carol).reportFeedback([alice.address], [5], [1], [0]);
      const range = async () => credits.bonusEventRange(ethers.provider);
      expect(await credits.dueBonuses(ledger, alice.address, await range()), "the week is not over").to.deep.equal([]);
      await time.increase(WEEK);
      // The next week: only a false positive (no confirmation, nothing to claim) and dave's confirmation elsewhere.
      await driver.land("dave", [driver.record("bob", "dave", { itemCount: 100 })]);
      await ledger.connect(bob).reportFeedback([alice.address, dave.address], [0, 3], [1, 0], [0, 0]);
      await time.increase(WEEK);
      expect(await credits.dueBonuses(ledger, alice.address, await range())).to.deep.equal([{ week: first, reporters: sorted([bob.address, carol.address]) }]);
      expect(await credits.dueBonuses(ledger, dave.address, await range())).to.deep.equal([{ week: first + 1, reporters: [bob.address] }]);
      const paid = await credits.settleDueBonuses(ledger, alice.address, await range());
      expect(paid.map((p) => [p.week, p.amount])).to.deep.equal([[first, 20n]]);
      expect(await credits.dueBonuses(ledger, alice.address, await range()), "settled once").to.deep.equal([]);
      // Past the window the week is no longer due.
      await time.increase(13n * WEEK);
      expect(await credits.dueBonuses(ledger, dave.address, await range())).to.deep.equal([]);
    });
  });

  describe("junk-list simulation", function () {
    it("a junk provider's share of requests and credits falls week over week while an honest one's rises", async function () {
      this.timeout(300_000);
      const { ledger, driver, alice, bob, dave } = await setUp();
      // A seeded generator: the run is the same every time.
      let seed = 0x5eed;
      const random = (): number => {
        seed = (seed + 0x6d2b79f5) | 0;
        let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
        t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
        return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
      };
      // bob asks alice (honest: one item in ten hits) and dave (random tags: never hits), in category 1.
      const selection = new ProviderSelection({ hitRateFloor: 0.01, exploreRate: 0.05, graceDays: 0, minSampleItems: 200 }, { joinedAt: () => 0, random });
      const providers = [{ name: "alice" as const, address: alice.address, hitRate: 0.1 }, { name: "dave" as const, address: dave.address, hitRate: 0 }];
      const WEEKS = 5;
      const REQUESTS_PER_WEEK = 30;
      const ITEMS = 20;
      const requests = { alice: [] as number[], dave: [] as number[] };
      const credits = { alice: [] as bigint[], dave: [] as bigint[] };
      let week = await startOfNextWeek();
      for (let w = 0; w < WEEKS; w++) {
        const now = Number(await time.latest());
        const asked = { alice: [] as QueryRecordInput[], dave: [] as QueryRecordInput[] };
        let confirmed = 0;
        for (let r = 0; r < REQUESTS_PER_WEEK; r++) {
          const plan = selection.plan(now);
          for (const provider of providers) {
            if (plan.skip(provider.address, 1)) continue;
            asked[provider.name].push(driver.record("bob", provider.name, { itemCount: ITEMS }));
            let hits = 0;
            for (let i = 0; i < ITEMS; i++) if (random() < provider.hitRate) hits++;
            selection.observe(provider.address, [1], ITEMS, new Map([[1, hits]]));
            if (provider.name === "alice") confirmed += hits;
          }
        }
        // Credits earned, read from the events (balances also decay, which is not the point here).
        const earned = { alice: 0n, dave: 0n };
        for (const name of ["alice", "dave"] as const) {
          if (asked[name].length === 0) continue;
          for (const moved of await eventsOf(ledger, driver.land(name, asked[name]), "CreditsMoved")) earned[name] += moved.items as bigint;
        }
        if (confirmed > 0) await ledger.connect(bob).reportFeedback([alice.address], [confirmed], [0], [0]);
        await time.increase(WEEK);
        for (const paid of await eventsOf(ledger, ledger.settleBonus(week, alice.address, confirmed > 0 ? [bob.address] : []), "BonusPaid")) earned.alice += paid.amount as bigint;
        for (const paid of await eventsOf(ledger, ledger.settleBonus(week, dave.address, []), "BonusPaid")) earned.dave += paid.amount as bigint;
        week += 1n;
        for (const name of ["alice", "dave"] as const) {
          requests[name].push(asked[name].length);
          credits[name].push(earned[name]);
        }
      }
      const share = (mine: number[] | bigint[], other: number[] | bigint[], upTo: number): number => {
        const sum = (xs: number[] | bigint[]) => xs.slice(0, upTo + 1).reduce<number>((a, x) => a + Number(x), 0);
        return sum(mine) / (sum(mine) + sum(other));
      };
      console.log(`      weekly requests alice ${requests.alice.join(" ")} / dave ${requests.dave.join(" ")}; credits alice ${credits.alice.join(" ")} / dave ${credits.dave.join(" ")}`);
      // Both are asked until 200 items judge them (10 requests); from then on dave only when a request explores.
      expect(requests.alice.every((n) => n === REQUESTS_PER_WEEK), "alice is always asked").to.equal(true);
      expect(requests.dave[0]).to.be.at.least(200 / ITEMS);
      for (let w = 1; w < WEEKS; w++) {
        expect(requests.dave[w], `week ${w + 1}: dave's requests`).to.be.lessThan(requests.dave[0]! / 2);
        expect(share(requests.dave, requests.alice, w), `week ${w + 1}: dave's share of requests so far`).to.be.lessThan(share(requests.dave, requests.alice, w - 1));
        expect(share(credits.dave, credits.alice, w), `week ${w + 1}: dave's share of credits so far`).to.be.lessThan(share(credits.dave, credits.alice, w - 1));
        expect(share(credits.alice, credits.dave, w), `week ${w + 1}: alice's share of credits so far`).to.be.greaterThan(share(credits.alice, credits.dave, w - 1));
      }
      // The honest provider also earned a bonus every week it had hits; the junk one never did.
      expect(credits.alice.every((c, w) => c > BigInt(requests.alice[w]! * ITEMS)), "alice's bonus on top of metering").to.equal(true);
      expect(credits.dave.every((c, w) => c === BigInt(requests.dave[w]! * ITEMS)), "dave's metering only").to.equal(true);
    });
  });
});
