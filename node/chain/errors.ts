import { Interface, isError, isHexString } from "ethers";
import { RiskshareError, isRiskshareError, type ErrorCode } from "../errors.ts";
import {
  IConsortiumRegistry__factory,
  IContributionRegistry__factory,
  IQueryLedger__factory,
} from "../../types/ethers-contracts/index.ts";

/** Solidity custom errors that mean "you are not allowed", mapped to our codes; every other revert is E_CHAIN_REVERTED. */
const REVERT_CODES: ReadonlyArray<[RegExp, ErrorCode]> = [
  [/Not(Active|Voting)Member$/, "E_NOT_MEMBER"],
  [/(NotAdmin|NotPendingAdmin|NotRegulator|AdminRenounced|SeedingClosed|NotEntitled|RegulatorMayNotPropose)$/, "E_NOT_AUTHORIZED"],
  [/ProposalTimelocked$/, "E_TIMELOCKED"],
  [/FeedbackExceedsEvaluated$/, "E_FEEDBACK_EXCEEDS_EVALUATED"],
  [/(WeekNotOver|BonusAlreadySettled|SettlementExpired)$/, "E_BONUS_NOT_SETTLEABLE"],
];

/**
 * What went wrong, in plain words, for every custom error of the three contracts (the code's hint
 * in node/errors.ts says what to do). A revert whose name is missing here reads "the contract refused it".
 */
