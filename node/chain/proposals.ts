/**
 * Proposal arguments checked against the registry's rules before anything is sent, and decoded
 * proposals described for people (category names, durations, the quorum as a fraction).
 *
 * @example
 *   checkQuorum({ numerator: 2, denominator: 3 });                 // E_BAD_INPUT names `quorum` if out of bounds
 *   checkKeyEpochLength(90n * 86_400n);                             // E_BAD_INPUT names `keyEpochLength`
 *   formatDuration(129_600n);                                       // "1d12h"
 *   const { summary, details } = describeProposal(ProposalKind.SetQuorum, { numerator: 2, denominator: 3 }, lookup);
 *   // summary "set the quorum fraction to 2/3 of the voting members", details { quorum: "2/3", numerator: 2, denominator: 3 }
 *
 * The bounds mirror ConsortiumRegistry's checks (`_checkQuorum`, `_checkPolicy`,
 * `MIN_KEY_EPOCH_LENGTH` / `MAX_KEY_EPOCH_LENGTH`); the registry checks them again, and a revert
 * is translated by errors.ts.
 */
import { getAddress } from "ethers";
import { RiskshareError } from "../errors.ts";
import { ProposalKind, type CategoryPolicy, type ProposalArgs } from "./governance.ts";

/** ConsortiumRegistry.MIN_KEY_EPOCH_LENGTH: one hour. */
export const MIN_KEY_EPOCH_LENGTH_SECONDS = 3_600n;
/** ConsortiumRegistry.MAX_KEY_EPOCH_LENGTH: 730 days. */
export const MAX_KEY_EPOCH_LENGTH_SECONDS = 730n * 86_400n;
/** The quorum's numerator and denominator are uint16 on chain. */
export const MAX_QUORUM_DENOMINATOR = 65_535;
/** A category name is 1..128 bytes (ConsortiumRegistry.MAX_NAME_BYTES). */
export const MAX_CATEGORY_NAME_BYTES = 128;

const UINT64_MAX = (1n << 64n) - 1n;

/** Units of {@link formatDuration}, largest first. */
const DURATION_UNITS: ReadonlyArray<readonly [string, bigint]> = [["d", 86_400n], ["h", 3_600n], ["m", 60n], ["s", 1n]];

function badInput(argument: string, message: string, meta: Record<string, string | number | bigint> = {}): RiskshareError<"E_BAD_INPUT"> {
  return new RiskshareError("E_BAD_INPUT", `${argument}: ${message}`, { argument, ...meta });
}

/**
 * Throws E_BAD_INPUT (argument `quorum`) unless the fraction f = numerator/denominator lies in
 * (1/2, 3/4] with a denominator of at most 65535, as the registry requires (docs/GOVERNANCE.md).
 */
export function checkQuorum(quorum: { numerator: number; denominator: number }): void {
  const { numerator, denominator } = quorum;
  const whole = Number.isSafeInteger(numerator) && Number.isSafeInteger(denominator);
  if (!whole || numerator < 1 || denominator < 1 || denominator > MAX_QUORUM_DENOMINATOR || 2 * numerator <= denominator || 4 * numerator > 3 * denominator) {
    throw badInput("quorum", `${numerator}/${denominator} is outside the registry's bounds: a fraction above 1/2 and at most 3/4, such as 2/3, with a denominator of at most ${MAX_QUORUM_DENOMINATOR}`);
  }
}

/** Throws E_BAD_INPUT (argument `keyEpochLength`) unless 1 hour ≤ seconds ≤ 730 days, as the registry requires. */
export function checkKeyEpochLength(seconds: bigint): void {
  if (seconds < MIN_KEY_EPOCH_LENGTH_SECONDS || seconds > MAX_KEY_EPOCH_LENGTH_SECONDS) {
    throw badInput("keyEpochLength", `${formatDuration(seconds)} is outside the registry's bounds of ${formatDuration(MIN_KEY_EPOCH_LENGTH_SECONDS)} to ${formatDuration(MAX_KEY_EPOCH_LENGTH_SECONDS)}`);
  }
}

