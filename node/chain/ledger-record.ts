import { Signature } from "ethers";
import type { LookupRequest } from "./eip712.ts";
import type { QueryRecordStruct } from "./ledger-tx.ts";

/** One query as the provider keeps it until it lands on chain. */
export interface LedgerRecord {
  /** The request as received, except `querier`: always the connected peer's address (attribution). */
  request: LookupRequest;
  /** The querier's 65-byte EIP-712 signature (0x-hex); may be garbage on a denied request. */
  signature: string;
  /** QueryOutcome code. */
  outcome: number;
  /** The provider's key epoch the answer was given under; 0 for a refusal. */
  keyEpoch: number;
  /** Refusals of this outcome from this querier the record stands for; 1 for an answer. */
  count: number;
  /** Answered: the answerDigest of the LookupAnswer signed; refused: refusalDigest(error code sent). */
  answerDigest: string;
  receivedAtMs: number;
}

/** Converts an outbox record into the QueryLedger's calldata struct (compact EIP-2098 signature). */
export function toQueryRecord(record: LedgerRecord): QueryRecordStruct {
  let signatureR = ZERO32;
  let signatureVs = ZERO32;
  try {
    const signature = Signature.from(record.signature);
    signatureR = signature.r;
    signatureVs = signature.yParityAndS;
  } catch {
    // A request denied for a malformed signature is still recorded, with an empty signature.
  }
  return {
    querier: record.request.querier,
    categoryMask: record.request.categoryMask,
    deadline: record.request.deadline,
    itemCount: record.request.itemCount,
    kind: record.request.kind,
    keyEpoch: record.keyEpoch,
    outcome: record.outcome,
    count: record.count,
    itemsCommitment: record.request.itemsCommitment,
    nonce: record.request.nonce,
    signatureR,
    signatureVs,
    answerDigest: record.answerDigest,
  };
}

const ZERO32 = `0x${"00".repeat(32)}`;
