/**
 * The consortium every contract test starts from, and small helpers to drive its governance.
 *
 * @example
 *   const { ethers, networkHelpers } = await network.create();
 *   const { registry, alice, bob, carol } = await networkHelpers.loadFixture(consortiumFixture);
 *   await passProposal(registry, [alice, bob, carol], ProposalKind.SetKeyEpochLength, { keyEpochLengthSeconds: 86_400n });
 */
import type { NetworkConnection } from "hardhat/types/network";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import {
  ContractFactory, HDNodeWallet, SigningKey, concat, dataSlice, getAddress, getBytes, hashMessage, hexlify, keccak256, randomBytes, toBeHex,
  type ContractTransactionResponse,
} from "ethers";
import type { ConsortiumRegistry } from "../../types/ethers-contracts/index.js";
import type { RiskshareTypes } from "../../types/ethers-contracts/QueryLedger.js";
import {
  categoryMask,
  encodeProposalPayload,
  isTimelocked,
  toCompactSignature,
  type CategoryPolicy,
  type ProposalArgsInput,
  type ProposalKind,
} from "../../node/chain/governance.ts";
import { LookupKind, lookupRequestDigestBytes, mutable, signDigest, type LookupRequest } from "../../node/chain/eip712.ts";
import { ADMISSION_TYPES, admissionDomain, admissionPeerId } from "../../node/chain/admission.ts";
import { KEY_ROTATION_TYPES } from "../../node/chain/rotation.ts";
import { evaluateCommitment, refusalDigest } from "../../node/chain/digests.ts";
import { QueryOutcome, REFUSAL_ERROR_CODES, type QueryOutcomeCode } from "../../node/chain/outcomes.ts";

/** How long a proposal stays open in the fixture: three days. */
export const VOTING_PERIOD_SECONDS = 3n * 24n * 3600n;

/** Quorum fraction of the fixture: two thirds (quorum max(⌊E/2⌋+1, ⌈2E/3⌉), capped at E−1 for E ≥ 3). */
export const QUORUM = { numerator: 2, denominator: 3 } as const;

/** The longest regulator suspension in the fixture: 14 days. */
export const MAX_REGULATOR_SUSPENSION_SECONDS = 14n * 24n * 3600n;

/** How long after a regulator suspension lapses before a regulator may suspend the member again: 30 days. */
export const REGULATOR_COOLDOWN_SECONDS = 30n * 24n * 3600n;

/** How many proposals one account may have open at once. */
export const MAX_OPEN_PROPOSALS = 3;

/** How long an executed time-locked proposal waits before it may be enacted: one hour. */
export const TIMELOCK_DELAY_SECONDS = 3600n;

/** How long after deployment the admin may seed: 30 days, the default. */
export const SEED_WINDOW_SECONDS = 30n * 24n * 3600n;

/** How long an executed Admit waits before `activate` (the regulator's veto window): one day. */
export const ADMISSION_DELAY_SECONDS = 24n * 3600n;

/** The longest regulator pause of every lookup in the fixture: 72 hours. */
export const MAX_PAUSE_SECONDS = 72n * 3600n;

/** How long after a pause began before any regulator may pause again: 30 days. */
export const PAUSE_COOLDOWN_SECONDS = 30n * 24n * 3600n;

/** How long a member may take no on-chain action before it may be marked dormant: 180 days. */
export const DORMANCY_PERIOD_SECONDS = 180n * 24n * 3600n;

/** The registry's constructor arguments that follow the maximum open proposals: pause and dormancy. */
export const HOLDS_ARGS = [MAX_PAUSE_SECONDS, PAUSE_COOLDOWN_SECONDS, DORMANCY_PERIOD_SECONDS] as const;