/** The zero hash: a registry that pins no warninglists (ConsortiumRegistry.warninglistHash()). */
export const NO_WARNINGLIST_HASH = `0x${"0".repeat(64)}`;

/**
 * The warninglist hash in canonical form (lowercase 0x-hex, 32 bytes); throws E_BAD_INPUT (argument
 * `hash`) for anything else or for zero, which the registry refuses (ConsortiumRegistryInvalidWarninglistHash).
 */
export function checkWarninglistHash(hash: string): string {
  const canonical = hash.trim().toLowerCase();
  if (!/^0x[0-9a-f]{64}$/.test(canonical)) throw badInput("hash", "a warninglist hash is 0x followed by 64 hex digits, as `riskshare list warninglists` shows it");
  if (canonical === NO_WARNINGLIST_HASH) throw badInput("hash", "the zero hash pins no warninglists; give the hash `riskshare list warninglists` shows");
  return canonical;
}

/** Throws E_BAD_INPUT naming the field unless the policy fits uint64, admits somebody (snapshot age > 0, base or ratio > 0) and has a ceiling (> 0, ≥ base). */
export function checkPolicy(policy: CategoryPolicy): void {
  for (const field of ["minEntries", "maxSnapshotAge", "quotaBase", "quotaRatioBps", "quotaCeiling"] as const) {
    const value = policy[field];
    if (value < 0n || value > UINT64_MAX) throw badInput(field, `${value} does not fit the registry's uint64`);
  }
  if (policy.maxSnapshotAge === 0n) throw badInput("maxSnapshotAge", "must be longer than zero: a zero age admits no querier");
  if (policy.quotaBase === 0n && policy.quotaRatioBps === 0n) {
    throw badInput("quotaBase", "quota base and quota ratio are both zero: the policy would grant no queries; give one of them a value");
  }
  if (policy.quotaCeiling === 0n) throw badInput("quotaCeiling", "must be above zero: a zero ceiling grants no queries");
  if (policy.quotaCeiling < policy.quotaBase) {
    throw badInput("quotaCeiling", `${policy.quotaCeiling} is below the quota base ${policy.quotaBase}: raise the ceiling or lower the base`);
  }
}

/** Throws E_BAD_INPUT (argument `name`) unless a category name is 1..128 bytes of UTF-8 with no surrounding spaces. */
export function checkCategoryName(name: string): void {
  const bytes = Buffer.byteLength(name, "utf8");
  if (bytes === 0 || bytes > MAX_CATEGORY_NAME_BYTES) throw badInput("name", `a category name is 1 to ${MAX_CATEGORY_NAME_BYTES} bytes, this one is ${bytes}`);
  if (name.trim() !== name) throw badInput("name", "a category name has no leading or trailing spaces");
}

/** Seconds as the largest units that divide them, e.g. 7776000n → "90d", 5400n → "1h30m", 0n → "0s". */
export function formatDuration(seconds: bigint): string {
  if (seconds === 0n) return "0s";
  let rest = seconds;
  let text = "";
  for (const [unit, size] of DURATION_UNITS) {
    if (rest >= size) {
      text += `${rest / size}${unit}`;
      rest %= size;
    }
  }
  return text;
}

/** What a description needs to know of the registry: category names, and (optionally) how to print a PeerId. */
export interface ProposalLookup {
  /** The name of category `id`, or undefined when the registry has none with that id. */
  categoryName(id: number): string | undefined;
  /** A PeerId's text form from the registry's hex bytes (the CLI passes libp2p's); hex when absent. */
  peerIdText?(peerIdHex: string): string;
}

/** A proposal's arguments for people: one sentence, and JSON-ready fields (bigints stay bigints; the CLI prints them as strings). */
export interface ProposalDescription {
  summary: string;
  details: Record<string, unknown>;
}

