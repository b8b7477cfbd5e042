/**
 * Opening a query's commitment: the querier's journal keeps, per query it sent, what it needs to
 * re-derive the blinded elements (or the prefixes) it committed to; with them its compliance
 * officer proves, against the ledger's record alone, what that query carried.
 */
import { RiskshareError } from "../errors.ts";
import { oprfInput, type Voprf } from "../identity/index.ts";
import type { AuditRecord } from "./audit.ts";
import { evaluateCommitment, fetchCommitment, type TagPrefix } from "./digests.ts";
import { LookupKind, lookupRequestDigest, type LookupRequest } from "./eip712.ts";

/**
 * What the querier re-derived of a query it sent: the blinded elements of an Evaluate (padding
 * included, in order) or the prefixes of a Fetch, and, when its journal kept it, the signed request.
 */
export type CommitmentInput = ({ blindedElements: readonly Uint8Array[] } | { prefixes: readonly TagPrefix[]; salt: Uint8Array }) & { request?: LookupRequest };

/** Which checks of an opening passed. */
export interface CommitmentChecks {
  /** The re-derived elements (or prefixes) hash to the commitment the ledger recorded. */
  commitmentOpens: boolean;
  /** As many elements (or prefixes) as the ledger recorded. */
  itemCountMatches: boolean;
  /** The ledger recorded the kind of query the input is (Evaluate for elements, Fetch for prefixes). */
  kindMatches: boolean;
  /** The EIP-712 digest of the kept request is the query id; absent when no request was given. */
  queryIdMatches?: boolean;
}

/** The result of {@link openCommitment}. */
export interface CommitmentOpening {
  /** Every check made passed. */
  ok: boolean;
  checks: CommitmentChecks;
  /** The ledger's records of the query (one, or more when a provider recorded it again), oldest first. */
  records: AuditRecord[];
}

/**
 * Proves a sent query against the ledger's records of it: keccak256 of the re-derived blinded
 * elements (or the fetch's prefix encoding) must be the recorded itemsCommitment. `records` may hold
 * others (they are skipped); E_NOT_FOUND when none is of `queryId` yet (a provider records within
 * a flush interval).
 */
export function openCommitment(queryId: string, kept: CommitmentInput, records: readonly AuditRecord[], ledger: { chainId: bigint; address: string }): CommitmentOpening {
  const id = queryId.toLowerCase();
  const own = records.filter((r) => r.queryId.toLowerCase() === id);
  const first = own[0];
  if (first === undefined) throw new RiskshareError("E_NOT_FOUND", `query ${id} is not on chain yet (its provider records it within a flush interval)`);
  const evaluate = "blindedElements" in kept;
  const commitment = evaluate ? evaluateCommitment(kept.blindedElements) : fetchCommitment(kept.prefixes, kept.salt);
  const count = evaluate ? kept.blindedElements.length : kept.prefixes.length;
  const checks: CommitmentChecks = {
    commitmentOpens: commitment === first.itemsCommitment.toLowerCase(),
    itemCountMatches: count === first.itemCount,
    kindMatches: first.kind === (evaluate ? LookupKind.Evaluate : LookupKind.Fetch),
    ...(kept.request === undefined ? {} : { queryIdMatches: lookupRequestDigest(ledger.chainId, ledger.address, kept.request).toLowerCase() === id }),
  };
  return { ok: Object.values(checks).every(Boolean), checks, records: own };
}

/** A journal record of a sent query: the signed request's public fields, as kept. */
export interface KeptRequest {
  querier: string;
  provider: string;
  kind: number;
  categoryMask: string;
  itemCount: number;
  itemsCommitment: string;
  nonce: string;
  deadline: string;
}

/** What the journal sealed for a sent query: identifiers, blinds (items, then padding), padding inputs, a fetch's prefixes. */
export interface KeptSecrets {
  items: readonly { type: string; value: string }[];
  blinds: readonly Uint8Array[];
  paddingInputs: readonly Uint8Array[];
  prefixes?: readonly TagPrefix[];
  /** A fetch's commitment salt. */
  salt?: Uint8Array;
}

/**
 * The commitment input a journal record re-derives: an Evaluate's blinded elements, each
 * blind·HashToGroup(input) for the identifiers asked then the padding inputs, or a Fetch's prefixes;
 * with the signed request rebuilt from the record, so the opening also checks the query id.
 */
export function keptCommitmentInput(kept: KeptRequest, secrets: KeptSecrets, voprf: Pick<Voprf, "blindWith">): CommitmentInput {
  const request: LookupRequest = {
    querier: kept.querier, provider: kept.provider, kind: kept.kind, categoryMask: BigInt(kept.categoryMask), itemCount: kept.itemCount,
    itemsCommitment: kept.itemsCommitment, nonce: kept.nonce, deadline: BigInt(kept.deadline),
  };
  if (kept.kind === LookupKind.Fetch) {
    if (secrets.salt === undefined) throw new RiskshareError("E_BAD_INPUT", "the journal keeps no salt for this fetch", { argument: "secrets" });
    return { prefixes: [...(secrets.prefixes ?? [])], salt: secrets.salt, request };
  }
  const inputs = [...secrets.items.map((item) => oprfInput(item.type, item.value)), ...secrets.paddingInputs];
  if (inputs.length !== secrets.blinds.length) {
    throw new RiskshareError("E_BAD_INPUT", `the journal keeps ${secrets.blinds.length} blinds for ${inputs.length} inputs`, { argument: "secrets" });
  }
  return { blindedElements: inputs.map((input, i) => voprf.blindWith(input, secrets.blinds[i]!)), request };
}
