/**
 * ConsortiumRegistry governance in TypeScript: the enums, proposal payloads, category bitmasks and
 * the compact (EIP-2098) signatures the QueryLedger records.
 *
 * @example
 *   const payload = encodeProposalPayload(ProposalKind.Admit, admitArgs(request));   // the candidate's signed request (admission.ts)
 *   await registry.propose(ProposalKind.Admit, payload);
 *   const mask = categoryMask([1, 3]);            // 0b1010n
 *   const { r, vs } = toCompactSignature(signature);
 *
 * The numeric values mirror contracts/libraries/RiskshareTypes.sol and are part of the on-chain
 * format: never renumber, only append (a test checks both sides agree). Slot 9 held RotatePepper in
 * protocol v1; v2 is a new deployment and gives it to SetKeyEpochLength, whose payload a v1 tool's
 * empty RotatePepper payload can never be.
 */
import { AbiCoder, Signature, getAddress, hexlify, isAddress, type BytesLike } from "ethers";
import { RiskshareError, assertArgument } from "../errors.ts";

/** What a proposal does when executed (RiskshareTypes.ProposalKind). */
export const ProposalKind = {
  Admit: 0,
  Suspend: 1,
  Reinstate: 2,
  Remove: 3,
  AddRegulator: 4,
  RemoveRegulator: 5,
  SetPolicy: 6,
  AddCategory: 7,
  RetireCategory: 8,
  SetKeyEpochLength: 9,
  SetQuorum: 10,
  /** Lifts a regulator's pause of lookups before its end (empty payload); members only. */
  Unpause: 11,
  /** Pins the SHA-256 of the warninglists members should ship (advisory: nodes report a mismatch). */
  SetWarninglistHash: 12,
} as const;

/** A proposal kind code. */
export type ProposalKind = (typeof ProposalKind)[keyof typeof ProposalKind];

/**
 * The kinds that `execute` queues instead of applying: they take effect when enacted, the registry's
 * timelock delay later (ConsortiumRegistry.TIMELOCKED_KINDS). Retiring a category is among them: it
 * cannot be undone (the name stays taken) and it stops every member's lookups in that category.
 */
export const TIMELOCKED_KINDS: ReadonlySet<ProposalKind> = new Set<ProposalKind>([
  ProposalKind.Remove, ProposalKind.AddRegulator, ProposalKind.RemoveRegulator, ProposalKind.SetPolicy, ProposalKind.RetireCategory, ProposalKind.SetQuorum,
]);

/** Whether an executed proposal of `kind` waits for the timelock and `enact` (see {@link TIMELOCKED_KINDS}). */
export function isTimelocked(kind: number): boolean {
  return TIMELOCKED_KINDS.has(kind as ProposalKind);
}

/** Where a proposal stands on chain (RiskshareTypes.ProposalStatus); expiry and lapse are read from the clock. */
export const ProposalStatus = {
  Open: 0,
  /** Applied when executed. */
  Executed: 1,
  /** Executed, waiting for its eta; `enact` applies it (until a voting period after the eta). */
  Queued: 2,
  /** Applied by `enact` after the delay. */
  Enacted: 3,
} as const;

/** A proposal status code. */
export type ProposalStatus = (typeof ProposalStatus)[keyof typeof ProposalStatus];

/**
 * A member's lifecycle status (RiskshareTypes.MemberStatus). Suspended covers a suspension by vote
 * and a regulator's (lookups only; the member keeps its vote): either way the node refuses its lookups.
 */
export const MemberStatus = {
  None: 0,
  /** Never written by the registry (a candidate has no record until its admission executes); kept so the numbers stay. */
  Proposed: 1,
  Active: 2,
  Suspended: 3,
  Removed: 4,
  /** An Admit executed; in force only after the admission delay, by `activate` (no lookups, no vote till then). */
  Admitted: 5,
  /** The member moved to another account (`rotateMemberKey`); this one keeps its history only (successorOf names the new one). */
  Rotated: 6,
} as const;

/** A member status code. */
export type MemberStatus = (typeof MemberStatus)[keyof typeof MemberStatus];