const REVERT_SENTENCES: Readonly<Record<string, string>> = {
  // ConsortiumRegistry: roles
  ConsortiumRegistryNotAdmin: "only the bootstrap admin may do this, and this account is not it",
  ConsortiumRegistryAdminRenounced: "the bootstrap admin has renounced, so only a vote of the members changes the registry now",
  ConsortiumRegistryNotVotingMember: "the account has no vote: it is not a member, or it was suspended by vote or removed",
  ConsortiumRegistryNotRegulator: "the account is not a regulator",
  ConsortiumRegistryNotPendingAdmin: "only the account the admin nominated may accept the admin role, and this account is not it (`riskshare admin show` names the nominee)",
  ConsortiumRegistrySeedingClosed: "seeding is over: a proposal has executed, or the seeding window after deployment has passed; only a vote of the members changes the registry now",
  // ConsortiumRegistry: members, regulators and companions
  ConsortiumRegistryInvalidAddress: "the zero address was given where an account or contract is needed",
  ConsortiumRegistryMemberExists: "that account already holds a membership (active, suspended, or admitted and waiting for its delay), or held one (a vetoed candidacy, a member key rotated away); a new member key needs a fresh account",
  ConsortiumRegistryMemberRemoved: "that account was removed from the consortium and never comes back; the institution must apply under a new account",
  ConsortiumRegistryPeerIdTaken: "that PeerId belongs to another member",
  ConsortiumRegistryInvalidPeerId: "the PeerId is empty or longer than 64 bytes",
  ConsortiumRegistryInvalidName: "the name is empty or longer than 128 bytes",
  ConsortiumRegistryInvalidStatus: "the member's status does not allow this (e.g. suspending a member who is not Active)",
  ConsortiumRegistryRegulatorExists: "that account is already a regulator",
  ConsortiumRegistryIndexOutOfRange: "the index is past the last member",
  ConsortiumRegistryCompanionsAlreadySet: "the registry already names its ContributionRegistry and QueryLedger, and they never change",
  ConsortiumRegistryNotCompanion: "that contract is not a ContributionRegistry or QueryLedger bound to this registry (or the two were swapped)",
  // ConsortiumRegistry: OPRF keys
  ConsortiumRegistryInvalidOprfKey: "the OPRF public key is zero",
  ConsortiumRegistryOprfKeyUnchanged: "that OPRF key is already the member's key in force; a rotation needs a new key",
  ConsortiumRegistryInvalidKeyEpochLength: "the key epoch length must be from 1 hour to 2 years",
  ConsortiumRegistryInvalidWarninglistHash: "the warninglist hash must not be zero: give the SHA-256 that `riskshare list warninglists` shows",
  // ConsortiumRegistry: categories and policy
  ConsortiumRegistryCategoryUnknown: "no category has that id",
  ConsortiumRegistryCategoryInactive: "that category is retired",
  ConsortiumRegistryCategoryLimit: "the registry already holds the most categories it can (63)",
  ConsortiumRegistryCategoryExists: "a category with that name already exists (retired names stay taken)",
  ConsortiumRegistryInvalidPolicy: "the policy admits nobody: its snapshot age is zero, or both its quota base and ratio are",
  ConsortiumRegistryInvalidQuorum: "the quorum fraction must be above 1/2 and at most 3/4 (e.g. 2/3); pick one in that range",
  ConsortiumRegistryInvalidVotingPeriod: "the voting period must be longer than zero seconds",
  // ConsortiumRegistry: proposals and votes
  ConsortiumRegistryInvalidPayload: "the proposal's payload is not the exact encoding its kind requires",
  ConsortiumRegistryProposalUnknown: "no proposal has that id; `riskshare proposal list --all` lists them",
  ConsortiumRegistryProposalExpired: "the proposal's voting period is over; propose it again if it is still wanted",
  ConsortiumRegistryProposalExecuted: "the proposal was already executed; if `riskshare proposal show ID` says it is queued, enact it from its eta with `riskshare proposal enact ID`",
  ConsortiumRegistryAlreadyVoted: "this account already voted on the proposal; other members' votes are needed now",
  ConsortiumRegistryQuorumNotReached: "the proposal does not have enough counted votes yet (votes of members since suspended by vote or removed no longer count); other entitled members vote with `riskshare proposal vote ID` first",
  ConsortiumRegistryNotEntitled: "this member gained its vote after the proposal was made, and only the members entitled then vote on it; wait for a new proposal",
  ConsortiumRegistryRegulatorMayNotPropose: "a regulator may open only Suspend and Remove proposals; ask a member to propose this",
  ConsortiumRegistryDuplicateProposal: "an identical proposal (same kind and arguments) is already open; vote for that one (its id is in the message) instead",
  ConsortiumRegistryTooManyOpenProposals: "this account already has the most open proposals allowed; wait until one is executed or expires",
  ConsortiumRegistryVotingFloor: "this would leave fewer voting members than the floor (2, or the proposal's quorum if higher), so governance could freeze; admit or reinstate members first",
  ConsortiumRegistryProposalNotQueued: "the proposal is not waiting to be enacted: it is still open for votes, was applied when executed, or was enacted already; `riskshare proposal show ID` says which",
  ConsortiumRegistryProposalTimelocked: "the proposal passed and is queued, but its timelock is not over; enact it from its eta (the time in the message)",
  ConsortiumRegistryProposalLapsed: "the proposal was queued but not enacted within a voting period after its eta, so it lapsed; propose it again if it is still wanted",
  ConsortiumRegistryInvalidDelays: "the timelock delay and the seeding window must both be longer than zero seconds",
  ConsortiumRegistryInvalidGovernanceLimits: "the longest regulator suspension, the cooldown, the open-proposal limit, the admission delay, the longest pause and the dormancy period must all be above zero, and the pause cooldown at least the longest pause",
  // ConsortiumRegistry: regulator suspensions
  ConsortiumRegistryInvalidSuspensionEnd: "a regulator's suspension must end after now and no later than the latest end named in the message (14 days by default); pick an earlier end",
  ConsortiumRegistrySuspensionCooldown: "a regulator suspended this member recently; a regulator may suspend it again only from the time in the message (members may still vote to suspend it)",
  ConsortiumRegistryRegulatorSuspensionLimit: "regulators already hold the most members suspended that they may (a third of the voting members, at least 1); end a lapsed suspension or ask the members to vote",
  ConsortiumRegistryNotRegulatorSuspended: "no regulator holds this member suspended, so there is no suspension to end",
  ConsortiumRegistrySuspensionNotOver: "the regulator's suspension is not over yet; end it from the time in the message",
  // ConsortiumRegistry: admission requests, delay and veto
  ConsortiumRegistryInvalidPublicKey: "the candidate's public key is not a 64-byte point on secp256k1",
  ConsortiumRegistryPublicKeyNotAccount: "the candidate's public key is not the key of the account it names",
  ConsortiumRegistryPeerIdNotKey: "the PeerId is not the one of the candidate's public key (a node's PeerId derives from its member key)",
  ConsortiumRegistryMalformedSignature: "the candidate's signature is not 65 bytes r‖s‖v with v 27 or 28 and a low s",
  ConsortiumRegistryNotSignedByCandidate: "the admission request was not signed by the candidate's key for this registry and chain; the candidate creates one with `riskshare member request`",
  ConsortiumRegistryAdmissionPending: "the admission delay is not over yet; activate the member from the time in the message",
  ConsortiumRegistryVetoWindowClosed: "the admission delay is over, so the admission can no longer be vetoed; members may vote to suspend or remove the member instead",
  // ConsortiumRegistry: the regulator's pause, dormancy
  ConsortiumRegistryInvalidPauseEnd: "a regulator's pause must end after now and no later than the latest end named in the message (72 hours by default); pick an earlier end",
  ConsortiumRegistryPauseCooldown: "the consortium was paused recently; no regulator may pause it again before the time in the message (one pause per cooldown, 30 days by default, for all regulators together)",
  ConsortiumRegistryNotPaused: "lookups are not paused (the pause ended or was lifted), so there is nothing to unpause",
  ConsortiumRegistryNotDormant: "the member acted on chain within the dormancy period; it may be marked dormant only from the time in the message",
  // ConsortiumRegistry: member key rotation
  ConsortiumRegistryRotationBlocked: "a Suspend or Remove proposal naming this member (its id is in the message; its own included) is open or queued, so the member cannot move to a new account until it is decided or lapses",
  // ContributionRegistry
  ContributionRegistryNotActiveMember: "only an Active member may publish a contribution, and this account is not one",
  ContributionRegistryCategoryInactive: "that category is unknown or retired",
  ContributionRegistryWrongKeyEpoch: "the snapshot names another key epoch than the member's key in force (was the key rotated meanwhile?)",
  ContributionRegistryCountWithoutFilter: "a snapshot with entries must carry the hash of their tag filter; publish through `riskshare list publish`, which builds it",
  ContributionRegistryFilterWithoutCount: "an empty list publishes count 0 with the zero filter hash; publish through `riskshare list publish`, which does so",
  ContributionRegistryCountTooLarge: "the live count is above the ceiling of entries per category (2^32, in the message); no true list is that large, so check the count",
  ContributionRegistryInvalidChallengeParameters: "the challenge response window and cooldown must both be longer than zero",
  ContributionRegistryCannotChallenge: "only an Active member may challenge, not itself, and only a provider's non-empty published snapshot",
  ContributionRegistryChallengeOpen: "a challenge of that snapshot is already open (its deadline is in the message); wait for the answer or the deadline",
  ContributionRegistryChallengeTooSoon: "this account challenged that provider and category recently; it may again after the time in the message",
  ContributionRegistryNoChallenge: "there is no challenge in a state that allows this (answer: open or expired; expire: open)",
  ContributionRegistryChallengeNotDue: "the challenge's deadline has not passed yet (it is in the message)",
  ContributionRegistryBadProof: "the proofs do not open the challenged filter commitment (the failing proof's position is in the message); answer from the filter that was published",
  ContributionRegistryBadHeader: "the filter's header does not state the challenged live count, or its size does not match its layout",
  // QueryLedger
  QueryLedgerNotMember: "only an admitted member may record query batches, and only an Active one report feedback, and this account is not one",
  QueryLedgerBadSequence: "the batch sequence number is not the next one for this provider",
  QueryLedgerEmptyBatch: "the batch holds no records",
  QueryLedgerBadRecord: "a record breaks its outcome's shape (an answer carries count 1 and a key epoch; a refusal key epoch 0 and a count of at least 1)",
  QueryLedgerRemovalWindowClosed: "the provider was removed, and the window in which a removed provider may land its last batches (7 days by default) is over; these records can no longer be recorded",
  QueryLedgerDeadlineAfterRemoval: "a removed provider may record only requests it could have served before its removal, and this record's deadline is after the latest one named in the message",
  QueryLedgerBadCreditParams: "a credit parameter is out of range: both percentages at most 100, every amount below 2^64",
  QueryLedgerFeedbackLengthMismatch: "the feedback lists (providers, confirmed, false positives, outdated) differ in length",
  QueryLedgerFeedbackExceedsEvaluated: "the feedback on this provider would count more items than this member was metered for there (evaluated, then reported, in the message)",
  QueryLedgerWeekNotOver: "a week's bonus can be settled only after the week has ended",
  QueryLedgerSettlementExpired: "the week is older than the 13 weeks whose bonus can still be settled",
  QueryLedgerBonusAlreadySettled: "this provider's bonus for the week was already settled",
  QueryLedgerReportersNotSorted: "the reporters must be listed in increasing address order, each once",
  QueryLedgerReportersIncomplete: "the reporters listed do not cover every confirmation the provider got in the week",
};

