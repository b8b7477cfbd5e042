/**
 * Opening a query's commitment: the querier kept the blinding and the item hashes of each query it
 * sent; with them its compliance officer proves, against the ledger's record alone, which items
 * that query asked about.
 */
import { RiskshareError } from "../errors.ts";
import type { AuditRecord } from "./audit.ts";
import { itemsCommitment, lookupRequestDigest } from "./eip712.ts";

/** What the querier kept of a query it sent (the store's journal entry fits); numbers as decimal text. */
export interface SentQuery {
  querier: string;
  provider: string;
  categoryMask: string;
  itemCount: number;
  itemsCommitment: string;
  nonce: string;
  deadline: string;
  /** The 32-byte blinding (0x-hex). */
  blinding: string;
  /** The items as sent: salted hashes (0x-hex), in order. */
  items: readonly { hash: string }[];
}

/** Which checks of an opening passed. */
export interface CommitmentChecks {
  /** keccak256(blinding || hashes) equals the commitment the ledger recorded. */
  commitmentOpens: boolean;
  /** The EIP-712 digest of the kept request is the query id: the record is of this very request. */
  queryIdMatches: boolean;
  /** As many items were kept as the ledger recorded. */
  itemCountMatches: boolean;
}

/** The result of {@link openCommitment}. */
export interface CommitmentOpening {
  /** Every check passed. */
  ok: boolean;
  checks: CommitmentChecks;
  /** The ledger's records of the query (one, or more when a provider recorded it again), oldest first. */
  records: AuditRecord[];
}

/**
 * Proves a sent query against the ledger's records of it. `records` may hold others (they are
 * skipped); E_NOT_FOUND when none is of `queryId` yet (a provider records within a flush interval).
 */
export function openCommitment(queryId: string, sent: SentQuery, records: readonly AuditRecord[], ledger: { chainId: bigint; address: string }): CommitmentOpening {
  const id = queryId.toLowerCase();
  const own = records.filter((r) => r.queryId.toLowerCase() === id);
  const first = own[0];
  if (first === undefined) throw new RiskshareError("E_NOT_FOUND", `query ${id} is not on chain yet (its provider records it within a flush interval)`);
  const request = {
    querier: sent.querier, provider: sent.provider, categoryMask: BigInt(sent.categoryMask), itemCount: sent.itemCount,
    itemsCommitment: sent.itemsCommitment, nonce: sent.nonce, deadline: BigInt(sent.deadline),
  };
  const checks = {
    commitmentOpens: itemsCommitment(sent.blinding, sent.items.map((item) => item.hash)).toLowerCase() === first.itemsCommitment.toLowerCase(),
    queryIdMatches: lookupRequestDigest(ledger.chainId, ledger.address, request).toLowerCase() === id,
    itemCountMatches: sent.items.length === first.itemCount,
  };
  return { ok: Object.values(checks).every(Boolean), checks, records: own };
}