/** Highest category id: queries carry categories as a uint64 bitmask whose bit 0 is unused. */
export const MAX_CATEGORY_ID = 63;

/** Reciprocity parameters of a category (RiskshareTypes.CategoryPolicy). */
export interface CategoryPolicy {
  /** Least live entries a querier's latest snapshot must count to query the category. */
  minEntries: bigint;
  /** Oldest a querier's snapshot may be, in seconds. */
  maxSnapshotAge: bigint;
  /** Queries per provider per rolling day granted to every contributing member. */
  quotaBase: bigint;
  /** Extra queries per contributed entry, in basis points (10_000 = one query per entry). */
  quotaRatioBps: bigint;
  /** The most items per provider per rolling day any member earns, whatever it contributes. */
  quotaCeiling: bigint;
}

/** The arguments of each proposal kind, as its payload encodes them. */
export interface ProposalArgs {
  /**
   * `oprfKey`: the candidate's 32-byte OPRF public key (0x-hex), in force from its activation;
   * `publicKey`: its 64-byte secp256k1 key x‖y; `signature`: its 65-byte EIP-712 signature of the
   * Admission struct (node/chain/admission.ts).
   */
  [ProposalKind.Admit]: { account: string; name: string; peerId: string; oprfKey: string; publicKey: string; signature: string };
  [ProposalKind.Suspend]: { account: string };
  [ProposalKind.Reinstate]: { account: string };
  [ProposalKind.Remove]: { account: string };
  [ProposalKind.AddRegulator]: { account: string };
  [ProposalKind.RemoveRegulator]: { account: string };
  [ProposalKind.SetPolicy]: { categoryId: number; policy: CategoryPolicy };
  [ProposalKind.AddCategory]: { name: string };
  [ProposalKind.RetireCategory]: { categoryId: number };
  [ProposalKind.SetKeyEpochLength]: { keyEpochLengthSeconds: bigint };
  [ProposalKind.SetQuorum]: { numerator: number; denominator: number };
  [ProposalKind.Unpause]: Record<string, never>;
  /** `hash`: 32 bytes, 0x-hex, not zero (`shippedWarninglists().hash` of the build members should run). */
  [ProposalKind.SetWarninglistHash]: { hash: string };
}

/** Arguments accepted by {@link encodeProposalPayload}: like {@link ProposalArgs}, but a PeerId may be raw bytes. */
export type ProposalArgsInput<K extends ProposalKind> = K extends typeof ProposalKind.Admit
  ? { account: string; name: string; peerId: BytesLike; oprfKey: BytesLike; publicKey: BytesLike; signature: BytesLike }
  : ProposalArgs[K];

const POLICY_TUPLE = "tuple(uint64 minEntries,uint64 maxSnapshotAge,uint64 quotaBase,uint64 quotaRatioBps,uint64 quotaCeiling)";

/** The ABI types of each kind's payload, in RiskshareTypes.ProposalKind's order. */
const PAYLOAD_TYPES: { readonly [K in ProposalKind]: readonly string[] } = {
  [ProposalKind.Admit]: ["address", "string", "bytes", "bytes32", "bytes", "bytes"],
  [ProposalKind.Suspend]: ["address"],
  [ProposalKind.Reinstate]: ["address"],
  [ProposalKind.Remove]: ["address"],
  [ProposalKind.AddRegulator]: ["address"],
  [ProposalKind.RemoveRegulator]: ["address"],
  [ProposalKind.SetPolicy]: ["uint8", POLICY_TUPLE],
  [ProposalKind.AddCategory]: ["string"],
  [ProposalKind.RetireCategory]: ["uint8"],
  [ProposalKind.SetKeyEpochLength]: ["uint64"],
  [ProposalKind.SetQuorum]: ["uint16", "uint16"],
  [ProposalKind.Unpause]: [],
  [ProposalKind.SetWarninglistHash]: ["bytes32"],
};

const abi = AbiCoder.defaultAbiCoder();

/** The name of a proposal kind, e.g. "Admit"; throws E_BAD_INPUT for an unknown code. */
export function proposalKindName(kind: number): keyof typeof ProposalKind {
  const name = (Object.keys(ProposalKind) as (keyof typeof ProposalKind)[]).find((key) => ProposalKind[key] === kind);
  if (name === undefined) throw new RiskshareError("E_BAD_INPUT", `unknown proposal kind ${kind}`, { kind });
  return name;
}