/** Describes a decoded proposal: category names beside ids, durations, the quorum as a fraction, addresses checksummed. */
export function describeProposal<K extends ProposalKind>(kind: K, args: ProposalArgs[K], lookup: ProposalLookup): ProposalDescription {
  const a = args as ProposalArgs[ProposalKind];
  const category = (id: number): { category: string; categoryId: number } => ({ category: lookup.categoryName(id) ?? `#${id} (unknown)`, categoryId: id });
  switch (kind) {
    case ProposalKind.Admit: {
      const admit = a as ProposalArgs[typeof ProposalKind.Admit];
      const account = getAddress(admit.account);
      const peerId = lookup.peerIdText ? lookup.peerIdText(admit.peerId) : admit.peerId;
      // The registry took the proposal only with the candidate's valid signature over these fields.
      return {
        summary: `admit ${admit.name} (${account})`,
        details: { account, name: admit.name, peerId, oprfKey: admit.oprfKey, publicKey: admit.publicKey, signature: admit.signature },
      };
    }
    case ProposalKind.Suspend:
    case ProposalKind.Reinstate:
    case ProposalKind.Remove:
    case ProposalKind.AddRegulator:
    case ProposalKind.RemoveRegulator: {
      const account = getAddress((a as { account: string }).account);
      const verb = {
        [ProposalKind.Suspend]: "suspend member", [ProposalKind.Reinstate]: "reinstate member", [ProposalKind.Remove]: "remove member",
        [ProposalKind.AddRegulator]: "add regulator", [ProposalKind.RemoveRegulator]: "remove regulator",
      }[kind as 1 | 2 | 3 | 4 | 5];
      return { summary: `${verb} ${account}`, details: { account } };
    }
    case ProposalKind.SetPolicy: {
      const { categoryId, policy } = a as ProposalArgs[typeof ProposalKind.SetPolicy];
      const named = category(categoryId);
      const ratio = `${Number(policy.quotaRatioBps) / 10_000}`;
      return {
        summary: `set the policy of ${named.category}: at least ${policy.minEntries} live entries, snapshot at most ${formatDuration(policy.maxSnapshotAge)} old, quota ${policy.quotaBase} + ${ratio} per contributed entry a day, at most ${policy.quotaCeiling}`,
        details: {
          ...named, minEntries: policy.minEntries, maxSnapshotAge: formatDuration(policy.maxSnapshotAge), maxSnapshotAgeSeconds: policy.maxSnapshotAge,
          quotaBase: policy.quotaBase, quotaRatioBps: policy.quotaRatioBps, quotaCeiling: policy.quotaCeiling,
        },
      };
    }
    case ProposalKind.AddCategory: {
      const { name } = a as ProposalArgs[typeof ProposalKind.AddCategory];
      return { summary: `add category ${name}`, details: { category: name } };
    }
    case ProposalKind.RetireCategory: {
      const named = category((a as ProposalArgs[typeof ProposalKind.RetireCategory]).categoryId);
      return { summary: `retire category ${named.category}`, details: named };
    }
    case ProposalKind.SetKeyEpochLength: {
      const seconds = (a as ProposalArgs[typeof ProposalKind.SetKeyEpochLength]).keyEpochLengthSeconds;
      return { summary: `set the key epoch length to ${formatDuration(seconds)}`, details: { keyEpochLength: formatDuration(seconds), keyEpochLengthSeconds: seconds } };
    }
    case ProposalKind.SetQuorum: {
      const { numerator, denominator } = a as ProposalArgs[typeof ProposalKind.SetQuorum];
      return { summary: `set the quorum fraction to ${numerator}/${denominator} of the voting members`, details: { quorum: `${numerator}/${denominator}`, numerator, denominator } };
    }
    case ProposalKind.Unpause:
      return { summary: "lift the regulator's pause of lookups", details: {} };
    case ProposalKind.SetWarninglistHash: {
      const { hash } = a as ProposalArgs[typeof ProposalKind.SetWarninglistHash];
      return { summary: `pin the warninglists members should ship to hash ${hash}`, details: { warninglistHash: hash } };
    }
  }
  throw new RiskshareError("E_BAD_INPUT", `unknown proposal kind ${String(kind)}`, { kind: Number(kind) });
}