/** The constructor arguments of the fixture's registry after the admin. */
export const REGISTRY_ARGS = [
  QUORUM.numerator,
  QUORUM.denominator,
  VOTING_PERIOD_SECONDS,
  MAX_REGULATOR_SUSPENSION_SECONDS,
  REGULATOR_COOLDOWN_SECONDS,
  MAX_OPEN_PROPOSALS,
  TIMELOCK_DELAY_SECONDS,
  SEED_WINDOW_SECONDS,
  ADMISSION_DELAY_SECONDS,
  ...HOLDS_ARGS,
] as const;

/** How long after its removal a removed provider may land batches in the fixture's ledger: 7 days. */
export const REMOVED_GRACE_SECONDS = 7n * 24n * 3600n;

/** The longest request lifetime the fixture's ledger bounds a removed provider's records with. */
export const MAX_REQUEST_LIFETIME_SECONDS = 600n;

/** The fixture ledger's credit parameters: the deployment defaults (100,000 credits, L 100,000, pool 10 %, cap 20 %, burn 10). */
export const CREDIT_ARGS = [100_000n, 100_000n, 10, 20, 10n] as const;

/** The QueryLedger's constructor arguments after the registry. */
export const LEDGER_ARGS = [REMOVED_GRACE_SECONDS, MAX_REQUEST_LIFETIME_SECONDS, ...CREDIT_ARGS] as const;

/** Constructor arguments of a ConsortiumRegistry after the admin. */
export type RegistryArgs = readonly [number, number, bigint, bigint, bigint, number, bigint, bigint, bigint, bigint, bigint, bigint];

/**
 * The registry's factory, linked to freshly deployed libraries: AdmissionVerifier (a candidate's
 * signed request) and ConsortiumHolds (the pause and dormancy bodies), EIP-170's size limit.
 */
export async function registryFactory({ ethers }: Pick<NetworkConnection, "ethers">) {
  const verifier = await ethers.deployContract("AdmissionVerifier");
  const holds = await ethers.deployContract("ConsortiumHolds");
  return ethers.getContractFactory("ConsortiumRegistry", { libraries: { AdmissionVerifier: await verifier.getAddress(), ConsortiumHolds: await holds.getAddress() } });
}

/** Deploys a ConsortiumRegistry (linked to its AdmissionVerifier) with `admin` and `args`. */
export async function deployRegistry(connection: Pick<NetworkConnection, "ethers">, admin: string, args: RegistryArgs = REGISTRY_ARGS): Promise<ConsortiumRegistry> {
  const factory = await registryFactory(connection);
  const registry = (await factory.deploy(admin, ...args)) as unknown as ConsortiumRegistry;
  await registry.waitForDeployment();
  return registry;
}

/** Categories seeded by the fixture; their ids are 1, 2, 3. */
/** ContributionRegistry's spot-check parameters in the fixture: a day to answer, a week between challenges. */
export const CHALLENGE_RESPONSE_WINDOW_SECONDS = 24n * 3600n;
export const CHALLENGE_COOLDOWN_SECONDS = 7n * 24n * 3600n;
export const CONTRIBUTION_ARGS = [CHALLENGE_RESPONSE_WINDOW_SECONDS, CHALLENGE_COOLDOWN_SECONDS] as const;

export const CATEGORY_NAMES = ["fraud_confirmed", "money_mule", "stolen_card"] as const;

/** The policy the fixture seeds for every category. */
export const POLICY: CategoryPolicy = {
  minEntries: 10n,
  maxSnapshotAge: 7n * 24n * 3600n,
  quotaBase: 1_000n,
  quotaRatioBps: 5_000n,
  quotaCeiling: 100_000n,
};

/**
 * A PeerId-shaped byte string for an account (39 bytes, like the identity multihash of a
 * secp256k1 libp2p key): deterministic, distinct per account and per `variant`.
 */
export function peerIdFor(address: string, variant = 0): string {
  const fakeCompressedKey = concat(["0x02", dataSlice(keccak256(concat([address, toBeHex(variant, 1)])), 0, 32)]);
  return concat(["0x002508021221", fakeCompressedKey]);
}

/**
 * An OPRF-public-key-shaped 32 bytes for an account: deterministic, distinct per account and per
 * `variant` (the contracts never parse it; nodes do).
 */
