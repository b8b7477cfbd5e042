import type { Signer } from "ethers";
import type { Logger } from "../logger.ts";
import {
  AdmissionVerifier__factory,
  ConsortiumHolds__factory,
  ConsortiumRegistry__factory,
  ContributionRegistry__factory,
  QueryLedger__factory,
} from "../../types/ethers-contracts/index.ts";
import type { ContractAddresses } from "./contracts.ts";
import { translateChainError } from "./errors.ts";
import { DEFAULT_CATEGORIES, DEFAULT_CHALLENGES, DEFAULT_CREDITS, DEFAULT_GOVERNANCE, DEFAULT_LEDGER, DEFAULT_POLICY, type CategoryPolicyInput, type CreditParams } from "./options.ts";

/** A founding member seeded at deployment. */
export interface FounderInput {
  address: string;
  name: string;
  /** libp2p PeerId bytes as 0x-hex. */
  peerId: string;
  /** The founder's OPRF public key for key epoch 1 (32 bytes, 0x-hex). */
  oprfKey: string;
}

/** What {@link deployConsortium} sets up. */
export interface DeploymentPlan {
  founders: readonly FounderInput[];
  regulators?: readonly string[];
  categories?: readonly { name: string; policy?: CategoryPolicyInput }[];
  quorumNumerator?: number;
  quorumDenominator?: number;
  votingPeriodSeconds?: bigint;
  maxRegulatorSuspensionSeconds?: bigint;
  regulatorCooldownSeconds?: bigint;
  maxOpenProposals?: number;
  /** How long a challenged provider has to answer on chain (default 24 h). */
  challengeResponseWindowSeconds?: bigint;
  /** How long before a member may challenge the same provider and category again (default 7 days). */
  challengeCooldownSeconds?: bigint;
  /** Delay between executing a time-locked proposal and enacting it (default 48 h). */
  timelockDelaySeconds?: bigint;
  /** How long after deployment seeding stays open (default 30 days); the deployment seeds at once. */
  seedWindowSeconds?: bigint;
  admissionDelaySeconds?: bigint;
  maxPauseSeconds?: bigint;
  pauseCooldownSeconds?: bigint;
  dormancyPeriodSeconds?: bigint;
  /** How long after its removal a removed provider may land batches (QueryLedger). */
  removedGraceSeconds?: bigint;
  /** The QueryLedger's credit parameters, each defaulting to {@link DEFAULT_CREDITS}; fixed for the ledger's life. */
  credits?: Partial<CreditParams>;
  /** The SHA-256 (0x-hex) of the warninglists members should ship (`shippedWarninglists().hash`), seeded when given. */
  warninglistHash?: string;
  /** Renounce the bootstrap admin at the end, so only votes change membership and policy (default true). */
  renounceAdmin?: boolean;
}

/** What a deployment produced. */
export interface DeploymentResult {
  addresses: ContractAddresses;
  deployBlock: number;
  categories: { id: number; name: string }[];
  /** The registry's timelock delay, in seconds, as deployed. */
  timelockDelaySeconds: bigint;
}

/**
 * Deploys the three contracts, names the two companions in the registry (so its address alone finds
 * them), seeds founders, regulators, categories and policy with the deployer as bootstrap admin,
 * then renounces the admin. Plain JSON-RPC only.
 */