/**
 * The custom errors of the three contracts. A provider decodes only Error(string) and Panic when a
 * transaction's gas estimate reverts (ethers gives `revert: null` and the raw `data`), so the
 * custom errors are decoded here, whatever contract handle the call went through.
 */
const CUSTOM_ERRORS = new Interface(
  [...IConsortiumRegistry__factory.abi, ...IContributionRegistry__factory.abi, ...IQueryLedger__factory.abi].filter((f) => f.type === "error"),
);

/**
 * The error a contract's custom error `name(args)` becomes: its code and sentence, the revert named.
 * Also for a refusal foreseen from a view before sending, so it reads as the contract's own would;
 * `detail` adds what the caller knows besides (a time in ISO 8601, say).
 */
export function revertError(action: string, name: string, revertArgs: readonly unknown[], opts: { cause?: unknown; detail?: string } = {}): RiskshareError {
  const args = revertArgs.map((arg: unknown) => (typeof arg === "bigint" ? arg.toString() : String(arg)));
  const code = REVERT_CODES.find(([pattern]) => pattern.test(name))?.[1] ?? "E_CHAIN_REVERTED";
  const sentence = REVERT_SENTENCES[name] ?? "the contract refused it";
  const detail = opts.detail === undefined ? "" : `; ${opts.detail}`;
  return new RiskshareError(code, `${action}: ${sentence}${detail} (${name}${args.length > 0 ? `: ${args.join(", ")}` : ""})`, { revert: name, args }, opts.cause === undefined ? {} : { cause: opts.cause });
}