export function oprfKeyFor(address: string, variant = 0): string {
  return keccak256(concat(["0x6f707266", address, toBeHex(variant, 4)]));
}

/** A display name for an account. */
export function nameFor(label: string): string {
  return `${label} Bank`;
}

/**
 * Four founding members (alice, bob, carol, dave: quorum 3), one regulator, three categories with
 * a policy each; the admin is still in place. erin and frank are candidates, outsider is nobody.
 */
export async function consortiumFixture(connection: NetworkConnection) {
  const { ethers } = connection;
  const [admin, alice, bob, carol, dave, erin, frank, regulator, outsider] = await ethers.getSigners();
  if (!admin || !alice || !bob || !carol || !dave || !erin || !frank || !regulator || !outsider) {
    throw new Error("the Hardhat network needs at least 9 accounts");
  }
  const registry = await deployRegistry({ ethers }, admin.address);
  const registryAddress = await registry.getAddress();
  const founders = { alice, bob, carol, dave };
  for (const [label, signer] of Object.entries(founders)) {
    await registry.seedMember(signer.address, nameFor(label), peerIdFor(signer.address), oprfKeyFor(signer.address));
  }
  await registry.seedRegulator(regulator.address);
  for (const name of CATEGORY_NAMES) await registry.seedCategory(name);
  for (let id = 1; id <= CATEGORY_NAMES.length; id++) await registry.seedPolicy(id, POLICY);

  const contributions = await ethers.deployContract("ContributionRegistry", [registryAddress, ...CONTRIBUTION_ARGS]);
  const ledger = await ethers.deployContract("QueryLedger", [registryAddress, ...LEDGER_ARGS]);
  return {
    registry,
    contributions,
    ledger,
    admin,
    alice,
    bob,
    carol,
    dave,
    erin,
    frank,
    regulator,
    outsider,
    members: [alice, bob, carol, dave],
  };
}

/**
 * The consortium with its companions named in the registry (as `riskshare deploy` does), so that the
 * ledger and the ContributionRegistry report their members' activity; the admin has renounced.
 */
export async function boundConsortiumFixture(connection: NetworkConnection) {
  const fixture = await consortiumFixture(connection);
  await fixture.registry.seedCompanions(await fixture.contributions.getAddress(), await fixture.ledger.getAddress());
  await fixture.registry.connect(fixture.admin).renounceAdmin();
  return fixture;
}

/** The same consortium after the bootstrap admin renounced: only votes change it now. */
export async function renouncedConsortiumFixture(connection: NetworkConnection) {
  const fixture = await consortiumFixture(connection);
  await fixture.registry.connect(fixture.admin).renounceAdmin();
  return fixture;
}

/** An Admit's arguments as the candidate signs them; each field may be spoiled by a test. */
export type AdmitArgs = ProposalArgsInput<typeof ProposalKind.Admit>;

/** The uncompressed public key (0x04‖x‖y) of a signer, recovered from a signature it makes. */
export async function publicKeyOf(signer: HardhatEthersSigner): Promise<string> {
  const message = "riskshare: which key is this";
  return SigningKey.recoverPublicKey(hashMessage(message), await signer.signMessage(message));
}

/**
 * The Admit arguments of `candidate`'s own admission request to `registry`: its public key, its
 * PeerId (of that key), `name` and `oprfKey`, signed by the candidate (EIP-712) for this chain.
 */
export async function admitArgsFor(
  registry: Pick<ConsortiumRegistry, "getAddress">,
  candidate: HardhatEthersSigner,
  name = "Erin",
  oprfKey = oprfKeyFor(candidate.address),
  domain?: { chainId: bigint; registry: string },
): Promise<AdmitArgs> {
  const uncompressed = await publicKeyOf(candidate);
  const fields = {
    account: candidate.address,
    name,
    peerId: admissionPeerId(getBytes(uncompressed)),
    publicKey: dataSlice(uncompressed, 1),
    oprfKey,
  };
  const chainId = domain?.chainId ?? (await candidate.provider!.getNetwork()).chainId;
  const signature = await candidate.signTypedData(admissionDomain(chainId, domain?.registry ?? (await registry.getAddress())), mutable(ADMISSION_TYPES), fields);
  return { ...fields, signature };
}

