/**
 * A seeded random walk over ConsortiumRegistry's governance: members, a second regulator and
 * candidates make random calls (regulator suspensions, endSuspension, regulator pauses, dormancy
 * marks, member key rotations to fresh accounts, proposals of every membership kind, SetQuorum and Unpause, votes, executions, enactments of
 * queued proposals, activations of admitted members and regulator vetoes of them, time passing across
 * the timelock, the voting period and now and then the dormancy period), most of which the registry
 * refuses. After every step the invariants of docs/GOVERNANCE.md must hold, and at the end of each
 * walk the voting members must still be able to pass a proposal: no sequence freezes governance.
 * A failure names its seed and step, so it replays exactly.
 */
import { expect } from "chai";
import { network } from "hardhat";
import { AbiCoder, concat, type FunctionFragment, type Result } from "ethers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import { MemberStatus, ProposalKind, ProposalStatus } from "../../node/chain/governance.ts";
import type { ConsortiumRegistry } from "../../types/ethers-contracts/index.js";
import {
  ADMISSION_DELAY_SECONDS,
  DORMANCY_PERIOD_SECONDS,
  MAX_PAUSE_SECONDS,
  MAX_REGULATOR_SUSPENSION_SECONDS,
  TIMELOCK_DELAY_SECONDS,
  VOTING_PERIOD_SECONDS,
  admitArgsFor,
  passProposal,
  peerIdFor,
  propose,
  renouncedConsortiumFixture,
  rotationArgsFor,
  sendProposal,
} from "./fixtures.ts";
import { Prng } from "../../scripts/bench/data.ts";

const { ethers, networkHelpers, provider } = await network.create();
const { loadFixture, time } = networkHelpers;

const SEEDS = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
const STEPS_PER_WALK = 200;

/** mulberry32: a small seeded PRNG, so that a failing walk replays from its seed. */
function prng(seed: number): () => number {
  const rng = new Prng(seed);
  return () => rng.next();
}

/** Fractions a walk proposes: some valid, most out of range. */
const FRACTIONS = [[2, 3], [3, 4], [7, 10], [51, 100], [1, 2], [1, 255], [4, 5], [1, 1]] as const;

/**
 * The registry's view functions the walk reads after every step, each one eth_call straight to the
 * chain's EIP-1193 provider, coded by the registry's own ABI with each function's fragment and
 * selector looked up once: through the contract handle, its per-call fragment search and selector
 * hashing took most of the walk's time (some 100 reads a step).
 */
function registryViews(registry: ConsortiumRegistry) {
  const address = registry.target as string;
  const coder = AbiCoder.defaultAbiCoder();
  const functions = new Map<string, { fragment: FunctionFragment; selector: string }>();
  const read = async (name: string, ...args: unknown[]): Promise<Result> => {
    let fn = functions.get(name);
    if (fn === undefined) {
      const fragment = registry.interface.getFunction(name as Parameters<ConsortiumRegistry["interface"]["getFunction"]>[0]);
      fn = { fragment, selector: fragment.selector };
      functions.set(name, fn);
    }
    const data = concat([fn.selector, coder.encode(fn.fragment.inputs, args)]);
    const returned = await provider.request({ method: "eth_call", params: [{ to: address, data }, "latest"] }) as string;
    return coder.decode(fn.fragment.outputs, returned);
  };
  const one = async <T>(name: string, ...args: unknown[]): Promise<T> => (await read(name, ...args))[0] as T;
  return {
    memberCount: () => one<bigint>("memberCount"),
    memberAt: (index: bigint) => one<{ account: string; status: bigint }>("memberAt", index),
    memberStatus: (account: string) => one<bigint>("memberStatus", account),
    isVotingMember: (account: string) => one<boolean>("isVotingMember", account),
    successorOf: (account: string) => one<string>("successorOf", account),
    predecessorOf: (account: string) => one<string>("predecessorOf", account),
    /** The end of a regulator's suspension of `account` (0 when none). */
    regulatorSuspendedUntil: (account: string) => one<bigint>("regulatorSuspension", account),
    isDormant: async (account: string) => (await read("activityOf", account))[1] as boolean,
    votingMemberCount: () => one<bigint>("votingMemberCount"),
    quorumFor: (voting: bigint) => one<bigint>("quorumFor", voting),
    activeMemberCount: () => one<bigint>("activeMemberCount"),
    regulatorSuspendedCount: () => one<bigint>("regulatorSuspendedCount"),
  };
}
type RegistryViews = ReturnType<typeof registryViews>;

