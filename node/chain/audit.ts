import { Signature, SigningKey, getAddress, getBytes, type JsonRpcProvider } from "ethers";
import { RiskshareError } from "../errors.ts";
import type { IConsortiumRegistry, IQueryLedger } from "../../types/ethers-contracts/index.ts";
import {
  checksumAddress, isDigestSignedBy, LookupKind, lookupAnswerDigest, lookupRequestDigestBytes, recoverDigestSigner, recoverLookupAnswerSigner, type LookupAnswer, type LookupRequest,
} from "./eip712.ts";
import { refusalDigest } from "./digests.ts";
import type { JsonRpcCaller } from "./rpc.ts";
import type { ChainConnection } from "./provider.ts";
import type { ConsortiumContracts } from "./contracts.ts";
import { categoryIdsFromMask, MemberStatus } from "./governance.ts";
import { outcomeName, QueryOutcome, REFUSAL_ERROR_CODES, REPEAT_OUTCOMES, UNSIGNED_OUTCOMES } from "./outcomes.ts";
import { CHAIN_DEFAULTS, MAX_REQUEST_TTL_SECONDS } from "./options.ts";
import { translateChainError } from "./errors.ts";

/** One query record as the ledger holds it, with where and when it landed. */
export interface AuditRecord {
  queryId: string;
  blockNumber: number;
  /** Unix seconds of the block. */
  timestamp: number;
  txHash: string;
  logIndex: number;
  /** The provider's batch sequence number the record landed in. */
  seq: bigint;
  querier: string;
  provider: string;
  categoryIds: number[];
  /** LookupKind: 0 = Evaluate, 1 = Fetch. */
  kind: number;
  /** Blinded elements evaluated (Evaluate) or prefixes fetched (Fetch). */
  itemCount: number;
  /** The provider's key epoch the answer was given under; 0 for a refusal. */
  keyEpoch: number;
  outcome: number;
  outcomeName: string;
  /** Refusals of this outcome from this querier the record stands for; 1 for an answer. */
  count: number;
  itemsCommitment: string;
  nonce: string;
  deadline: bigint;
  /** The querier's signature, 65-byte form (0x-hex); empty when the provider recorded none. */
  signature: string;
  /** Answered: the answerDigest of the LookupAnswer the provider signed; refused: refusalDigest(error code). */
  answerDigest: string;
}

/** Filters of {@link readLedger}; times in unix seconds, inclusive. */
export interface LedgerQuery {
  fromTime?: number;
  toTime?: number;
  querier?: string;
  provider?: string;
  categoryId?: number;
  fromBlock?: number;
  /** Last block read (inclusive); the head when absent. An index reads the chain in block ranges with it. */
  toBlock?: number;
}

/** A batch as BatchRecorded announced it. */
export interface AuditBatch {
  provider: string;
  seq: bigint;
  recordCount: number;
  blockNumber: number;
  txHash: string;
}

/** Dependencies of the audit functions: read-only contracts and a provider. Any account may audit. */
export interface AuditModules {
  provider: JsonRpcProvider;
  registry: IConsortiumRegistry;
  ledger: IQueryLedger;
  chainId: bigint;
  /**
   * JSON-RPC for eth_getLogs (ChainConnection.rpc): a ledger read is megabytes of logs, which
   * ethers' own HTTP client assembles and decodes in JavaScript. The provider is used without it.
   */
  rpc?: JsonRpcCaller;
  logChunkBlocks?: number;
}

/** The audit functions' modules from an open connection and the consortium's contracts (read-only). */
export function auditModulesOf(connection: Pick<ChainConnection, "provider" | "rpc" | "chainId">, contracts: Pick<ConsortiumContracts, "registry" | "ledger">): AuditModules {
  return { provider: connection.provider, rpc: connection.rpc, registry: contracts.registry, ledger: contracts.ledger, chainId: connection.chainId };
}