/** The name of a member status, e.g. "Active"; throws E_BAD_INPUT for an unknown code. */
export function memberStatusName(status: number): keyof typeof MemberStatus {
  const name = (Object.keys(MemberStatus) as (keyof typeof MemberStatus)[]).find((key) => MemberStatus[key] === status);
  if (name === undefined) throw new RiskshareError("E_BAD_INPUT", `unknown member status ${status}`, { status });
  return name;
}

/** ABI-encodes the payload of a proposal of `kind` (what ConsortiumRegistry.propose expects). */
export function encodeProposalPayload<K extends ProposalKind>(kind: K, args: ProposalArgsInput<K>): string {
  const name = proposalKindName(kind);
  const values = payloadValues(kind, args as ProposalArgsInput<ProposalKind>);
  try {
    return abi.encode(PAYLOAD_TYPES[kind], values);
  } catch (cause) {
    throw new RiskshareError("E_BAD_INPUT", `invalid ${name} proposal arguments`, { kind }, { cause });
  }
}

/** Decodes the payload of a proposal of `kind` (e.g. from a ProposalCreated event); E_BAD_INPUT if malformed. */
export function decodeProposalPayload<K extends ProposalKind>(kind: K, payload: BytesLike): ProposalArgs[K] {
  const name = proposalKindName(kind);
  const bytes = hexlify(payload);
  let decoded: ReturnType<typeof abi.decode>;
  try {
    decoded = abi.decode(PAYLOAD_TYPES[kind], bytes);
  } catch (cause) {
    throw new RiskshareError("E_BAD_INPUT", `malformed ${name} proposal payload`, { kind }, { cause });
  }
  return payloadArgs(kind, decoded) as ProposalArgs[K];
}

/** The uint64 bitmask with bit `id` set for each category id (1..63) in `ids`. */
export function categoryMask(ids: readonly number[]): bigint {
  let mask = 0n;
  for (const id of ids) {
    assertArgument(Number.isInteger(id) && id >= 1 && id <= MAX_CATEGORY_ID, `category ids are 1..${MAX_CATEGORY_ID}, got ${id}`, "ids");
    mask |= 1n << BigInt(id);
  }
  return mask;
}

/** The category ids (ascending) whose bits are set in `mask`; E_BAD_INPUT if bit 0 or a bit above 63 is set. */
export function categoryIdsFromMask(mask: bigint): number[] {
  assertArgument(mask >= 0n && mask < 1n << 64n, "a category mask is a uint64", "mask");
  assertArgument((mask & 1n) === 0n, "bit 0 is not a category", "mask");
  const ids: number[] = [];
  for (let id = 1; id <= MAX_CATEGORY_ID; id++) if ((mask >> BigInt(id)) & 1n) ids.push(id);
  return ids;
}

/** Splits a 65-byte (or 64-byte compact) signature into EIP-2098 `{ r, vs }`, as QueryRecord carries it. */
export function toCompactSignature(signature: string): { r: string; vs: string } {
  try {
    const parsed = Signature.from(signature);
    return { r: parsed.r, vs: parsed.yParityAndS };
  } catch (cause) {
    throw new RiskshareError("E_BAD_INPUT", "signature: not a valid secp256k1 signature", { argument: "signature" }, { cause });
  }
}

/** Rebuilds the 65-byte signature from EIP-2098 `(r, vs)`, e.g. to recover a querier from a QueryRecorded event. */
export function fromCompactSignature(r: string, vs: string): string {
  try {
    return Signature.from({ r, yParityAndS: vs }).serialized;
  } catch (cause) {
    throw new RiskshareError("E_BAD_INPUT", "signature: not a valid compact signature", { argument: "signature" }, { cause });
  }
}