/** Admits `candidate` by a vote of `voters` (see {@link passProposal}), waits out the admission delay and activates it. */
export async function admitMember(
  registry: ConsortiumRegistry,
  voters: readonly HardhatEthersSigner[],
  candidate: HardhatEthersSigner,
  name = "Erin",
  oprfKey = oprfKeyFor(candidate.address),
): Promise<bigint> {
  const proposalId = await passProposal(registry, voters, 0 as typeof ProposalKind.Admit, await admitArgsFor(registry, candidate, name, oprfKey));
  await increaseTime(candidate, await registry.admissionDelay());
  await registry.activate(candidate.address);
  return proposalId;
}

/** Moves the chain's clock `seconds` ahead and mines a block. */
export async function increaseTime(signer: HardhatEthersSigner, seconds: bigint): Promise<void> {
  const provider = signer.provider as unknown as { send(method: string, params: unknown[]): Promise<unknown> };
  await provider.send("evm_increaseTime", [Number(seconds)]);
  await provider.send("evm_mine", []);
}

/** Sends `propose` from `proposer` with the payload encoded for `kind`. */
export function sendProposal<K extends ProposalKind>(
  registry: ConsortiumRegistry,
  proposer: HardhatEthersSigner,
  kind: K,
  args: ProposalArgsInput<K>,
): Promise<ContractTransactionResponse> {
  return registry.connect(proposer).propose(kind, encodeProposalPayload(kind, args));
}

/** Makes a proposal and returns its id (read from its ProposalCreated event). */
export async function propose<K extends ProposalKind>(
  registry: ConsortiumRegistry,
  proposer: HardhatEthersSigner,
  kind: K,
  args: ProposalArgsInput<K>,
): Promise<bigint> {
  const receipt = await (await sendProposal(registry, proposer, kind, args)).wait();
  for (const log of receipt?.logs ?? []) {
    const parsed = registry.interface.parseLog(log);
    if (parsed?.name === "ProposalCreated") return parsed.args.proposalId as bigint;
  }
  throw new Error("ProposalCreated event missing");
}

/**
 * Has `voters[0]` propose, every other voter vote, and `voters[0]` execute; returns the proposal id.
 * A time-locked kind is then only queued ({@link passProposal} also enacts it).
 */
export async function executeProposal<K extends ProposalKind>(
  registry: ConsortiumRegistry,
  voters: readonly HardhatEthersSigner[],
  kind: K,
  args: ProposalArgsInput<K>,
): Promise<bigint> {
  const [proposer, ...others] = voters;
  if (!proposer) throw new Error("passProposal needs at least one voter");
  const proposalId = await propose(registry, proposer, kind, args);
  for (const voter of others) await registry.connect(voter).vote(proposalId);
  await registry.connect(proposer).execute(proposalId);
  return proposalId;
}

/** Moves the chain's clock `seconds` ahead and mines a block there. */
export async function advanceTime(registry: ConsortiumRegistry, seconds: bigint): Promise<void> {
  const provider = registry.runner?.provider as { send(method: string, params: unknown[]): Promise<unknown> } | undefined;
  if (!provider) throw new Error("the registry handle has no provider");
  await provider.send("evm_increaseTime", [Number(seconds)]);
  await provider.send("evm_mine", []);
}

/** Waits out the timelock of queued proposal `proposalId` and enacts it from `caller`. */
export async function enactProposal(registry: ConsortiumRegistry, caller: HardhatEthersSigner, proposalId: bigint): Promise<void> {
  const { eta } = await registry.proposal(proposalId);
  const latest = await caller.provider?.getBlock("latest");
  if (!latest) throw new Error("no latest block");
  if (BigInt(latest.timestamp) < eta) await advanceTime(registry, eta - BigInt(latest.timestamp));
  await registry.connect(caller).enact(proposalId);
}