/** Reads the query ledger from the chain alone, oldest first, with optional filters; `blocks` is the range read (absent when the times select no block). */
export async function readLedger(modules: AuditModules, query: LedgerQuery = {}): Promise<{ records: AuditRecord[]; batches: AuditBatch[]; blocks?: { fromBlock: number; toBlock: number } }> {
  try {
    const head = await modules.provider.getBlockNumber();
    const fromBlock = Math.max(query.fromBlock ?? 0, query.fromTime === undefined ? 0 : await firstBlockAtOrAfter(modules.provider, query.fromTime, head));
    const lastBlock = Math.min(head, query.toBlock ?? head);
    const toBlock = query.toTime === undefined ? lastBlock : Math.min(lastBlock, await lastBlockAtOrBefore(modules.provider, query.toTime, head));
    if (toBlock < fromBlock) return { records: [], batches: [] };
    const ledgerAddress = await modules.ledger.getAddress();
    const recordedTopic = modules.ledger.interface.getEvent("QueryRecorded").topicHash;
    const batchTopic = modules.ledger.interface.getEvent("BatchRecorded").topicHash;
    const logs = await getLogsChunked(modules, { address: ledgerAddress, topics: [[recordedTopic, batchTopic]] }, fromBlock, toBlock);
    const timestamps = new Map<number, number>();
    const records: AuditRecord[] = [];
    const batches: AuditBatch[] = [];
    // Records of a batch precede its BatchRecorded event in the same transaction.
    let open: AuditRecord[] = [];
    for (const log of logs) {
      const fields = log.topics[0] === recordedTopic ? decodeQueryRecorded(log) ?? parsedQueryRecorded(modules.ledger, log) : undefined;
      if (fields === undefined) {
        const parsed = modules.ledger.interface.parseLog(log);
        if (parsed?.name !== "BatchRecorded") continue;
        const batch = { provider: getAddress(parsed.args[0] as string), seq: parsed.args[1] as bigint, recordCount: Number(parsed.args[2]), blockNumber: log.blockNumber, txHash: log.transactionHash };
        batches.push(batch);
        for (const record of open) {
          if (record.txHash === log.transactionHash) record.seq = batch.seq;
          records.push(record);
        }
        open = [];
        continue;
      }
      const { signatureR, signatureVs, categoryMask, ...rest } = fields;
      open.push({
        ...rest,
        blockNumber: log.blockNumber,
        timestamp: await blockTimestamp(modules.provider, log.blockNumber, timestamps),
        txHash: log.transactionHash,
        logIndex: log.index,
        seq: 0n,
        categoryIds: safeCategoryIds(categoryMask),
        outcomeName: outcomeName(rest.outcome),
        signature: /^0x0+$/.test(signatureR) ? "" : Signature.from({ r: signatureR, yParityAndS: signatureVs }).serialized,
      });
    }
    for (const record of open) records.push(record);
    return { records: records.filter((r) => matches(r, query)), batches, blocks: { fromBlock, toBlock } };
  } catch (err) {
    throw translateChainError(err, "read the query ledger");
  }
}

/** The request a record attests, as the querier signed it. */
export function requestOfRecord(record: AuditRecord, categoryMask: bigint): LookupRequest {
  return {
    querier: record.querier,
    provider: record.provider,
    kind: record.kind,
    categoryMask,
    itemCount: record.itemCount,
    itemsCommitment: record.itemsCommitment,
    nonce: record.nonce,
    deadline: record.deadline,
  };
}

/**
 * One thing `verifyLedger` found wrong. `kind` is a stable name:
 * - `forged_querier`: nothing attests the querier a record names — the signature does not recover it
 *   (an answer, or a refusal made after the signature check), or an unsigned refusal names an account
 *   that was not an Active member, so no node of it could have been the connected peer;
 * - `duplicate_query_id`: a query id recorded more than once, beyond one DeniedReplay and one
 *   DeniedExpired repeat of the same signed request (refusals made before the signature check carry
 *   an id nothing attests, which a peer can send any number of times: they neither count nor repeat);
 * - `answer_mismatch`: the record's answerDigest does not match what the querier was sent — a refusal's
 *   is not its outcome's error code's, an answer's is empty, or a provider-signed answer the querier
 *   holds differs from the one the record rebuilds (or the id is recorded as refused);
 * - `querier_not_active`, `provider_not_active`: membership while the request was live;
 * - `sequence_gap`, `sequence_count`: a provider's batch numbering.
 */
