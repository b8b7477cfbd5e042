/**
 * Which queued reports go now, and in what order: pure functions, table-tested.
 *
 * A provider's queued reports go together, in one batch, once at least `minBatch` are queued for it
 * or the oldest has waited `maxWaitDays`; the batch is shuffled (uniformly, crypto randomness), so
 * neither the time a report was made nor its place in the queue shows in what the provider receives.
 */
import { randomInt } from "node:crypto";
import type { OutgoingReport } from "./components.ts";
import { FEEDBACK_MAX_REPORTS } from "./constants.ts";

/** The reports due now, per provider (lower-case address), each batch shuffled and at most {@link FEEDBACK_MAX_REPORTS} long. */
export function dueFeedbackBatches(
  reports: readonly OutgoingReport[], nowMs: number, rule: { minBatch: number; maxWaitDays: number },
  draw: (maxExclusive: number) => number = randomInt,
): Map<string, OutgoingReport[][]> {
  const queued = new Map<string, OutgoingReport[]>();
  for (const report of reports) {
    if (report.sentAtMs !== undefined) continue;
    const provider = report.providerAddress.toLowerCase();
    queued.set(provider, [...(queued.get(provider) ?? []), report]);
  }
  const due = new Map<string, OutgoingReport[][]>();
  for (const [provider, list] of queued) {
    const oldestMs = Math.min(...list.map((r) => r.queuedAtMs));
    if (list.length < rule.minBatch && nowMs - oldestMs < rule.maxWaitDays * 86_400_000) continue;
    const mixed = shuffled(list, draw);
    const batches: OutgoingReport[][] = [];
    for (let at = 0; at < mixed.length; at += FEEDBACK_MAX_REPORTS) batches.push(mixed.slice(at, at + FEEDBACK_MAX_REPORTS));
    due.set(provider, batches);
  }
  return due;
}

/** A uniformly shuffled copy (Fisher–Yates with `draw(n)` uniform in [0, n)). */
export function shuffled<T>(items: readonly T[], draw: (maxExclusive: number) => number = randomInt): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = draw(i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}