/**
 * Has `voters[0]` propose, every other voter vote, and `voters[0]` execute and, for a time-locked
 * kind, enact it once the delay is over: the change is in force when it resolves. Returns the id.
 */
export async function passProposal<K extends ProposalKind>(
  registry: ConsortiumRegistry,
  voters: readonly HardhatEthersSigner[],
  kind: K,
  args: ProposalArgsInput<K>,
): Promise<bigint> {
  const proposalId = await executeProposal(registry, voters, kind, args);
  if (isTimelocked(kind)) await enactProposal(registry, voters[0]!, proposalId);
  return proposalId;
}

/**
 * Has `regulator` suspend `account`'s lookups until `seconds` (a day by default) after the latest
 * block; resolves to the transaction.
 */
export async function regulatorSuspend(
  registry: ConsortiumRegistry,
  regulator: HardhatEthersSigner,
  account: string,
  seconds = 86_400n,
): Promise<ContractTransactionResponse> {
  const latest = await regulator.provider?.getBlock("latest");
  if (!latest) throw new Error("no latest block");
  return registry.connect(regulator).regulatorSuspend(account, BigInt(latest.timestamp) + seconds);
}

/** A QueryLedger record as recordBatch takes it. */
export type QueryRecordInput = RiskshareTypes.QueryRecordStruct;

/** A random integer in [min, max]. */
function randomInt(min: number, max: number): number {
  return min + Math.floor(Math.random() * (max - min + 1));
}

/** A random non-empty category mask over ids 1..6 (the kind a real request carries). */
function randomCategoryMask(): bigint {
  const ids = [1, 2, 3, 4, 5, 6].filter(() => Math.random() < 0.5);
  return categoryMask(ids.length > 0 ? ids : [randomInt(1, 6)]);
}

/** A lookup request from `querier` to `provider` over random items: fresh commitment and nonce. */
export function randomLookupRequest(querier: string, provider: string, deadline: bigint): LookupRequest {
  const itemCount = randomInt(1, 20);
  const blindedElements = Array.from({ length: itemCount }, () => randomBytes(32));
  return {
    querier,
    provider,
    kind: LookupKind.Evaluate,
    categoryMask: randomCategoryMask(),
    itemCount,
    itemsCommitment: evaluateCommitment(blindedElements),
    nonce: hexlify(randomBytes(32)),
    deadline,
  };
}

/** The record a provider submits for `request`, carrying the querier's `signature` in compact form. */
export function queryRecordFor(
  request: LookupRequest,
  signature: string,
  outcome: QueryOutcomeCode = QueryOutcome.Answered,
  keyEpoch = outcome === QueryOutcome.Answered ? 1 : 0,
  count = 1,
  answerDigest = outcome === QueryOutcome.Answered ? hexlify(randomBytes(32)) : refusalDigest(REFUSAL_ERROR_CODES[outcome]!),
): QueryRecordInput {
  const { r, vs } = toCompactSignature(signature);
  return {
    querier: request.querier,
    categoryMask: request.categoryMask,
    deadline: request.deadline,
    itemCount: request.itemCount,
    kind: request.kind,
    keyEpoch,
    outcome,
    count,
    itemsCommitment: request.itemsCommitment,
    nonce: request.nonce,
    signatureR: r,
    signatureVs: vs,
    answerDigest,
  };
}

/**
 * A record with realistic random fields (a random querier, commitment, nonce and signature-shaped
 * r/vs, nonzero counts): what a busy provider's batch looks like to the chain, without the cost of
 * signing each request.
 */
