/**
 * The ledger's hot path to the chain, in bytes: the calldata of QueryLedger.recordBatch, its gas
 * limit, and the signed raw transaction that carries it.
 *
 * Why not ethers' Contract and Wallet here: a 200-record batch is 64 KB of calldata, and ethers
 * handles it as hex strings — ABI encoding, RLP serialisation and hashing took ~150 ms of CPU per
 * batch, more than the chain took to execute it. Everything below works on Uint8Array (keccak from
 * @noble/hashes, ~2.5× faster than ethers' copy of it) and is
 * checked byte for byte against ethers in test/unit/ledger-tx.test.ts.
 */
import { keccak_256 } from "@noble/hashes/sha3.js";
import { getAddress, type Signature } from "ethers";
import { RiskshareError } from "../errors.ts";
import { IQueryLedger__factory } from "../../types/ethers-contracts/index.ts";

/** The QueryLedger record struct as calldata (RiskshareTypes.QueryRecord, in field order). */
export interface QueryRecordStruct {
  querier: string;
  categoryMask: bigint;
  deadline: bigint;
  itemCount: number;
  /** LookupKind: 0 = Evaluate, 1 = Fetch. */
  kind: number;
  /** The key epoch answered under; 0 for a refusal. */
  keyEpoch: number;
  outcome: number;
  /** Refusals folded into the record (>= 1); 1 for an answer. */
  count: number;
  itemsCommitment: string;
  nonce: string;
  signatureR: string;
  signatureVs: string;
  /** Answered: the signed LookupAnswer's answerDigest; refused: {@link refusalDigest} of the error code sent. */
  answerDigest: string;
}

/** Bytes one record takes in calldata: thirteen 32-byte words (the struct is static). */
export const RECORD_CALLDATA_BYTES = 416;

const RECORD_BATCH_SELECTOR = hexToBytes(IQueryLedger__factory.createInterface().getFunction("recordBatch").selector, 4, "selector");

/** ABI-encodes `recordBatch(seq, records)`; throws E_INTERNAL on a value out of its type's range. */
export function encodeRecordBatch(seq: bigint, records: readonly QueryRecordStruct[]): Uint8Array {
  const out = new Uint8Array(4 + 96 + records.length * RECORD_CALLDATA_BYTES);
  out.set(RECORD_BATCH_SELECTOR, 0);
  writeUint(out, 4, seq, 64, "seq");
  writeUint(out, 36, 0x40n, 256, "offset");
  writeUint(out, 68, BigInt(records.length), 256, "length");
  let at = 100;
  for (const record of records) {
    out.set(hexToBytes(record.querier, 20, "querier"), at + 12);
    writeUint(out, at + 32, record.categoryMask, 64, "categoryMask");
    writeUint(out, at + 64, record.deadline, 64, "deadline");
    writeUint(out, at + 96, BigInt(record.itemCount), 32, "itemCount");
    writeUint(out, at + 128, BigInt(record.kind), 8, "kind");
    writeUint(out, at + 160, BigInt(record.keyEpoch), 32, "keyEpoch");
    writeUint(out, at + 192, BigInt(record.outcome), 8, "outcome");
    writeUint(out, at + 224, BigInt(record.count), 32, "count");
    out.set(hexToBytes(record.itemsCommitment, 32, "itemsCommitment"), at + 256);
    out.set(hexToBytes(record.nonce, 32, "nonce"), at + 288);
    out.set(hexToBytes(record.signatureR, 32, "signatureR"), at + 320);
    out.set(hexToBytes(record.signatureVs, 32, "signatureVs"), at + 352);
    out.set(hexToBytes(record.answerDigest, 32, "answerDigest"), at + 384);
    at += RECORD_CALLDATA_BYTES;
  }
  return out;
}

/** Gas the transaction itself costs before execution (EIP-2028 calldata pricing). */
const TX_BASE_GAS = 21_000n;
/**
 * recordBatch's execution outside the per-record loop, with room to spare (measured: up to ~30,000 for
 * a provider's first batch, which writes a cold slot, before the batch reported the provider's activity
 * to the registry; that report adds ~7,000: two cold reads and a warm write of its activity slot).
 */