export interface AuditFailure {
  kind: "forged_querier" | "duplicate_query_id" | "answer_mismatch" | "querier_not_active" | "provider_not_active" | "sequence_gap" | "sequence_count";
  queryId?: string;
  provider?: string;
  detail: string;
}

/** An answer a querier received and kept: the provider's LookupAnswer and its signature of it. */
export interface HeldAnswer {
  answer: LookupAnswer;
  answerSignature: string;
}

/**
 * Re-checks every record, of every outcome:
 * - attribution: an answer, and a refusal made after the signature check, carries the querier's
 *   signature of the request (else `forged_querier`); an unsigned refusal (DeniedBadSignature,
 *   DeniedBadRequest) names the connected peer, which the connection gater only admits while
 *   Active, so its querier must have been Active while the request was live (else `forged_querier`:
 *   the regulator, an outsider, a removed member); a DeniedNotMember names a peer no longer Active,
 *   which must have been admitted once;
 * - membership: querier (every outcome but DeniedNotMember) and provider were Active while the request was live;
 * - binding: a refusal's answerDigest is refusalDigest of its outcome's error code, an answer's is
 *   not empty, and every `answers` entry (provider-signed answers a querier kept) is the answer its
 *   record rebuilds from (queryId, provider, keyEpoch, itemCount, answerDigest);
 * - uniqueness: each query id once, plus at most one DeniedReplay and one DeniedExpired repeat
 *   (unsigned refusals aside: their id is whatever the frame claimed);
 * - each provider's batch sequence runs 1, 2, 3… with no gap.
 */