export async function deployConsortium(signer: Signer, plan: DeploymentPlan, logger: Logger): Promise<DeploymentResult> {
  const log = logger.child({ module: "deploy" });
  let step = "deploy the registry's libraries";
  try {
    const admin = await signer.getAddress();
    const timelockDelaySeconds = plan.timelockDelaySeconds ?? DEFAULT_GOVERNANCE.timelockDelaySeconds;
    // The admission checks and the pause and dormancy bodies live in linked libraries (EIP-170's size limit).
    const verifier = await (await new AdmissionVerifier__factory(signer).deploy()).waitForDeployment();
    const holds = await (await new ConsortiumHolds__factory(signer).deploy()).waitForDeployment();
    step = "deploy ConsortiumRegistry";
    const libraries = {
      "project/contracts/libraries/AdmissionVerifier.sol:AdmissionVerifier": await verifier.getAddress(),
      "project/contracts/libraries/ConsortiumHolds.sol:ConsortiumHolds": await holds.getAddress(),
    };
    const registry = await new ConsortiumRegistry__factory(libraries, signer).deploy(
      admin,
      plan.quorumNumerator ?? DEFAULT_GOVERNANCE.quorumNumerator,
      plan.quorumDenominator ?? DEFAULT_GOVERNANCE.quorumDenominator,
      plan.votingPeriodSeconds ?? DEFAULT_GOVERNANCE.votingPeriodSeconds,
      plan.maxRegulatorSuspensionSeconds ?? DEFAULT_GOVERNANCE.maxRegulatorSuspensionSeconds,
      plan.regulatorCooldownSeconds ?? DEFAULT_GOVERNANCE.regulatorCooldownSeconds,
      plan.maxOpenProposals ?? DEFAULT_GOVERNANCE.maxOpenProposals,
      timelockDelaySeconds,
      plan.seedWindowSeconds ?? DEFAULT_GOVERNANCE.seedWindowSeconds,
      plan.admissionDelaySeconds ?? DEFAULT_GOVERNANCE.admissionDelaySeconds,
      plan.maxPauseSeconds ?? DEFAULT_GOVERNANCE.maxPauseSeconds,
      plan.pauseCooldownSeconds ?? DEFAULT_GOVERNANCE.pauseCooldownSeconds,
      plan.dormancyPeriodSeconds ?? DEFAULT_GOVERNANCE.dormancyPeriodSeconds,
    );
    const deployReceipt = await registry.deploymentTransaction()?.wait();
    const registryAddress = await registry.getAddress();
    step = "deploy ContributionRegistry";
    const contributions = await new ContributionRegistry__factory(signer).deploy(
      registryAddress,
      plan.challengeResponseWindowSeconds ?? DEFAULT_CHALLENGES.responseWindowSeconds,
      plan.challengeCooldownSeconds ?? DEFAULT_CHALLENGES.cooldownSeconds,
    );
    step = "deploy QueryLedger";
    const credits: CreditParams = { ...DEFAULT_CREDITS, ...plan.credits };
    const ledger = await new QueryLedger__factory(signer).deploy(
      registryAddress,
      plan.removedGraceSeconds ?? DEFAULT_LEDGER.removedGraceSeconds,
      DEFAULT_LEDGER.maxRequestLifetimeSeconds,
      credits.startingCredits,
      credits.overdraftLimit,
      credits.poolPercent,
      credits.providerCapPercent,
      credits.falsePositiveBurn,
    );
    await Promise.all([contributions.waitForDeployment(), ledger.waitForDeployment()]);
    const contributionsAddress = await contributions.getAddress();
    const ledgerAddress = await ledger.getAddress();
    step = "name the companion contracts in the registry";
    await (await registry.seedCompanions(contributionsAddress, ledgerAddress)).wait();
    for (const founder of plan.founders) {
      step = `seed founder ${founder.name}`;
      await (await registry.seedMember(founder.address, founder.name, founder.peerId, founder.oprfKey)).wait();
    }
    for (const regulator of plan.regulators ?? []) {
      step = `seed regulator ${regulator}`;
      await (await registry.seedRegulator(regulator)).wait();
    }
    const categories: { id: number; name: string }[] = [];
    const categoryPlan: readonly { name: string; policy?: CategoryPolicyInput }[] = plan.categories ?? DEFAULT_CATEGORIES.map((name) => ({ name }));
    for (const category of categoryPlan) {
      step = `seed category ${category.name}`;
      const receipt = await (await registry.seedCategory(category.name)).wait();
      const added = receipt?.logs.map((l) => registry.interface.parseLog(l)).find((parsed) => parsed?.name === "CategoryAdded");
      if (!added) throw new Error("CategoryAdded event missing");
      const id = Number(added.args[0]);
      const policy = category.policy ?? DEFAULT_POLICY;
      await (await registry.seedPolicy(id, {
        minEntries: policy.minEntries,
        maxSnapshotAge: policy.maxSnapshotAgeSeconds,
        quotaBase: policy.quotaBase,
        quotaRatioBps: policy.quotaRatioBps,
        quotaCeiling: policy.quotaCeiling,
      })).wait();
      categories.push({ id, name: category.name });
    }
    if (plan.warninglistHash !== undefined) {
      step = "seed the warninglist hash";
      await (await registry.seedWarninglistHash(plan.warninglistHash)).wait();
    }
    if (plan.renounceAdmin !== false) {
      step = "renounce the bootstrap admin";
      await (await registry.renounceAdmin()).wait();
    }
    const addresses = { registry: registryAddress, contributions: contributionsAddress, ledger: ledgerAddress };
    log.info({ ...addresses, founders: plan.founders.length }, "consortium deployed");
    return { addresses, deployBlock: deployReceipt?.blockNumber ?? 0, categories, timelockDelaySeconds };
  } catch (err) {
    throw translateChainError(err, step);
  }
}