const EXEC_BASE_GAS = 48_000n;
/** Execution gas per record: one log4 of 384 bytes, two keccaks, calldata copies, the outcome's shape check (measured 4,750–5,050 with the 288-byte v1 log, ~5,300 with 320 bytes, ~5,900 with 384; test/contracts/QueryLedger.gas.test.ts holds the limit to every batch size). */
const EXEC_GAS_PER_RECORD = 6_600n;
/**
 * Metering's execution gas per answered record on top: the querier's signature recovered on chain
 * (ecrecover, ~3,300 with its call), the pair's nonce window and counters (warm after its
 * querier's first record), the in-memory tally (measured ~6,600 with the calldata struct reads).
 */
const EXEC_GAS_PER_ANSWERED = 8_000n;
/**
 * Metering's execution gas per distinct querier of an answered record, at worst: the registry's
 * membership read, a pair's two new slots (2 × 22,100), a new account word, its week's history
 * entry and the decay's history reads, and one CreditsMoved log.
 */
const EXEC_GAS_PER_QUERIER = 110_000n;
/** Metering's execution gas per batch with any answered record, at worst: the provider's new account word, history entry and the week's totals. */
const EXEC_GAS_METERING_BASE = 80_000n;
/** The per-transaction gas cap of EIP-7825 (Osaka): a limit above it is refused. */
const TX_GAS_CAP = 1n << 24n;

/**
 * The gas limit of a recordBatch transaction with `calldata`: intrinsic cost, or the calldata
 * floor of EIP-7623 where that is higher, plus the execution with a margin (the execution depends
 * only on the records' outcomes and their distinct queriers, read here from the calldata, so no
 * eth_estimateGas round trip is needed, which also lets batches be pipelined: an estimate of batch
 * n+1 would revert until batch n is mined). Metering is priced at its worst (every querier new to
 * the provider, every week closing) and the limit capped at EIP-7825's. `boost` multiplies the
 * execution part after a batch ran out of gas on a chain that prices opcodes differently.
 */
export function recordBatchGasLimit(calldata: Uint8Array, recordCount: number, boost = 1n): bigint {
  let zero = 0n;
  for (let i = 0; i < calldata.length; i++) if (calldata[i] === 0) zero++;
  const nonzero = BigInt(calldata.length) - zero;
  const standard = zero * 4n + nonzero * 16n;
  const floor = (zero + nonzero * 4n) * 10n;
  const { answered, queriers } = answeredRecords(calldata, recordCount);
  const metering = answered === 0n ? 0n : EXEC_GAS_METERING_BASE + EXEC_GAS_PER_ANSWERED * answered + EXEC_GAS_PER_QUERIER * queriers;
  const execution = (EXEC_BASE_GAS + EXEC_GAS_PER_RECORD * BigInt(recordCount) + metering) * boost;
  const limit = TX_BASE_GAS + (standard + execution > floor ? standard + execution : floor);
  return limit < TX_GAS_CAP ? limit : TX_GAS_CAP - 1n;
}

/** How many of the encoded records are answered (outcome 0) and how many distinct queriers they have. */
function answeredRecords(calldata: Uint8Array, recordCount: number): { answered: bigint; queriers: bigint } {
  const queriers = new Set<string>();
  let answered = 0n;
  for (let i = 0; i < recordCount; i++) {
    const at = 100 + i * RECORD_CALLDATA_BYTES;
    if (at + RECORD_CALLDATA_BYTES > calldata.length) break;
    // outcome is the record's seventh word (a uint8: its last byte; a nonzero high byte would revert anyway).
    if (calldata[at + 223] !== 0) continue;
    answered++;
    queriers.add(Buffer.from(calldata.subarray(at + 12, at + 32)).toString("hex"));
  }
  return { answered, queriers: BigInt(queriers.size) };
}

/** Fields of a transaction to sign; `maxFeePerGas` set means EIP-1559 (type 2), else legacy EIP-155. */
export interface RawTransactionFields {
  chainId: bigint;
  nonce: number;
  to: string;
  data: Uint8Array;
  gasLimit: bigint;
  maxFeePerGas?: bigint;
  maxPriorityFeePerGas?: bigint;
  gasPrice?: bigint;
}

/** A transaction signed and ready for eth_sendRawTransaction. */
export interface SignedRawTransaction {
  /** 0x-hex of the serialised transaction. */
  raw: string;
  /** The serialised transaction (its keccak-256 is the transaction hash: {@link transactionHash}). */
  bytes: Uint8Array;
}