export async function verifyLedger(
  modules: AuditModules, ledger: { records: AuditRecord[]; batches: AuditBatch[] }, answers: readonly HeldAnswer[] = [],
): Promise<AuditFailure[]> {
  const failures: AuditFailure[] = [];
  const history = await membershipHistory(modules);
  const ledgerAddress = await modules.ledger.getAddress();
  const signedByQuerier = querierSignatureCheck(modules.chainId, ledgerAddress);
  /** Per query id: the outcomes recorded, a first outcome as -1. */
  const seen = new Map<string, Set<number>>();
  const byId = new Map<string, AuditRecord[]>();
  for (const record of ledger.records) {
    const mask = record.categoryIds.reduce((acc, id) => acc | (1n << BigInt(id)), 0n);
    // A batch lands up to a flush interval after the answer, so membership is judged over the
    // request's life (from its earliest possible signing time to the block it landed in).
    const signedNoEarlierThan = Number(record.deadline) - MAX_REQUEST_TTL_SECONDS;
    const querierActive = history.activeDuring(record.querier, signedNoEarlierThan, record.blockNumber);
    if (record.outcome === QueryOutcome.DeniedNotMember) {
      // Refused because the peer was not Active (suspended on a connection opened while it was): it must have been admitted once.
      if (!history.admittedBy(record.querier, record.blockNumber)) {
        failures.push({ kind: "forged_querier", queryId: record.queryId, detail: `DeniedNotMember names ${record.querier}, which was never an admitted member, so it cannot have been the connected peer` });
      }
    } else if (UNSIGNED_OUTCOMES.has(record.outcome)) {
      if (!querierActive) {
        failures.push({ kind: "forged_querier", queryId: record.queryId, detail: `${record.outcomeName} names ${record.querier}, which was not an Active member while the request was live, so it cannot have been the connected peer` });
      }
    } else if (!signedByQuerier(record, mask)) {
      failures.push({ kind: "forged_querier", queryId: record.queryId, detail: `${record.outcomeName} record's signature does not recover its querier ${record.querier}` });
    } else if (!querierActive) {
      failures.push({ kind: "querier_not_active", queryId: record.queryId, detail: `querier ${record.querier} was not an Active member while its request was live (landed in block ${record.blockNumber})` });
    }
    if (!history.activeDuring(record.provider, signedNoEarlierThan, record.blockNumber)) {
      failures.push({ kind: "provider_not_active", queryId: record.queryId, detail: `provider ${record.provider} was not an Active member while the request was live (landed in block ${record.blockNumber})` });
    }
    const mismatch = answerDigestProblem(record);
    if (mismatch !== undefined) failures.push({ kind: "answer_mismatch", queryId: record.queryId, detail: mismatch });

    // Per id: one record of a first outcome, and at most one of each repeat outcome. An unsigned
    // refusal's id is whatever the peer's frame claimed (a spoiled copy of any request, as often as
    // it likes, even of another member's genuine one): it says nothing about the provider.
    const id = record.queryId.toLowerCase();
    byId.set(id, [...(byId.get(id) ?? []), record]);
    if (UNSIGNED_OUTCOMES.has(record.outcome)) continue;
    const key = REPEAT_OUTCOMES.has(record.outcome) ? record.outcome : -1;
    const outcomesSeen = seen.get(id) ?? new Set<number>();
    if (outcomesSeen.has(key)) {
      failures.push({ kind: "duplicate_query_id", queryId: record.queryId, detail: `query ${record.queryId} is recorded again by ${record.provider} as ${record.outcomeName} (block ${record.blockNumber})` });
    }
    seen.set(id, outcomesSeen.add(key));
  }
  for (const held of answers) failures.push(...heldAnswerProblems(modules.chainId, ledgerAddress, held, byId.get(held.answer.queryId.toLowerCase()) ?? []));
  const byProvider = new Map<string, AuditBatch[]>();
  for (const batch of ledger.batches) {
    const list = byProvider.get(batch.provider);
    if (list) list.push(batch);
    else byProvider.set(batch.provider, [batch]);
  }
  /** Records per (transaction, provider). */
  const carried = new Map<string, number>();
  for (const r of ledger.records) carried.set(`${r.txHash}/${r.provider}`, (carried.get(`${r.txHash}/${r.provider}`) ?? 0) + 1);
  for (const [provider, batches] of byProvider) {
    batches.forEach((batch, index) => {
      if (batch.seq !== BigInt(index + 1)) {
        failures.push({ kind: "sequence_gap", provider, detail: `batch ${batch.seq} of ${provider} follows ${index === 0 ? "nothing" : batches[index - 1]?.seq} (expected ${index + 1})` });
      }
      const landed = carried.get(`${batch.txHash}/${provider}`) ?? 0;
      if (landed !== batch.recordCount) {
        failures.push({ kind: "sequence_count", provider, detail: `batch ${batch.seq} of ${provider} announces ${batch.recordCount} records but carries ${landed}` });
      }
    });
  }
  return failures;
}

const ZERO_DIGEST = `0x${"00".repeat(32)}`;

/** Why a record's answerDigest cannot be what its querier was sent, or undefined. */
function answerDigestProblem(record: AuditRecord): string | undefined {
  if (record.outcome === QueryOutcome.Answered) {
    return record.answerDigest === ZERO_DIGEST ? "an Answered record carries no answer digest, so nothing binds it to what the querier received" : undefined;
  }
  const code = REFUSAL_ERROR_CODES[record.outcome];
  if (code === undefined) return `outcome ${record.outcomeName} is not one a provider sends`;
  return record.answerDigest.toLowerCase() === refusalDigest(code) ? undefined : `${record.outcomeName} record's answer digest is not that of the ${code} error it stands for`;
}

