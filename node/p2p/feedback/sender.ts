/**
 * The querier side of `/riskshare/feedback/1`: every `checkEveryMinutes` it sends each provider its
 * due reports (batching.ts) in shuffled batches. A batch the provider acknowledged is marked sent,
 * once, with each report's outcome; one it did not acknowledge (unreachable, refused, timed out)
 * stays queued for the next round. Then, per provider, the accepted reports not yet counted go to
 * `recordCounts` as counts per kind (the chain's weekly counts) and are marked counted once it
 * succeeds: counts the chain refused now (the provider's ledger batch not landed yet) go next round.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { exchangeSignal } from "../../deadline.ts";
import { ERROR_HINTS, RiskshareError } from "../../errors.ts";
import type { Logger } from "../../logger.ts";
import { knownCode, toP2pError } from "../errors.ts";
import { decodeFrame, encodeFrame, frameStream, readFrameBytes, writeFrameBytes } from "../frames.ts";
import { dueFeedbackBatches } from "./batching.ts";
import type { FeedbackCounts, FeedbackSenderModules, OutgoingReport } from "./components.ts";
import { FEEDBACK_PROTOCOL } from "./constants.ts";
import { feedbackRequestFrame, feedbackResponseFrame, type FeedbackAnswerFrame, type FeedbackRequestFrame } from "./messages.ts";
import { FEEDBACK_SENDER_DEFAULTS, type FeedbackSenderOptions } from "./options.ts";

/** What one round did. */
export interface FeedbackRound {
  /** Batches acknowledged. */
  sent: number;
  /** Reports marked sent. */
  reports: number;
  /** Reports counted on chain. */
  counted: number;
  /** Batches that stay queued (with the code of why). */
  failed: Array<{ providerAddress: string; code: string }>;
}

/** Sends queued feedback reports in batches. */
export class FeedbackSender {
  private readonly opts: FeedbackSenderOptions;
  private readonly modules: FeedbackSenderModules;
  private readonly log: Logger;
  private readonly nowMs: () => number;
  private loop: Promise<void> | undefined;
  private abort: AbortController | undefined;
  /** One round at a time: a batch is never sent twice at once. */
  private round: Promise<FeedbackRound> | undefined;