export function randomQueryRecord(deadline: bigint): QueryRecordInput {
  const itemCount = randomInt(1, 50);
  const denied = Math.random() < 0.1;
  const outcome = denied ? randomInt(1, 8) : QueryOutcome.Answered;
  return {
    querier: getAddress(hexlify(randomBytes(20))),
    categoryMask: randomCategoryMask(),
    deadline,
    itemCount,
    kind: randomInt(0, 1),
    keyEpoch: denied ? 0 : randomInt(1, 5),
    outcome,
    count: denied ? randomInt(1, 20) : 1,
    itemsCommitment: hexlify(randomBytes(32)),
    nonce: hexlify(randomBytes(32)),
    signatureR: hexlify(randomBytes(32)),
    signatureVs: hexlify(randomBytes(32)),
    answerDigest: denied ? refusalDigest(REFUSAL_ERROR_CODES[outcome]!) : hexlify(randomBytes(32)),
  };
}

/** rotateMemberKey's arguments, in order, as `newSigner` signs the move of `oldAccount` to it. */
export type RotationArgs = [newAccount: string, peerId: string, publicKey: string, oprfKey: string, signature: string];

/**
 * The arguments of `oldAccount`'s rotation to `newSigner`'s key: its public key, its PeerId and
 * `oprfKey`, signed (EIP-712 KeyRotation) by `newSigner` for `registry` on this chain (or `domain`).
 */
export async function rotationArgsFor(
  registry: Pick<ConsortiumRegistry, "getAddress">,
  oldAccount: string,
  newSigner: HardhatEthersSigner,
  oprfKey = oprfKeyFor(newSigner.address, 7),
  domain?: { chainId: bigint; registry: string },
): Promise<RotationArgs> {
  const uncompressed = await publicKeyOf(newSigner);
  const fields = {
    oldAccount,
    newAccount: newSigner.address,
    peerId: admissionPeerId(getBytes(uncompressed)),
    publicKey: dataSlice(uncompressed, 1),
    oprfKey,
  };
  const chainId = domain?.chainId ?? (await newSigner.provider!.getNetwork()).chainId;
  const signature = await newSigner.signTypedData(admissionDomain(chainId, domain?.registry ?? (await registry.getAddress())), mutable(KEY_ROTATION_TYPES), fields);
  return [fields.newAccount, fields.peerId, fields.publicKey, fields.oprfKey, signature];
}

/** The well-known development mnemonic Hardhat prefunds its accounts from (never use it anywhere real). */
const DEV_MNEMONIC = "test test test test test test test test test test test junk";

/** The secret key of the fixture's Hardhat account `index` (0 = admin, 1 = alice, 2 = bob, 3 = carol, 4 = dave…). */
export function devSecretKey(index: number): Uint8Array {
  return getBytes(HDNodeWallet.fromPhrase(DEV_MNEMONIC, undefined, `m/44'/60'/0'/0/${index}`).privateKey);
}

/** What {@link signedQueryRecord} may vary; an answered Evaluate request of 10 items by default. */
export interface SignedRecordOptions {
  itemCount?: number;
  kind?: number;
  outcome?: QueryOutcomeCode;
  deadline: bigint;
}

/**
 * The record `provider` lands for `querier`'s request number `nonce` (the per-pair counter, as a
 * big-endian bytes32), signed with `secretKey` over the ledger's EIP-712 digest: the record the
 * ledger meters. A refusal gets key epoch 0 and count 1.
 */
export function signedQueryRecord(
  ledger: { chainId: bigint; address: string },
  secretKey: Uint8Array,
  querier: string,
  provider: string,
  nonce: bigint,
  opts: SignedRecordOptions,
): QueryRecordInput {
  const itemCount = opts.itemCount ?? 10;
  const request: LookupRequest = {
    querier,
    provider,
    kind: opts.kind ?? LookupKind.Evaluate,
    categoryMask: categoryMask([1]),
    itemCount,
    itemsCommitment: hexlify(randomBytes(32)),
    nonce: toBeHex(nonce, 32),
    deadline: opts.deadline,
  };
  const signature = signDigest(secretKey, lookupRequestDigestBytes(ledger.chainId, ledger.address, request));
  return queryRecordFor(request, signature, opts.outcome ?? QueryOutcome.Answered);
}