/** What is wrong between an answer a querier holds (signed by its provider) and the ledger's records of its query id. */
function heldAnswerProblems(chainId: bigint, ledgerAddress: string, held: HeldAnswer, records: readonly AuditRecord[]): AuditFailure[] {
  const { answer } = held;
  let signer: string | undefined;
  try {
    signer = recoverLookupAnswerSigner(chainId, ledgerAddress, answer, held.answerSignature);
  } catch {
    signer = undefined;
  }
  // An answer its provider did not sign proves nothing either way.
  if (signer === undefined || signer !== checksumAddress(answer.provider)) return [];
  const mine = records.filter((r) => r.provider === signer);
  const answered = mine.filter((r) => r.outcome === QueryOutcome.Answered);
  const heldDigest = lookupAnswerDigest(chainId, ledgerAddress, answer);
  if (answered.length === 0) {
    return mine.length === 0 ? [] : [{ kind: "answer_mismatch", queryId: answer.queryId, detail: `${signer} signed an answer to query ${answer.queryId} but recorded it as ${mine.map((r) => r.outcomeName).join(", ")}` }];
  }
  return answered.flatMap((record) => {
    const rebuilt: LookupAnswer = { queryId: record.queryId, provider: record.provider, keyEpoch: record.keyEpoch, itemCount: record.itemCount, answerDigest: record.answerDigest };
    return lookupAnswerDigest(chainId, ledgerAddress, rebuilt) === heldDigest ? [] : [{
      kind: "answer_mismatch" as const, queryId: record.queryId,
      detail: `the answer ${signer} signed (key epoch ${answer.keyEpoch}, ${answer.itemCount} items) does not match its record (key epoch ${record.keyEpoch}, ${record.itemCount} items, answer digest ${record.answerDigest})`,
    }];
  });
}

/**
 * "The record's signature recovers its querier", for a whole ledger: the first record of each
 * querier is recovered in full, which proves that querier's public key; later ones are checked
 * against that key (isDigestSignedBy: true exactly where recovery would give the key's address,
 * and ~3× cheaper), falling back to recovery when that says no.
 */
function querierSignatureCheck(chainId: bigint, ledgerAddress: string): (record: AuditRecord, categoryMask: bigint) => boolean {
  const provenKeys = new Map<string, Uint8Array>();
  return (record, categoryMask) => {
    if (record.signature === "") return false;
    try {
      const digest = lookupRequestDigestBytes(chainId, ledgerAddress, requestOfRecord(record, categoryMask));
      const key = provenKeys.get(record.querier);
      if (key !== undefined && isDigestSignedBy(digest, record.signature, key)) return true;
      if (recoverDigestSigner(digest, record.signature) !== record.querier) return false;
      if (key === undefined) provenKeys.set(record.querier, getBytes(SigningKey.recoverPublicKey(digest, record.signature)));
      return true;
    } catch {
      return false;
    }
  };
}

/**
 * The signature check `verifyLedger` makes of one record: whom its signature recovers, and whether
 * that is the querier it names (false for a record without a signature, an unsigned refusal).
 */
export function recordSignatureCheck(chainId: bigint, ledgerAddress: string, record: AuditRecord): { signed: boolean; recovered: string | null; matches: boolean } {
  if (record.signature === "") return { signed: false, recovered: null, matches: false };
  const mask = record.categoryIds.reduce((acc, id) => acc | (1n << BigInt(id)), 0n);
  try {
    const recovered = recoverDigestSigner(lookupRequestDigestBytes(chainId, ledgerAddress, requestOfRecord(record, mask)), record.signature);
    return { signed: true, recovered, matches: recovered === record.querier };
  } catch {
    return { signed: true, recovered: null, matches: false };
  }
}

/** The columns of `audit queries` (and of the console's ledger CSV), in order. */
export const AUDIT_COLUMNS = ["time", "block", "query_id", "seq", "querier", "provider", "categories", "kind", "items", "key_epoch", "outcome", "deadline", "items_commitment"] as const;