/**
 * Translates an ethers error into a RiskshareError; the one place where ethers errors are read.
 * `action` says what was being done ("vote on proposal 3"). URLs and keys never enter the message.
 */
export function translateChainError(err: unknown, action: string): RiskshareError {
  if (isRiskshareError(err)) return err;
  const revert = decodeRevert(err);
  if (revert !== undefined) return revertError(action, revert.name, revert.args, { cause: err });
  if (isError(err, "CALL_EXCEPTION")) {
    return new RiskshareError("E_CHAIN_REVERTED", `${action}: the transaction reverted without a reason`, {}, { cause: err });
  }
  if (isError(err, "NETWORK_ERROR") || isError(err, "TIMEOUT") || isError(err, "SERVER_ERROR") || isConnectionRefused(err)) {
    return new RiskshareError("E_CHAIN_UNREACHABLE", `${action}: the chain RPC did not answer`, {}, { cause: err });
  }
  if (isError(err, "INSUFFICIENT_FUNDS")) {
    return new RiskshareError("E_CHAIN_REVERTED", `${action}: the account cannot pay for gas`, {}, { cause: err });
  }
  if (isError(err, "NONCE_EXPIRED") || isError(err, "REPLACEMENT_UNDERPRICED")) {
    return new RiskshareError("E_CHAIN_REVERTED", `${action}: the transaction nonce was already used; retry`, {}, { cause: err });
  }
  return new RiskshareError("E_INTERNAL", `${action}: unexpected chain error`, {}, { cause: err });
}

/**
 * The revert's error name and arguments: as ethers decoded it (Error(string), Panic, or a custom
 * error of the contract handle used for a call), else the revert data decoded as one of our
 * contracts' custom errors. The data is read from any error that carries it, so the revert of a
 * transaction is named too, whichever provider raised it.
 */
function decodeRevert(err: unknown): { name: string; args: readonly unknown[] } | undefined {
  if (isError(err, "CALL_EXCEPTION") && err.revert) return { name: err.revert.name, args: err.revert.args };
  const data = typeof err === "object" && err !== null ? (err as { data?: unknown }).data : undefined;
  if (!isHexString(data) || data.length < 10) return undefined;
  try {
    const parsed = CUSTOM_ERRORS.parseError(data);
    return parsed === null ? undefined : { name: parsed.name, args: [...parsed.args] };
  } catch {
    return undefined; // a known selector with malformed arguments
  }
}

function isConnectionRefused(err: unknown): boolean {
  for (let cause: unknown = err, depth = 0; cause instanceof Error && depth < 5; cause = cause.cause, depth++) {
    const code = (cause as NodeJS.ErrnoException).code;
    if (code === "ECONNREFUSED" || code === "ECONNRESET" || code === "EHOSTUNREACH" || code === "UND_ERR_SOCKET") return true;
  }
  return false;
}
