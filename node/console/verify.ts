/**
 * The console's ledger verification: what `audit verify` does (readLedger, then verifyLedger), run
 * in the background with progress — the chain is read in block ranges, each step reported — and
 * the failures counted by kind. It reads the chain itself, not the console's index: the index is a
 * local cache, the verification is of the chain.
 */
import { readLedger, verifyLedger, type AuditBatch, type AuditFailure, type AuditModules, type AuditRecord } from "../chain/index.ts";
import { isRiskshareError } from "../errors.ts";
import type { Logger } from "../logger.ts";

/** Where a verification is. */
export interface VerifyState {
  state: "idle" | "reading" | "checking" | "done" | "failed";
  startedAt?: number;
  finishedAt?: number;
  /** The last block the run reads (the head when it started). */
  headBlock?: number;
  /** Blocks read so far (0..headBlock + 1). */
  blocksRead?: number;
  records?: number;
  batches?: number;
  failures?: AuditFailure[];
  /** Failures per kind (forged_querier, duplicate_query_id, …). */
  byKind?: Record<string, number>;
  error?: { code: string; message: string };
}

/** Options of {@link LedgerVerifier}. */
export interface LedgerVerifierOptions {
  /** Blocks read per step (one progress report each). */
  chunkBlocks: number;
}

/** Runs one verification at a time; {@link status} says where it is. */
export class LedgerVerifier {
  private readonly opts: LedgerVerifierOptions;
  private readonly modules: { audit: AuditModules; logger: Logger };
  private current: VerifyState = { state: "idle" };

  constructor(opts: LedgerVerifierOptions, modules: { audit: AuditModules; logger: Logger }) {
    this.opts = opts;
    this.modules = modules;
  }

  /** Where the current (or last) run is. */
  status(): VerifyState {
    return this.current;
  }

  /** Starts a run unless one is under way; returns its state. */
  start(signal: AbortSignal): VerifyState {
    if (this.current.state === "reading" || this.current.state === "checking") return this.current;
    this.current = { state: "reading", startedAt: Date.now(), blocksRead: 0, records: 0, batches: 0 };
    void this.run(signal).catch((err: unknown) => {
      this.current = {
        ...this.current, state: "failed", finishedAt: Date.now(),
        error: isRiskshareError(err) ? { code: err.code, message: err.message } : { code: "E_INTERNAL", message: "the verification stopped unexpectedly" },
      };
      this.modules.logger.warn({ err }, "ledger verification failed");
    });
    return this.current;
  }

  private async run(signal: AbortSignal): Promise<void> {
    const { audit } = this.modules;
    const head = await audit.provider.getBlockNumber();
    this.current = { ...this.current, headBlock: head };
    const records: AuditRecord[] = [];
    const batches: AuditBatch[] = [];
    for (let from = 0; from <= head; from += this.opts.chunkBlocks) {
      signal.throwIfAborted();
      const to = Math.min(head, from + this.opts.chunkBlocks - 1);
      const part = await readLedger(audit, { fromBlock: from, toBlock: to });
      records.push(...part.records);
      batches.push(...part.batches);
      this.current = { ...this.current, blocksRead: to + 1, records: records.length, batches: batches.length };
    }
    this.current = { ...this.current, state: "checking" };
    const failures = await verifyLedger(audit, { records, batches });
    const byKind: Record<string, number> = {};
    for (const f of failures) byKind[f.kind] = (byKind[f.kind] ?? 0) + 1;
    this.current = { ...this.current, state: "done", finishedAt: Date.now(), failures, byKind };
  }
}