/** A record's kind as the audit shows it. */
export function lookupKindName(kind: number): string {
  return kind === LookupKind.Evaluate ? "evaluate" : kind === LookupKind.Fetch ? "fetch" : `#${kind}`;
}

/** Unix seconds as ISO 8601 UTC; empty for 0. */
function isoOfSeconds(seconds: number | bigint): string {
  const value = Number(seconds);
  return value === 0 ? "" : new Date(value * 1000).toISOString();
}

/** A record's cells under {@link AUDIT_COLUMNS}: one CSV row of `audit queries`, whoever writes it. */
export function auditRowOf(
  r: Pick<AuditRecord, "timestamp" | "blockNumber" | "queryId" | "seq" | "querier" | "provider" | "categoryIds" | "kind" | "itemCount" | "keyEpoch" | "outcomeName" | "deadline" | "itemsCommitment">,
  categoryName: (id: number) => string,
): unknown[] {
  return [isoOfSeconds(r.timestamp), r.blockNumber, r.queryId, r.seq, r.querier, r.provider, r.categoryIds.map(categoryName).join("|"), lookupKindName(r.kind), r.itemCount, r.keyEpoch, r.outcomeName, isoOfSeconds(r.deadline), r.itemsCommitment];
}

/** Longest lifetime a request may have (defined with the chain defaults, which the QueryLedger's deployment uses too). */
export { MAX_REQUEST_TTL_SECONDS } from "./options.ts";

/** Member status over time, rebuilt from the registry's events. */
export interface MembershipHistory {
  /** True when the member was Active at some moment from unix time `fromTime` through block `toBlock`. */
  activeDuring(address: string, fromTime: number, toBlock: number): boolean;
  /** True when the account had been admitted (Active at some moment) by block `toBlock`. */
  admittedBy(address: string, toBlock: number): boolean;
}

/** Rebuilds every member's status timeline from the registry's events. */
export async function membershipHistory(modules: AuditModules): Promise<MembershipHistory> {
  const head = await modules.provider.getBlockNumber();
  const registryAddress = await modules.registry.getAddress();
  const iface = modules.registry.interface;
  const topics = ["MemberActivated", "MemberSuspended", "MemberReinstated", "MemberRemoved", "MemberKeyRotated"].map((name) => iface.getEvent(name as "MemberActivated").topicHash);
  const logs = await getLogsChunked(modules, { address: registryAddress, topics: [topics] }, 0, head);
  const timestamps = new Map<number, number>();
  const changes = new Map<string, Array<{ block: number; time: number; status: number }>>();
  for (const log of logs) {
    const parsed = iface.parseLog(log);
    if (!parsed) continue;
    if (parsed.name === "MemberKeyRotated") {
      // The member moved: its old account ends (Rotated), its new one is Active from this block.
      const time = await blockTimestamp(modules.provider, log.blockNumber, timestamps);
      for (const [index, status] of [[0, MemberStatus.Rotated], [1, MemberStatus.Active]] as const) {
        const account = getAddress(parsed.args[index] as string);
        changes.set(account, [...(changes.get(account) ?? []), { block: log.blockNumber, time, status }]);
      }
      continue;
    }
    const status = { MemberActivated: MemberStatus.Active, MemberSuspended: MemberStatus.Suspended, MemberReinstated: MemberStatus.Active, MemberRemoved: MemberStatus.Removed }[parsed.name];
    if (status === undefined) continue;
    const account = getAddress(parsed.args[0] as string);
    const time = await blockTimestamp(modules.provider, log.blockNumber, timestamps);
    changes.set(account, [...(changes.get(account) ?? []), { block: log.blockNumber, time, status }]);
  }
  const timeline = (address: string) => changes.get(getAddress(address)) ?? [];
  return {
    activeDuring(address, fromTime, toBlock) {
      let status: number = MemberStatus.None;
      for (const change of timeline(address)) {
        if (change.block > toBlock) break;
        if (change.time <= fromTime) status = change.status;
        else if (change.status === MemberStatus.Active) return true;
      }
      return status === MemberStatus.Active;
    },
    admittedBy(address, toBlock) {
      return timeline(address).some((change) => change.block <= toBlock && change.status === MemberStatus.Active);
    },
  };
}

