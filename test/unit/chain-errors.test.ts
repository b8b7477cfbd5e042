import { expect } from "chai";
import { inspect } from "node:util";
import { network } from "hardhat";
import { BrowserProvider, FetchRequest, JsonRpcProvider, Network, hexlify, makeError, randomBytes, type ContractRunner } from "ethers";
import {
  connectChain, connectContracts, deployConsortium, encodeProposalPayload, ProposalKind, QueryOutcome, translateChainError,
  type ConsortiumContracts, type ContractAddresses,
} from "../../node/chain/index.ts";
import { isRiskshareError, type RiskshareError } from "../../node/errors.ts";
import { silentLogger } from "../../node/logger.ts";
import {
  IConsortiumRegistry__factory, IContributionRegistry__factory, IQueryLedger__factory,
} from "../../types/ethers-contracts/index.ts";

const connection = await network.create();
const { ethers } = connection;

/** Resolves to what `promise` rejects with; fails the test if it resolves. */
async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  expect.fail("expected the call to be refused");
}

/** The custom errors every contract declares, by name. */
function customErrorNames(): string[] {
  const abis = [IConsortiumRegistry__factory.abi, IContributionRegistry__factory.abi, IQueryLedger__factory.abi];
  return abis.flatMap((abi) => abi.filter((f) => f.type === "error").map((f) => f.name));
}