/** The hash the chain gives a serialised transaction. */
export function transactionHash(serialized: Uint8Array): string {
  return bytesToHex(keccak_256(serialized));
}

/**
 * Serialises and signs `tx` with `sign` (a digest signer: ethers SigningKey.sign). Type 2 when the
 * fee fields of EIP-1559 are given, otherwise a legacy transaction with EIP-155 replay protection.
 */
export function signRawTransaction(tx: RawTransactionFields, sign: (digest: string) => Signature): SignedRawTransaction {
  const to = hexToBytes(getAddress(tx.to), 20, "to");
  if (tx.maxFeePerGas !== undefined) {
    const fields = [
      rlpUint(tx.chainId), rlpUint(BigInt(tx.nonce)), rlpUint(tx.maxPriorityFeePerGas ?? 0n), rlpUint(tx.maxFeePerGas), rlpUint(tx.gasLimit),
      rlpBytes(to), rlpUint(0n), rlpBytes(tx.data), rlpList([]),
    ];
    const signature = sign(bytesToHex(keccak_256(concatBytes([Uint8Array.of(2), rlpList(fields)]))));
    const signed = concatBytes([Uint8Array.of(2), rlpList([...fields, rlpUint(BigInt(signature.yParity)), rlpUint(BigInt(signature.r)), rlpUint(BigInt(signature.s))])]);
    return { raw: bytesToHex(signed), bytes: signed };
  }
  const fields = [rlpUint(BigInt(tx.nonce)), rlpUint(tx.gasPrice ?? 0n), rlpUint(tx.gasLimit), rlpBytes(to), rlpUint(0n), rlpBytes(tx.data)];
  const signature = sign(bytesToHex(keccak_256(rlpList([...fields, rlpUint(tx.chainId), rlpUint(0n), rlpUint(0n)]))));
  const v = tx.chainId * 2n + 35n + BigInt(signature.yParity);
  const signed = rlpList([...fields, rlpUint(v), rlpUint(BigInt(signature.r)), rlpUint(BigInt(signature.s))]);
  return { raw: bytesToHex(signed), bytes: signed };
}

// ── bytes ─────────────────────────────────────────────────────────────────────────────────────────

function writeUint(out: Uint8Array, at: number, value: bigint, bits: number, field: string): void {
  if (value < 0n || value >= 1n << BigInt(bits)) {
    throw new RiskshareError("E_INTERNAL", `a ledger record's ${field} is out of range for uint${bits}`, { field });
  }
  let v = value;
  for (let i = 31; i >= 0 && v > 0n; i--) {
    out[at + i] = Number(v & 0xffn);
    v >>= 8n;
  }
}

function hexToBytes(hex: string, length: number, field: string): Uint8Array {
  if (typeof hex !== "string" || hex.length !== 2 + length * 2 || !/^0x[0-9a-fA-F]*$/.test(hex)) {
    throw new RiskshareError("E_INTERNAL", `a ledger record's ${field} is not ${length} bytes of hex`, { field });
  }
  return Buffer.from(hex.slice(2), "hex");
}

function bytesToHex(bytes: Uint8Array): string {
  return `0x${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex")}`;
}

function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  return Buffer.concat(parts);
}

// ── RLP (the yellow paper, appendix B): byte strings and lists of already-encoded items ───────────

function rlpLength(length: number, offset: number): Uint8Array {
  if (length < 56) return Uint8Array.of(offset + length);
  const bytes: number[] = [];
  for (let l = length; l > 0; l = Math.floor(l / 256)) bytes.unshift(l % 256);
  return Uint8Array.of(offset + 55 + bytes.length, ...bytes);
}

function rlpBytes(bytes: Uint8Array): Uint8Array {
  if (bytes.length === 1 && bytes[0]! < 0x80) return bytes;
  return concatBytes([rlpLength(bytes.length, 0x80), bytes]);
}

function rlpUint(value: bigint): Uint8Array {
  if (value === 0n) return Uint8Array.of(0x80);
  let hex = value.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  return rlpBytes(Buffer.from(hex, "hex"));
}

function rlpList(encodedItems: readonly Uint8Array[]): Uint8Array {
  const body = concatBytes(encodedItems);
  return concatBytes([rlpLength(body.length, 0xc0), body]);
}