function matches(record: AuditRecord, query: LedgerQuery): boolean {
  if (query.querier !== undefined && record.querier !== getAddress(query.querier)) return false;
  if (query.provider !== undefined && record.provider !== getAddress(query.provider)) return false;
  if (query.categoryId !== undefined && !record.categoryIds.includes(query.categoryId)) return false;
  if (query.fromTime !== undefined && record.timestamp < query.fromTime) return false;
  if (query.toTime !== undefined && record.timestamp > query.toTime) return false;
  return true;
}

function safeCategoryIds(mask: bigint): number[] {
  try {
    return categoryIdsFromMask(mask);
  } catch {
    return [];
  }
}

/** A log as eth_getLogs returns it, with its numbers read. */
interface LedgerLog {
  topics: string[];
  data: string;
  blockNumber: number;
  transactionHash: string;
  index: number;
}

async function getLogsChunked(modules: AuditModules, filter: { address: string; topics: (string | string[])[] }, fromBlock: number, toBlock: number): Promise<LedgerLog[]> {
  const rpc: JsonRpcCaller = modules.rpc ?? { call: (method, params) => modules.provider.send(method, params) };
  const chunk = modules.logChunkBlocks ?? CHAIN_DEFAULTS.logChunkBlocks;
  const logs: LedgerLog[] = [];
  for (let from = fromBlock; from <= toBlock; from += chunk) {
    const range = { fromBlock: toQuantity(from), toBlock: toQuantity(Math.min(toBlock, from + chunk - 1)) };
    const answer = await rpc.call("eth_getLogs", [{ ...filter, ...range }]);
    if (!Array.isArray(answer)) throw new RiskshareError("E_CHAIN_UNREACHABLE", "the chain answered eth_getLogs with something other than a list", range);
    for (const raw of answer as Array<{ topics?: unknown; data?: unknown; blockNumber?: unknown; transactionHash?: unknown; logIndex?: unknown; removed?: unknown }>) {
      if (raw.removed === true) continue;
      if (!Array.isArray(raw.topics) || typeof raw.data !== "string" || typeof raw.transactionHash !== "string" || typeof raw.blockNumber !== "string" || typeof raw.logIndex !== "string") {
        throw new RiskshareError("E_CHAIN_UNREACHABLE", "the chain answered eth_getLogs with a malformed log", range);
      }
      logs.push({ topics: raw.topics as string[], data: raw.data, blockNumber: Number(raw.blockNumber), transactionHash: raw.transactionHash, index: Number(raw.logIndex) });
    }
  }
  return logs.sort((a, b) => a.blockNumber - b.blockNumber || a.index - b.index);
}

function toQuantity(n: number): string {
  return `0x${n.toString(16)}`;
}

/** The fields of a QueryRecorded log, decoded by hand. */
interface RecordedFields {
  queryId: string; querier: string; provider: string; categoryMask: bigint; deadline: bigint; itemCount: number; kind: number; keyEpoch: number; outcome: number;
  count: number; itemsCommitment: string; nonce: string; signatureR: string; signatureVs: string; answerDigest: string;
}

const WORD = /^[0-9a-fA-F]{64}$/;
const ADDRESS_TOPIC = /^0x0{24}[0-9a-fA-F]{40}$/;

/**
 * QueryRecorded read straight from its fixed layout (topics: signature, queryId, querier,
 * provider; data: twelve words), ~20× cheaper than the ABI coder on a ledger of 100,000s of records.
 * Anything off that layout or out of a field's range gives undefined, and the ABI coder decides.
 */