/** The voting members, and what the registry's counters must agree with, recounted from every member record. */
async function recount(registry: RegistryViews) {
  const count = await registry.memberCount();
  // Every member's record read at once (they are independent reads of one state), then counted in order.
  const records = await Promise.all(Array.from({ length: Number(count) }, async (_, i) => {
    const record = await registry.memberAt(BigInt(i));
    const status = Number(record.status);
    const [votes, suspendedUntil, dormant, badRotation] = await Promise.all([
      registry.isVotingMember(record.account),
      registry.regulatorSuspendedUntil(record.account),
      registry.isDormant(record.account),
      status === MemberStatus.Rotated
        ? registry.successorOf(record.account).then(async (successor) =>
          (await registry.predecessorOf(successor)) !== record.account || (await registry.isVotingMember(record.account)))
        : false,
    ]);
    return { account: record.account, status, votes, suspendedUntil, dormant, badRotation };
  }));
  const voters: string[] = [];
  const dormantWithoutVote: string[] = [];
  /** Rotated accounts whose links are broken, or that still vote. */
  const badRotations: string[] = [];
  let active = 0n;
  let regulatorSuspended = 0n;
  for (const { account, status, votes, suspendedUntil, dormant, badRotation } of records) {
    if (votes) voters.push(account);
    if (status === MemberStatus.Active) active++;
    if (badRotation) badRotations.push(account);
    if (suspendedUntil !== 0n) regulatorSuspended++;
    // Only a member holding a vote (Active, or suspended by a regulator) is ever dormant.
    if (dormant) {
      const holdsVote = status === MemberStatus.Active || (status === MemberStatus.Suspended && suspendedUntil !== 0n);
      if (!holdsVote) dormantWithoutVote.push(account);
    }
  }
  return { voters, dormantWithoutVote, badRotations, counters: { voting: BigInt(voters.length), active, regulatorSuspended } };
}