/** The positional values of a kind's payload, validated enough to give a clear error before ABI encoding. */
function payloadValues(kind: ProposalKind, args: ProposalArgsInput<ProposalKind>): unknown[] {
  const a = args as Record<string, unknown>;
  const account = (): string => {
    assertArgument(typeof a.account === "string" && isAddress(a.account), "not an address", "account");
    return getAddress(a.account);
  };
  const categoryId = (): number => {
    const id = a.categoryId;
    assertArgument(typeof id === "number" && Number.isInteger(id) && id >= 1 && id <= MAX_CATEGORY_ID, `category ids are 1..${MAX_CATEGORY_ID}`, "categoryId");
    return id;
  };
  const name = (): string => {
    assertArgument(typeof a.name === "string" && a.name.length > 0, "must be a non-empty string", "name");
    return a.name;
  };
  switch (kind) {
    case ProposalKind.Admit: {
      let oprfKey: string | undefined;
      try {
        oprfKey = hexlify(a.oprfKey as BytesLike);
      } catch {
        oprfKey = undefined;
      }
      assertArgument(oprfKey !== undefined && /^0x[0-9a-f]{64}$/.test(oprfKey) && !/^0x0{64}$/.test(oprfKey), "must be 32 bytes, not all zero", "oprfKey");
      return [account(), name(), hexlify(a.peerId as BytesLike), oprfKey, hexlify(a.publicKey as BytesLike), hexlify(a.signature as BytesLike)];
    }
    case ProposalKind.Suspend:
    case ProposalKind.Reinstate:
    case ProposalKind.Remove:
    case ProposalKind.AddRegulator:
    case ProposalKind.RemoveRegulator:
      return [account()];
    case ProposalKind.SetPolicy: {
      const policy = a.policy as CategoryPolicy;
      return [categoryId(), [policy.minEntries, policy.maxSnapshotAge, policy.quotaBase, policy.quotaRatioBps, policy.quotaCeiling]];
    }
    case ProposalKind.AddCategory:
      return [name()];
    case ProposalKind.RetireCategory:
      return [categoryId()];
    case ProposalKind.SetKeyEpochLength:
      return [a.keyEpochLengthSeconds];
    case ProposalKind.SetQuorum:
      return [a.numerator, a.denominator];
    case ProposalKind.Unpause:
      return [];
    case ProposalKind.SetWarninglistHash: {
      const hash = String(a.hash).toLowerCase();
      assertArgument(/^0x[0-9a-f]{64}$/.test(hash) && !/^0x0{64}$/.test(hash), "must be 32 bytes of 0x-hex, not all zero", "hash");
      return [hash];
    }
  }
}

/** The named arguments of a kind from its decoded positional values. */
function payloadArgs(kind: ProposalKind, values: ArrayLike<unknown>): ProposalArgs[ProposalKind] {
  switch (kind) {
    case ProposalKind.Admit:
      return {
        account: values[0] as string, name: values[1] as string, peerId: values[2] as string, oprfKey: values[3] as string,
        publicKey: values[4] as string, signature: values[5] as string,
      };
    case ProposalKind.Suspend:
    case ProposalKind.Reinstate:
    case ProposalKind.Remove:
    case ProposalKind.AddRegulator:
    case ProposalKind.RemoveRegulator:
      return { account: values[0] as string };
    case ProposalKind.SetPolicy: {
      const policy = values[1] as { minEntries: bigint; maxSnapshotAge: bigint; quotaBase: bigint; quotaRatioBps: bigint; quotaCeiling: bigint };
      return {
        categoryId: Number(values[0]),
        policy: {
          minEntries: policy.minEntries,
          maxSnapshotAge: policy.maxSnapshotAge,
          quotaBase: policy.quotaBase,
          quotaRatioBps: policy.quotaRatioBps,
          quotaCeiling: policy.quotaCeiling,
        },
      };
    }
    case ProposalKind.AddCategory:
      return { name: values[0] as string };
    case ProposalKind.RetireCategory:
      return { categoryId: Number(values[0]) };
    case ProposalKind.SetKeyEpochLength:
      return { keyEpochLengthSeconds: values[0] as bigint };
    case ProposalKind.SetQuorum:
      return { numerator: Number(values[0]), denominator: Number(values[1]) };
    case ProposalKind.Unpause:
      return {};
    case ProposalKind.SetWarninglistHash:
      return { hash: (values[0] as string).toLowerCase() };
  }
}