  constructor(opts: Partial<FeedbackSenderOptions>, modules: FeedbackSenderModules) {
    this.opts = { ...FEEDBACK_SENDER_DEFAULTS, ...Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined)) };
    for (const name of ["dialer", "queue", "target", "logger"] as const) {
      if (modules[name] === undefined) throw new RiskshareError("E_INTERNAL", `the feedback sender needs the '${name}' module`, { module: name });
    }
    this.modules = modules;
    this.log = modules.logger.child({ module: "p2p.feedback-sender" });
    this.nowMs = modules.nowMs ?? Date.now;
  }

  /** Sends what is due every `checkEveryMinutes` until `stop()` or `signal`. */
  start(signal?: AbortSignal): void {
    if (this.loop) return;
    const abort = new AbortController();
    this.abort = abort;
    const loopSignal = signal ? AbortSignal.any([signal, abort.signal]) : abort.signal;
    this.loop = (async () => {
      while (!loopSignal.aborted) {
        await this.sendDue(loopSignal).catch((err) => this.log.warn({ err: (err as Error).message }, "feedback round failed"));
        await sleep(this.opts.checkEveryMinutes * 60_000, undefined, { signal: loopSignal }).catch(() => undefined);
      }
    })();
  }

  /** Stops the loop and waits for the round in flight. */
  async stop(): Promise<void> {
    this.abort?.abort(new RiskshareError("E_ABORTED", "feedback sender stopping"));
    await this.loop;
    this.loop = undefined;
  }

  /** One round now: every due batch (tests and the loop); waits for a round already running. */
  async sendDue(signal?: AbortSignal): Promise<FeedbackRound> {
    while (this.round !== undefined) await this.round.catch(() => undefined);
    const round = this.runRound(signal);
    this.round = round;
    try {
      return await round;
    } finally {
      this.round = undefined;
    }
  }

  private async runRound(signal: AbortSignal | undefined): Promise<FeedbackRound> {
    const result: FeedbackRound = { sent: 0, reports: 0, counted: 0, failed: [] };
    const due = dueFeedbackBatches(await this.modules.queue.reports(), this.nowMs(), this.opts);
    for (const batches of due.values()) {
      for (const batch of batches) {
        if (signal?.aborted) return result;
        const providerAddress = batch[0]!.providerAddress;
        try {
          const answer = await this.send(providerAddress, batch, signal);
          const outcomes = new Map(batch.map((report, i) => [report.reportId, answer.outcomes[i]!]));
          result.reports += await this.modules.queue.markSent(outcomes, this.nowMs());
          result.sent++;
          this.log.info({ providerAddress, reports: batch.length, accepted: answer.outcomes.filter((o) => o === "accepted").length }, "feedback batch acknowledged");
        } catch (err) {
          const code = err instanceof RiskshareError ? err.code : "E_INTERNAL";
          result.failed.push({ providerAddress, code });
          this.log.info({ providerAddress, reports: batch.length, code }, "feedback batch not acknowledged; it stays queued");
        }
      }
    }
    if (!signal?.aborted) result.counted = await this.countAccepted();
    return result;
  }

  /** Hands each provider's accepted, uncounted reports to `recordCounts` and marks them counted once it succeeds; how many were marked. */
  private async countAccepted(): Promise<number> {
    const record = this.modules.recordCounts;
    if (record === undefined) return 0;
    const uncounted = new Map<string, OutgoingReport[]>();
    for (const report of await this.modules.queue.reports()) {
      if (report.sentAtMs === undefined || report.outcome !== "accepted" || report.countedAtMs !== undefined) continue;
      const provider = report.providerAddress.toLowerCase();
      uncounted.set(provider, [...(uncounted.get(provider) ?? []), report]);
    }
    let counted = 0;
    for (const reports of uncounted.values()) {
      const counts = countsOf(reports[0]!.providerAddress, reports, reports.map(() => "accepted"));
      try {
        await record(counts);
      } catch (err) {
        this.log.warn({ providerAddress: counts.providerAddress, code: err instanceof RiskshareError ? err.code : "E_INTERNAL" }, "feedback counts not recorded on chain; tried again next round");
        continue;
      }
      counted += await this.modules.queue.markCounted(reports.map((r) => r.reportId), this.nowMs());
    }
    return counted;
  }

  /** One batch's exchange; the provider's acknowledgement (one outcome per report), or a RiskshareError. */
  private async send(providerAddress: string, batch: readonly OutgoingReport[], signal: AbortSignal | undefined): Promise<FeedbackAnswerFrame> {
    const peer = this.modules.target(providerAddress);
    if (peer === undefined) throw new RiskshareError("E_NOT_MEMBER", "the provider is not an Active member now");
    const request: FeedbackRequestFrame = {
      provider: providerAddress,
      reports: batch.map((r) => ({ category: r.categoryId, epoch: r.keyEpoch, tag: `0x${r.tag}`, version: r.version, kind: r.kind, mac: `0x${r.mac}` })),
    };
    const deadline = exchangeSignal(this.opts.timeoutMs, [signal]);
    try {
      const connection = await this.modules.dialer.dial(peer, { signal: deadline.signal });
      const stream = await connection.newStream(FEEDBACK_PROTOCOL, { signal: deadline.signal });
      let reply;
      try {
        const frames = frameStream(stream, this.opts.maxFrameBytes);
        await writeFrameBytes(frames, encodeFrame(request, feedbackRequestFrame, this.opts.maxFrameBytes), deadline.signal);
        reply = decodeFrame(await readFrameBytes(frames, deadline.signal), feedbackResponseFrame);
        await stream.close({ signal: deadline.signal });
      } catch (err) {
        stream.abort(err instanceof Error ? err : new Error(String(err)));
        throw err;
      }
      if (!reply.ok) throw new RiskshareError(knownCode(reply.error.code, ERROR_HINTS), reply.error.message);
      if (reply.outcomes.length !== batch.length) throw new RiskshareError("E_PROTOCOL", "the acknowledgement does not have one outcome per report");
      return reply;
    } catch (err) {
      throw toP2pError(err, deadline.signal);
    } finally {
      deadline.dispose();
    }
  }
}

/** The accepted reports of a batch, counted per kind. */
export function countsOf(providerAddress: string, batch: readonly OutgoingReport[], outcomes: readonly string[]): FeedbackCounts {
  const counts: FeedbackCounts = { providerAddress, confirmed: 0, falsePositive: 0, outdated: 0 };
  batch.forEach((report, i) => {
    if (outcomes[i] !== "accepted") return;
    if (report.kind === "confirmed") counts.confirmed++;
    else if (report.kind === "false_positive") counts.falsePositive++;
    else counts.outdated++;
  });
  return counts;
}