function decodeQueryRecorded(log: LedgerLog): RecordedFields | undefined {
  const [, queryId, querier, provider] = log.topics;
  if (log.topics.length !== 4 || log.data.length !== 2 + 12 * 64 || !/^0x[0-9a-fA-F]*$/.test(log.data)) return undefined;
  if (!WORD.test(queryId!.slice(2)) || !ADDRESS_TOPIC.test(querier!) || !ADDRESS_TOPIC.test(provider!)) return undefined;
  const words = Array.from({ length: 12 }, (_, i) => log.data.slice(2 + i * 64, 2 + (i + 1) * 64));
  const uint = (i: number, bits: number): bigint | undefined => {
    const value = BigInt(`0x${words[i]}`);
    return value >> BigInt(bits) === 0n ? value : undefined;
  };
  const [categoryMask, deadline, itemCount, kind, keyEpoch, outcome, count] = [uint(0, 64), uint(1, 64), uint(2, 32), uint(3, 8), uint(4, 32), uint(5, 8), uint(6, 32)];
  if (categoryMask === undefined || deadline === undefined || itemCount === undefined || kind === undefined || keyEpoch === undefined || outcome === undefined || count === undefined) return undefined;
  return {
    queryId: queryId!.toLowerCase(), querier: checksumAddress(`0x${querier!.slice(26)}`), provider: checksumAddress(`0x${provider!.slice(26)}`),
    categoryMask, deadline, itemCount: Number(itemCount), kind: Number(kind), keyEpoch: Number(keyEpoch), outcome: Number(outcome), count: Number(count),
    itemsCommitment: `0x${words[7]!.toLowerCase()}`, nonce: `0x${words[8]!.toLowerCase()}`, signatureR: `0x${words[9]!.toLowerCase()}`, signatureVs: `0x${words[10]!.toLowerCase()}`,
    answerDigest: `0x${words[11]!.toLowerCase()}`,
  };
}

/** QueryRecorded through the ABI coder (the reference for {@link decodeQueryRecorded}); undefined when the log is not one. */
function parsedQueryRecorded(ledger: IQueryLedger, log: LedgerLog): RecordedFields | undefined {
  const parsed = ledger.interface.parseLog(log);
  if (parsed?.name !== "QueryRecorded") return undefined;
  const a = parsed.args;
  return {
    queryId: a[0] as string, querier: getAddress(a[1] as string), provider: getAddress(a[2] as string), categoryMask: a[3] as bigint, deadline: a[4] as bigint,
    itemCount: Number(a[5]), kind: Number(a[6]), keyEpoch: Number(a[7]), outcome: Number(a[8]), count: Number(a[9]), itemsCommitment: a[10] as string, nonce: a[11] as string,
    signatureR: a[12] as string, signatureVs: a[13] as string, answerDigest: a[14] as string,
  };
}

async function blockTimestamp(provider: Pick<JsonRpcProvider, "getBlock">, blockNumber: number, cache: Map<number, number>): Promise<number> {
  const cached = cache.get(blockNumber);
  if (cached !== undefined) return cached;
  const block = await provider.getBlock(blockNumber);
  if (!block) throw new RiskshareError("E_CHAIN_UNREACHABLE", "the chain did not return a block it reported", { blockNumber });
  cache.set(blockNumber, block.timestamp);
  return block.timestamp;
}

/** Binary search: the first block whose timestamp is ≥ t (head + 1 when none). */
export async function firstBlockAtOrAfter(provider: Pick<JsonRpcProvider, "getBlock">, t: number, head: number): Promise<number> {
  let lo = 0;
  let hi = head + 1;
  const cache = new Map<number, number>();
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    if ((await blockTimestamp(provider, mid, cache)) >= t) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** The last block whose timestamp is ≤ t (-1 when none). */
async function lastBlockAtOrBefore(provider: JsonRpcProvider, t: number, head: number): Promise<number> {
  return (await firstBlockAtOrAfter(provider, t + 1, head)) - 1;
}
