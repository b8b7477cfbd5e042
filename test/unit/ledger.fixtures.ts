/**
 * Small fakes of the ledger batcher's modules: an in-memory outbox and a chain that mines every
 * batch at once, through as many channels (nodes sharing one member key) as a test opens.
 */
import { hexlify, randomBytes, Wallet } from "ethers";
import { revertError, type LedgerBatch, type LedgerChannel, type LedgerOutbox, type LedgerRecord, type LedgerWriterMark } from "../../node/chain/index.ts";
import { RiskshareError } from "../../node/errors.ts";

/**
 * An in-memory outbox holding `count` records (their contents never reach a real chain here), with
 * its writer mark; `legacy` makes it one from before marks were kept.
 */
export function memoryOutbox(count: number, opts: { legacy?: boolean } = {}): LedgerOutbox & { landed: bigint[]; append(n: number): void } {
  let waiting = Array.from({ length: count }, () => ({}) as LedgerRecord);
  const pending: Array<LedgerBatch & { txHashes: string[] }> = [];
  const landed: bigint[] = [];
  let mark: (LedgerWriterMark & { providerAddress: string }) | undefined;
  return {
    landed,
    append: (n) => void waiting.push(...Array.from({ length: n }, () => ({}) as LedgerRecord)),
    pendingBatches: async () => pending.map((b) => ({ ...b, txHashes: [...b.txHashes] })),
    assignBatch: async (seq, maxRecords) => {
      if (waiting.length === 0) return undefined;
      const batch = { seq, records: waiting.slice(0, maxRecords), txHashes: [] };
      waiting = waiting.slice(maxRecords);
      pending.push(batch);
      return batch;
    },
    noteSent: async (seq, txHash) => void pending.find((b) => b.seq === seq)!.txHashes.push(txHash),
    completeBatch: async (seq, { providerAddress, txHash, atMs }) => {
      pending.splice(pending.findIndex((b) => b.seq === seq), 1);
      landed.push(seq);
      mark = { providerAddress, seq, atMs, ...(txHash === undefined ? {} : { txHash }) };
    },
    writerMark: (providerAddress) => (mark === undefined && opts.legacy ? { seq: 0n, atMs: 0, legacy: true } : mark?.providerAddress === providerAddress ? mark : undefined),
    adoptSequence: async (providerAddress, seq) => void (mark = { providerAddress, seq, atMs: Date.now(), adopted: true }),
    size: async () => waiting.length + pending.reduce((n, b) => n + b.records.length, 0),
    unassigned: () => waiting.length,
  };
}

/**
 * A QueryLedger for one provider that mines each batch as it is sent: it takes batch `seq` when it
 * follows the last, and refuses every batch with `refusal` once `open` is false.
 */
export class FakeLedgerChain {
  lastSeq = 0n;
  open = true;
  submits = 0;
  /** Transaction hash → whether it succeeded. */
  readonly transactions = new Map<string, boolean>();

  constructor(private readonly refusal = "QueryLedgerRemovalWindowClosed") {}

  /** A channel to this chain, as one node holding the provider's key has it. */
  channel(): LedgerChannel {
    return {
      lastSequence: async () => this.lastSeq,
      reset: () => undefined,
      submit: async (seq, _records, beforeSend) => {
        this.submits++;
        const hash = hexlify(randomBytes(32));
        await beforeSend(hash);
        if (!this.open) throw revertError(`record batch ${seq}`, this.refusal, [Wallet.createRandom().address, 1n, 2n]);
        const takes = seq === this.lastSeq + 1n;
        if (takes) this.lastSeq = seq;
        this.transactions.set(hash, takes);
        return { seq, hash, gasLimit: 1n };
      },
      confirm: async (batch) => {
        if (!this.transactions.get(batch.hash)) throw new RiskshareError("E_CHAIN_REVERTED", "the query batch transaction failed on chain", { seq: batch.seq });
        return { gasUsed: 1n };
      },
      succeeded: async (txHash) => this.transactions.get(txHash) === true,
    };
  }
}