describe("ConsortiumRegistry: no call sequence freezes governance (seeded random walk)", function () {
  /** The fewest voting members any walk reached: the walks must press against the floor, not stay clear of it. */
  let lowestOfAllWalks = Number.POSITIVE_INFINITY;
  /** How many queued proposals the walks enacted: the timelock must be exercised, not only refused. */
  let enactedOfAllWalks = 0;
  /** Admissions brought into force and vetoed over all walks: the walks must exercise both. */
  let activations = 0;
  let vetoes = 0;
  /** Calls of the newer rules that went through, over all walks: the walks must exercise them, not only be refused. */
  const succeeded = { regulatorPause: 0, markDormant: 0, rotateMemberKey: 0 };

  for (const seed of SEEDS) {
    it(`seed ${seed}: voting members ≥ max(2, quorum) after every step, and they can still pass a proposal`, async function () {
      const fixture = await loadFixture(renouncedConsortiumFixture);
      const { registry, regulator, erin, frank, outsider, members } = fixture;
      const views = registryViews(registry);
      const signers = await ethers.getSigners();
      const candidates = [erin, frank, ...signers.slice(9, 13)];
      // A second regulator, so that regulators together are capped, not each one.
      const secondRegulator = signers[13]!;
      await passProposal(registry, members, ProposalKind.AddRegulator, { account: secondRegulator.address });
      const regulators = [regulator, secondRegulator];
      // Each candidate's own signed request; a walk also tries them spoiled.
      const requests = new Map<string, Awaited<ReturnType<typeof admitArgsFor>>>();
      for (const candidate of candidates) requests.set(candidate.address, await admitArgsFor(registry, candidate, "Candidate"));
      // Fresh accounts members may move to by a member key rotation (outsiders until then).
      const fresh = signers.slice(14, 20);
      /** Accounts that hold or held a membership by a rotation. */
      const rotatedTo: HardhatEthersSigner[] = [];
      const everyone: HardhatEthersSigner[] = [...members, ...candidates, ...regulators, outsider, ...fresh];
      const random = prng(seed);
      const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
      const bySigner = (address: string) => everyone.find((s) => s.address === address)!;
      const openIds: bigint[] = [];
      const queuedIds: bigint[] = [];
      let voters = members.map((m) => m.address);
      /** Candidates whose admission executed and is not yet in force (nor vetoed). */
      let admitted: string[] = [];
      let refused = 0;
      let enacted = 0;
      let lowestVoting = BigInt(members.length);

      for (let step = 0; step < STEPS_PER_WALK; step++) {
        const where = `seed ${seed}, step ${step}`;
        const roll = random();
        // Mostly members and candidates: they are what suspensions, removals and admissions are about.
        const target = (random() < 0.8 ? pick([...members, ...rotatedTo, ...candidates]) : pick(everyone)).address;
        let call: Promise<unknown>;
        if (roll < 0.1) {
          const now = BigInt(await time.latest());
          call = registry.connect(pick(regulators)).regulatorSuspend(target, now + 2n + BigInt(Math.floor(random() * Number(MAX_REGULATOR_SUSPENSION_SECONDS))));
        } else if (roll < 0.13) {
          call = registry.connect(pick(everyone)).endSuspension(target);
        } else if (roll < 0.17) {
          const candidate = admitted.length > 0 && random() < 0.8 ? pick(admitted) : target;
          // Often past the admission delay first: the walk's other clock moves rarely cover a whole day.
          if (admitted.includes(candidate) && random() < 0.4) await time.increase(ADMISSION_DELAY_SECONDS);
          call = registry.connect(pick(everyone)).activate(candidate).then(async (tx) => {
            await tx.wait();
            activations++;
          });
        } else if (roll < 0.215) {
          const candidate = admitted.length > 0 && random() < 0.8 ? pick(admitted) : target;
          const caller = random() < 0.8 ? pick(regulators) : pick(everyone);
          call = registry.connect(caller).vetoAdmission(candidate, ethers.encodeBytes32String("walk")).then(async (tx) => {
            await tx.wait();
            vetoes++;
          });
        } else if (roll < 0.235) {
          // A pause, mostly by a regulator, sometimes past its longest end.
          const now = BigInt(await time.latest());
          call = registry.connect(random() < 0.8 ? pick(regulators) : pick(everyone)).regulatorPause(now + 2n + BigInt(Math.floor(random() * 1.2 * Number(MAX_PAUSE_SECONDS))))
            .then(() => void succeeded.regulatorPause++);
        } else if (roll < 0.28) {
          // Anyone marks someone dormant: the hostile mark the voters, to shrink the electorate.
          call = registry.connect(pick(everyone)).markDormant(random() < 0.7 ? pick(voters) : target).then(() => void succeeded.markDormant++);
        } else if (roll < 0.31) {
          // A member moves to a fresh account (mostly a voter; sometimes signed for another old account).
          const caller = random() < 0.8 ? bySigner(pick(voters)) : pick(everyone);
          const next = pick(fresh);
          const signedFor = random() < 0.9 ? caller.address : pick(everyone).address;
          call = rotationArgsFor(registry, signedFor, next)
            .then((args) => registry.connect(caller).rotateMemberKey(...args))
            .then(async (tx) => {
              await tx.wait();
              rotatedTo.push(next);
              succeeded.rotateMemberKey++;
            });
        } else if (roll < 0.48) {
          // Hostile members mostly try to suspend and remove the others.
          const kind = pick([ProposalKind.Suspend, ProposalKind.Remove, ProposalKind.Suspend, ProposalKind.Remove, ProposalKind.Reinstate, ProposalKind.Admit, ProposalKind.Admit, ProposalKind.SetQuorum, ProposalKind.Unpause] as const);
          const proposer = random() < 0.7 ? bySigner(pick(voters)) : pick(everyone);
          if (kind === ProposalKind.Admit) {
            const candidate = pick(candidates).address;
            const request = requests.get(candidate)!;
            call = sendProposal(registry, proposer, kind, random() < 0.85 ? request : { ...request, peerId: peerIdFor(candidate) });
          } else if (kind === ProposalKind.SetQuorum) {
            const [numerator, denominator] = pick(FRACTIONS);
            call = sendProposal(registry, proposer, kind, { numerator, denominator });
          } else if (kind === ProposalKind.Unpause) {
            call = sendProposal(registry, proposer, kind, {});
          } else {
            call = sendProposal(registry, proposer, kind, { account: random() < 0.7 ? pick(voters) : target });
          }
          call = (call as Promise<Awaited<ReturnType<typeof sendProposal>>>).then(async (tx) => {
            await tx.wait();
            openIds.push(await registry.proposalCount());
          });
        } else if (roll < 0.8 && openIds.length > 0) {
          // Recent proposals, mostly by those with a vote (the others are refused).
          const voter = random() < 0.85 ? bySigner(pick(voters)) : pick(everyone);
          call = registry.connect(voter).vote(pick(openIds.slice(-4)));
        } else if (roll < 0.89 && openIds.length > 0) {
          const proposalId = pick(openIds.slice(-4));
          call = registry.connect(pick(everyone)).execute(proposalId).then(async (tx) => {
            await tx.wait();
            if (Number((await registry.proposal(proposalId)).status) === ProposalStatus.Queued) queuedIds.push(proposalId);
          });
        } else if (roll < 0.95 && queuedIds.length > 0) {
          // Queued Removes and SetQuorums, enacted by anyone once (or before) their eta.
          call = registry.connect(pick(everyone)).enact(pick(queuedIds)).then(() => {
            enacted++;
          });
        } else if (random() < 0.15) {
          // Long silence: everyone who does not act from now on may be marked dormant.
          call = time.increase(DORMANCY_PERIOD_SECONDS);
        } else if (random() < 0.5) {
          // Just past a timelock, so queued proposals become enactable while others stay open.
          call = time.increase(TIMELOCK_DELAY_SECONDS + BigInt(Math.floor(random() * 600)));
        } else {
          call = time.increase(BigInt(Math.floor(random() * Number(VOTING_PERIOD_SECONDS))));
        }
        await call.catch(() => {
          refused++;
        });

        const voting = await views.votingMemberCount();
        const quorum = await views.quorumFor(voting);
        expect(voting >= 2n && voting >= quorum, `${where}: ${voting} voting members, quorum ${quorum}`).to.equal(true);
        const [recounted, active, regulatorSuspended, candidateStates] = await Promise.all([
          recount(views), views.activeMemberCount(), views.regulatorSuspendedCount(),
          Promise.all(candidates.map(async (candidate) => ({
            address: candidate.address, status: Number(await views.memberStatus(candidate.address)), votes: await views.isVotingMember(candidate.address),
          }))),
        ]);
        expect(recounted.counters, `${where}: counters`).to.deep.equal({ voting, active, regulatorSuspended });
        expect(recounted.dormantWithoutVote, `${where}: dormant without a vote`).to.deep.equal([]);
        expect(recounted.badRotations, `${where}: rotated accounts linked and without a vote`).to.deep.equal([]);
        admitted = [];
        for (const candidate of candidateStates) {
          if (candidate.status !== MemberStatus.Admitted) continue;
          expect(candidate.votes, `${where}: an admitted member has no vote before it is in force`).to.equal(false);
          admitted.push(candidate.address);
        }
        voters = recounted.voters;
        if (voting < lowestVoting) lowestVoting = voting;
        lowestOfAllWalks = Math.min(lowestOfAllWalks, Number(voting));
      }

      // Liveness: after the walk, the voting members together pass a fresh proposal.
      await time.increase(VOTING_PERIOD_SECONDS); // every open proposal lapses, freeing proposal slots
      const [proposer, ...others] = voters.map(bySigner);
      const proposalId = await propose(registry, proposer!, ProposalKind.AddCategory, { name: `after_walk_${seed}` });
      for (const voter of others) await registry.connect(voter).vote(proposalId);
      await expect(registry.execute(proposalId), `seed ${seed}: liveness`).to.emit(registry, "CategoryAdded");
      expect(refused, `seed ${seed}: the walk should also make calls that succeed`).to.be.lessThan(STEPS_PER_WALK);
      enactedOfAllWalks += enacted;
      if (process.env.RISKSHARE_WALK_LOG) console.log(`seed ${seed}: ${refused} of ${STEPS_PER_WALK} calls refused, ${queuedIds.length} queued, ${enacted} enacted, voting members down to ${lowestVoting}, ${await registry.memberCount()} ever admitted; ${activations} activations and ${vetoes} vetoes so far`);
    });
  }

  it("pressed against the floor: some walk brought the voting members down to 2", function () {
    expect(lowestOfAllWalks).to.equal(2);
  });

  it("went through the timelock: the walks enacted queued proposals", function () {
    expect(enactedOfAllWalks).to.be.greaterThan(0);
  });

  it("brought admitted members into force and vetoed others", function () {
    expect(activations, "activations").to.be.greaterThan(0);
    expect(vetoes, "vetoes").to.be.greaterThan(0);
  });

  it("exercised the pause and dormancy: some pauses and dormancy marks went through", function () {
    expect(succeeded.regulatorPause, "pauses").to.be.greaterThan(0);
    expect(succeeded.markDormant, "dormancy marks").to.be.greaterThan(0);
  });

  it("exercised member key rotations: some went through", function () {
    expect(succeeded.rotateMemberKey, "rotations").to.be.greaterThan(0);
  });
});