describe("translateChainError: chain failures in words a user acts on", () => {
  describe("reverts of real transactions, sent over JSON-RPC as the node sends them", () => {
    // ethers' JSON-RPC provider over the in-process chain's EIP-1193 interface: a revert comes back
    // as a JSON-RPC error whose data only the contracts' ABIs can name, exactly as from a remote client.
    const rpc = new BrowserProvider(connection.provider);
    let addresses: ContractAddresses;
    let admin: string, alice: string, bob: string, outsider: string;

    async function contractsOf(account: string): Promise<ConsortiumContracts> {
      return connectContracts(addresses, await rpc.getSigner(account) as ContractRunner);
    }

    before(async () => {
      const signers = await ethers.getSigners();
      [admin, alice, bob, outsider] = signers.slice(0, 4).map((s) => s.address) as [string, string, string, string];
      const carol = signers[4]!.address;
      const deployment = await deployConsortium(signers[0]!, {
        founders: [alice, bob, carol].map((address, i) => ({ address, name: `Bank ${i}`, peerId: hexlify(randomBytes(38)), oprfKey: hexlify(randomBytes(32)) })),
        regulators: [signers[5]!.address],
      }, silentLogger());
      addresses = deployment.addresses;
    });
    after(() => rpc.destroy());

    it("a vote by an account that is no member: E_NOT_MEMBER, naming the rule and the account", async () => {
      const proposalId = await openProposal();
      const err = translateChainError(await rejection((await contractsOf(outsider)).registry.vote(proposalId)), `vote on proposal ${proposalId}`);
      expect(err.code).to.equal("E_NOT_MEMBER");
      expect(err.message).to.equal(`vote on proposal ${proposalId}: the account has no vote: it is not a member, or it was suspended by vote or removed (ConsortiumRegistryNotVotingMember: ${outsider})`);
      expect(err.meta).to.deep.equal({ revert: "ConsortiumRegistryNotVotingMember", args: [outsider] });
    });

    it("executing a proposal below its quorum: E_CHAIN_REVERTED, with its votes and quorum", async () => {
      const proposalId = await openProposal();
      const err = translateChainError(await rejection((await contractsOf(alice)).registry.execute(proposalId)), `execute proposal ${proposalId}`);
      expect(err.code).to.equal("E_CHAIN_REVERTED");
      expect(err.message).to.contain("the proposal does not have enough counted votes yet");
      expect(err.meta).to.deep.equal({ revert: "ConsortiumRegistryQuorumNotReached", args: [String(proposalId), "1", "2"] });
    });

    it("a ledger batch whose sequence number is not the next: E_CHAIN_REVERTED, with the expected number", async () => {
      const { ledger } = await contractsOf(alice);
      const err = translateChainError(await rejection(ledger.recordBatch(7, [queryRecord()])), "record batch 7");
      expect(err.code).to.equal("E_CHAIN_REVERTED");
      expect(err.message).to.contain("the batch sequence number is not the next one for this provider");
      expect(err.meta).to.deep.equal({ revert: "QueryLedgerBadSequence", args: [alice, "1", "7"] });
    });

    it("a contribution published by an account that is no member: E_NOT_MEMBER", async () => {
      const { contributions } = await contractsOf(outsider);
      const err = translateChainError(await rejection(contributions.publish(1, 1, 10, hexlify(randomBytes(32)))), "publish a contribution");
      expect(err.code).to.equal("E_NOT_MEMBER");
      expect(err.message).to.contain("only an Active member may publish a contribution");
    });

    it("a regulator's suspension by a member, and seeding after the admin renounced: E_NOT_AUTHORIZED", async () => {
      const byMember = translateChainError(await rejection((await contractsOf(alice)).registry.regulatorSuspend(bob, 1n)), "suspend");
      expect([byMember.code, byMember.meta.revert]).to.deep.equal(["E_NOT_AUTHORIZED", "ConsortiumRegistryNotRegulator"]);
      const byAdmin = translateChainError(await rejection((await contractsOf(admin)).registry.seedCategory("late")), "seed a category");
      expect([byAdmin.code, byAdmin.meta.revert]).to.deep.equal(["E_NOT_AUTHORIZED", "ConsortiumRegistryAdminRenounced"]);
      expect(byAdmin.message).to.contain("only a vote of the members changes the registry now");
    });

    it("names the revert too when Hardhat's own signer raised it", async () => {
      const viaHardhat = connectContracts(addresses, (await ethers.getSigners())[3]!); // outsider
      const err = translateChainError(await rejection(viaHardhat.registry.vote(1)), "vote on proposal 1");
      expect([err.code, err.meta.revert]).to.deep.equal(["E_NOT_MEMBER", "ConsortiumRegistryNotVotingMember"]);
    });

    /** Opens a SetKeyEpochLength proposal by alice (1 vote of a quorum of 2), a new length each time; returns its id. */
    let opened = 0n;
    async function openProposal(): Promise<bigint> {
      const { registry } = await contractsOf(alice);
      const args = { keyEpochLengthSeconds: 86_400n + opened++ };
      await (await registry.propose(ProposalKind.SetKeyEpochLength, encodeProposalPayload(ProposalKind.SetKeyEpochLength, args))).wait();
      return registry.proposalCount();
    }
  });

  describe("every custom error", () => {
    it("has its own sentence, and the access errors their own codes", () => {
      const names = customErrorNames();
      expect(names).to.have.length.greaterThan(30);
      for (const name of names) {
        const revert = { name, signature: `${name}()`, args: [] };
        const err = translateChainError(makeError("execution reverted", "CALL_EXCEPTION", { action: "estimateGas", data: "0x", reason: null, transaction: { to: null, data: "0x" }, invocation: null, revert }), "act");
        expect(err.message, name).not.to.contain("the contract refused it");
        expect(err.message, name).to.match(new RegExp(`^act: [a-z].+ \\(${name}\\)$`));
        const code = /Not(Active|Voting)Member$/.test(name) ? "E_NOT_MEMBER"
          : /(NotAdmin|NotPendingAdmin|NotRegulator|AdminRenounced|SeedingClosed|NotEntitled|RegulatorMayNotPropose)$/.test(name) ? "E_NOT_AUTHORIZED"
          : name === "ConsortiumRegistryProposalTimelocked" ? "E_TIMELOCKED"
          : name === "QueryLedgerFeedbackExceedsEvaluated" ? "E_FEEDBACK_EXCEEDS_EVALUATED"
          : /(WeekNotOver|BonusAlreadySettled|SettlementExpired)$/.test(name) ? "E_BONUS_NOT_SETTLEABLE" : "E_CHAIN_REVERTED";
        expect(err.code, name).to.equal(code);
      }
    });
  });

  describe("an unreachable chain", () => {
    const credentialedUrl = "http://auditor:hunter2-secret@127.0.0.1:1/rpc?apikey=key-in-query";
    const secrets = ["auditor", "hunter2-secret", "key-in-query"];

    function expectNoSecret(err: RiskshareError): void {
      const exposed = [err.message, JSON.stringify(err.toJSON()), inspect(err.meta)];
      for (const secret of secrets) {
        for (const text of exposed) expect(text, `"${secret}" in ${text}`).not.to.contain(secret);
      }
    }

    it("connecting to a port nobody listens on: E_CHAIN_UNREACHABLE, without the URL's credentials", async () => {
      const err = await rejection(connectChain({ rpcUrl: credentialedUrl, rpcTimeoutMs: 5_000, pollIntervalMs: 1_000 }));
      expect(isRiskshareError(err, "E_CHAIN_UNREACHABLE"), String(err)).to.equal(true);
      const unreachable = err as RiskshareError;
      expect(unreachable.message).to.equal("cannot reach the chain at http://127.0.0.1:1/rpc");
      expect(unreachable.meta).to.deep.equal({ rpc: "http://127.0.0.1:1/rpc" });
      expectNoSecret(unreachable);
    });

    it("a provider call refused on the way: E_CHAIN_UNREACHABLE, without the URL's credentials", async () => {
      const local = Network.from(31337n);
      const provider = new JsonRpcProvider(new FetchRequest(credentialedUrl), local, { staticNetwork: local });
      try {
        const err = translateChainError(await rejection(provider.getBlockNumber()), "follow the consortium registry");
        expect(err.code).to.equal("E_CHAIN_UNREACHABLE");
        expect(err.message).to.equal("follow the consortium registry: the chain RPC did not answer");
        expectNoSecret(err);
      } finally {
        provider.destroy();
      }
    });
  });
});

/** A well-formed query record with random contents; the ledger checks only who sends it and its sequence number. */
function queryRecord() {
  return {
    querier: hexlify(randomBytes(20)),
    categoryMask: 0b10n,
    deadline: 2n ** 40n,
    itemCount: 1,
    kind: 0,
    keyEpoch: 1,
    outcome: QueryOutcome.Answered,
    count: 1,
    itemsCommitment: hexlify(randomBytes(32)),
    nonce: hexlify(randomBytes(32)),
    signatureR: hexlify(randomBytes(32)),
    signatureVs: hexlify(randomBytes(32)),
    answerDigest: hexlify(randomBytes(32)),
  };
}
