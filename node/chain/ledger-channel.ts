import type { FeeData, Wallet } from "ethers";
import { RiskshareError } from "../errors.ts";
import type { IQueryLedger } from "../../types/ethers-contracts/index.ts";
import { encodeRecordBatch, recordBatchGasLimit, signRawTransaction, transactionHash } from "./ledger-tx.ts";
import type { JsonRpcCaller } from "./rpc.ts";
import { toQueryRecord, type LedgerRecord } from "./ledger-record.ts";

/** A batch transaction the chain accepted into its pool, not yet mined. */
export interface SubmittedBatch {
  seq: bigint;
  hash: string;
  gasLimit: bigint;
}

/**
 * How the ledger batcher reaches QueryLedger: read the provider's last sequence number, send a
 * batch, wait for it to be mined. Submissions are made one at a time in sequence order, so their
 * nonces are consecutive and several may be in flight.
 */
export interface LedgerChannel {
  /** The last batch sequence number of this provider on chain. */
  lastSequence(): Promise<bigint>;
  /**
   * Signs and sends recordBatch(seq, records); resolves once the chain accepted the transaction.
   * `beforeSend` gets the transaction's hash once it is signed and must note it durably: it is how
   * the node later tells its own batch on chain from one another node sent under the same key.
   */
  submit(seq: bigint, records: readonly LedgerRecord[], beforeSend: (txHash: string) => Promise<void>): Promise<SubmittedBatch>;
  /** Whether the transaction `txHash` was mined and succeeded (false while unknown to the chain, pending or reverted). */
  succeeded(txHash: string): Promise<boolean>;
  /** Resolves with the gas used once `batch` is mined; rejects if it reverted or did not mine in time. */
  confirm(batch: SubmittedBatch): Promise<{ gasUsed: bigint }>;
  /** Forgets locally counted nonces and fees: called when a flush begins and after any failure. */
  reset(): void;
}

/** Options of {@link RpcLedgerChannel}. */
export interface RpcLedgerChannelOptions {
  chainId: bigint;
  /** The QueryLedger contract's address. */
  ledgerAddress: string;
  /** Longest wait for a submitted batch to be mined before the flush fails and is retried. */
  confirmTimeoutMs: number;
  /** Upper bound of the receipt polling interval (it starts at a few milliseconds and doubles). */
  pollIntervalMs: number;
}

/** Dependencies of {@link RpcLedgerChannel}. */
export interface RpcLedgerChannelModules {
  /** Plain JSON-RPC for the nonce count, the transactions and their receipts (HttpJsonRpc in a node). */
  rpc: JsonRpcCaller;
  /** The fee read (ethers' getFeeData of the node's JsonRpcProvider). */
  fees: { getFeeData(): Promise<FeeData> };
  /** The provider member's key: it signs the batch transactions. */
  wallet: Wallet;
  /** QueryLedger, for the sequence number read. */
  ledger: Pick<IQueryLedger, "lastSequence">;
}

interface Fees {
  maxFeePerGas?: bigint;
  maxPriorityFeePerGas?: bigint;
  gasPrice?: bigint;
}

/** Where a transaction is: mined and succeeded or failed, waiting in the pool, or unknown to the chain. */
export type TransactionState = "succeeded" | "failed" | "pending" | "unknown";

/** Where the transaction `txHash` is, from its receipt, else from the pool. */
export async function transactionState(rpc: JsonRpcCaller, txHash: string): Promise<TransactionState> {
  const receipt = (await rpc.call("eth_getTransactionReceipt", [txHash])) as { status?: string } | null;
  if (receipt) return BigInt(receipt.status ?? 0) === 1n ? "succeeded" : "failed";
  return (await rpc.call("eth_getTransactionByHash", [txHash])) ? "pending" : "unknown";
}

/** First receipt poll delay after the immediate one; doubles up to pollIntervalMs. */
const FIRST_POLL_MS = 4;

/**
 * The production channel: encodes, signs and sends batches as raw transactions over plain
 * JSON-RPC (see ledger-tx.ts for why not through ethers' Contract), with its own nonce count —
 * fetched from the pool ("pending") when a flush begins, so transactions the operator sent from
 * the same key meanwhile are counted — and a computed gas limit, so batches can be pipelined.
 */
export class RpcLedgerChannel implements LedgerChannel {
  private readonly opts: RpcLedgerChannelOptions;
  private readonly modules: RpcLedgerChannelModules;
  private nonce: number | undefined;
  private fees: Fees | undefined;
  /** Multiplies the execution part of the gas limit after a batch ran out of gas. */
  private gasBoost = 1n;

  constructor(opts: RpcLedgerChannelOptions, modules: RpcLedgerChannelModules) {
    this.opts = opts;
    this.modules = modules;
  }

  async lastSequence(): Promise<bigint> {
    return this.modules.ledger.lastSequence(this.modules.wallet.address);
  }

  reset(): void {
    this.nonce = undefined;
    this.fees = undefined;
  }

  async submit(seq: bigint, records: readonly LedgerRecord[], beforeSend: (txHash: string) => Promise<void>): Promise<SubmittedBatch> {
    const { rpc, wallet } = this.modules;
    const data = encodeRecordBatch(seq, records.map(toQueryRecord));
    const gasLimit = recordBatchGasLimit(data, records.length, this.gasBoost);
    this.fees ??= await this.fetchFees();
    const nonce = this.nonce ?? Number(await rpc.call("eth_getTransactionCount", [wallet.address, "pending"]));
    const signed = signRawTransaction(
      { chainId: this.opts.chainId, nonce, to: this.opts.ledgerAddress, data, gasLimit, ...this.fees },
      (digest) => wallet.signingKey.sign(digest),
    );
    await beforeSend(transactionHash(signed.bytes));
    let hash: unknown;
    try {
      hash = await rpc.call("eth_sendRawTransaction", [signed.raw]);
    } catch (err) {
      this.reset();
      throw err;
    }
    this.nonce = nonce + 1;
    if (typeof hash !== "string" || !/^0x[0-9a-fA-F]{64}$/.test(hash)) {
      throw new RiskshareError("E_CHAIN_UNREACHABLE", "the chain accepted a query batch transaction but answered no transaction hash", { seq });
    }
    return { seq, hash, gasLimit };
  }

  async succeeded(txHash: string): Promise<boolean> {
    return (await transactionState(this.modules.rpc, txHash)) === "succeeded";
  }

  async confirm(batch: SubmittedBatch): Promise<{ gasUsed: bigint }> {
    const deadline = performance.now() + this.opts.confirmTimeoutMs;
    let delayMs = 0;
    for (;;) {
      if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
      const receipt = (await this.modules.rpc.call("eth_getTransactionReceipt", [batch.hash])) as { status?: string; gasUsed?: string } | null;
      if (receipt) {
        const gasUsed = BigInt(receipt.gasUsed ?? 0);
        if (BigInt(receipt.status ?? 0) === 1n) return { gasUsed };
        if (gasUsed * 100n >= batch.gasLimit * 98n && this.gasBoost < 8n) this.gasBoost *= 2n;
        throw new RiskshareError("E_CHAIN_REVERTED", "the query batch transaction failed on chain", { seq: batch.seq, tx: batch.hash, gasUsed, gasLimit: batch.gasLimit });
      }
      if (performance.now() >= deadline) {
        throw new RiskshareError("E_TIMEOUT", "the query batch transaction was not mined in time", { seq: batch.seq, tx: batch.hash, waitedMs: this.opts.confirmTimeoutMs });
      }
      delayMs = delayMs === 0 ? FIRST_POLL_MS : Math.min(delayMs * 2, this.opts.pollIntervalMs);
    }
  }

  /** EIP-1559 fees when the chain has a base fee, else a legacy gas price (as ethers' getFeeData). */
  private async fetchFees(): Promise<Fees> {
    const data = await this.modules.fees.getFeeData();
    if (data.maxFeePerGas !== null && data.maxPriorityFeePerGas !== null) return { maxFeePerGas: data.maxFeePerGas, maxPriorityFeePerGas: data.maxPriorityFeePerGas };
    return { gasPrice: data.gasPrice ?? 0n };
  }
}
