/**
 * The compliance report per member: what each asked, what it was answered or refused, what it
 * served, and what it contributes, from the ledger's records and the registry's state. There are no
 * hits in it: hits stay with the querier and never reach the chain (DESIGN I-7).
 */
import { LookupKind } from "./eip712.ts";
import { QueryOutcome } from "./outcomes.ts";
import type { AuditRecord } from "./audit.ts";
import type { CategoryInfo, ContributionInfo, MemberInfo } from "./view.ts";

/** What the report reads of the registry (a {@link ConsortiumView} fits). */
export interface ReportConsortium {
  allMembers(): readonly Pick<MemberInfo, "address" | "name">[];
  categories(): readonly Pick<CategoryInfo, "id" | "name">[];
  contribution(member: string, categoryId: number): Pick<ContributionInfo, "liveCount"> | undefined;
}

/** One member's line of the report. */
export interface MemberReportRow {
  member: string;
  address: string;
  /** Queries this member sent (as the connected peer of records; a folded refusal record counts its `count`). */
  queriesMade: number;
  /** Of those, the ones a provider answered. */
  answered: number;
  /** Of those, the ones a provider refused (any denial outcome). */
  denied: number;
  /** Queries this member answered or refused as provider (folded refusals by their count). */
  served: number;
  /** Blinded elements providers evaluated for this member (answered Evaluate queries, padding included). */
  itemsEvaluated: number;
  /** Answered Fetch queries this member sent (real and cover fetches alike: the ledger cannot tell them apart). */
  fetches: number;
  /** Live entries this member published, per category name (0 when it published none). */
  contributions: Record<string, number>;
}

/**
 * What the report reads of a record. A row may also stand for a group of records of one querier,
 * provider, outcome and kind (an index's daily roll-up): `records` says how many (1 when absent),
 * `count` and `itemCount` are then their sums.
 */
export type ReportRecord = Pick<AuditRecord, "querier" | "provider" | "outcome" | "kind" | "itemCount" | "count"> & { records?: number };

/** The per-member report over `records` (already filtered by time, querier, provider or category as wanted). */
export function memberReport(records: readonly ReportRecord[], consortium: ReportConsortium): MemberReportRow[] {
  const total = (list: readonly { count: number }[]) => list.reduce((sum, r) => sum + r.count, 0);
  const howMany = (list: readonly ReportRecord[]) => list.reduce((sum, r) => sum + (r.records ?? 1), 0);
  const categories = consortium.categories();
  return consortium.allMembers().map((m) => {
    const made = records.filter((r) => r.querier === m.address);
    const answered = made.filter((r) => r.outcome === QueryOutcome.Answered);
    const served = records.filter((r) => r.provider === m.address);
    const itemsEvaluated = answered.reduce((sum, r) => (r.kind === LookupKind.Evaluate ? sum + r.itemCount : sum), 0);
    const fetches = howMany(answered.filter((r) => r.kind === LookupKind.Fetch));
    const contributions = Object.fromEntries(categories.map((c) => [c.name, Number(consortium.contribution(m.address, c.id)?.liveCount ?? 0n)]));
    return {
      member: m.name, address: m.address, queriesMade: total(made), answered: howMany(answered), denied: total(made) - howMany(answered),
      served: total(served), itemsEvaluated, fetches, contributions,
    };
  });
}

/** The rule that flags a querier's daily item count as a jump; the CLI's `--jump-factor` and `--jump-floor` map onto it. */
export interface ItemJumpRule {
  /** A day is a jump when its items exceed this many times the querier's trailing median. */
  factor: number;
  /** …and reach at least this many items (a small querier's noise is no jump). */
  floorItems: number;
  /** Days before the day whose median is the baseline. */
  trailingDays: number;
}

/** The defaults of {@link ItemJumpRule}. */
export const ITEM_JUMP_DEFAULTS: Readonly<ItemJumpRule> = { factor: 10, floorItems: 1_000, trailingDays: 7 };

/** One querier's day whose items jumped far above its own history. */
export interface ItemJump {
  member: string;
  querier: string;
  /** The UTC day, YYYY-MM-DD. */
  day: string;
  /** Items the querier asked that day. */
  items: number;
  /** The median of its daily items over the trailing days it has history for. */
  baselineMedian: number;
  /** How many trailing days the baseline covers (1 to `trailingDays`). */
  historyDays: number;
}

const DAY_SEC = 86_400;

/** Items a record stands for: its item count, times its `count` for a folded refusal record (1 for an answer). */
function itemsOf(record: Pick<AuditRecord, "itemCount" | "count">): number {
  return record.itemCount * Math.max(1, record.count);
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * The days on which a querier asked far more items than it usually does: per querier and UTC day,
 * the items asked (sum of item counts; a folded refusal record by item count × `count`), flagged
 * when above `factor` × the median of its `trailingDays` days before and at least `floorItems`.
 * The trailing days start no earlier than the querier's first day in `records` (days without
 * records after it count 0), so a querier's first day has no baseline and is never flagged: its
 * quota bounds it, and its later days are measured against it. Pure; ordered by day, then querier.
 */
export function itemJumps(
  records: readonly Pick<AuditRecord, "querier" | "timestamp" | "itemCount" | "count">[],
  consortium: Pick<ReportConsortium, "allMembers">,
  rule: ItemJumpRule = ITEM_JUMP_DEFAULTS,
): ItemJump[] {
  const perQuerier = new Map<string, Map<number, number>>();
  for (const r of records) {
    const days = perQuerier.get(r.querier) ?? new Map<number, number>();
    const day = Math.floor(r.timestamp / DAY_SEC);
    days.set(day, (days.get(day) ?? 0) + itemsOf(r));
    perQuerier.set(r.querier, days);
  }
  const names = new Map(consortium.allMembers().map((m) => [m.address, m.name]));
  const jumps: ItemJump[] = [];
  for (const [querier, days] of perQuerier) {
    const firstDay = Math.min(...days.keys());
    for (const [day, items] of days) {
      const trailing: number[] = [];
      for (let d = Math.max(firstDay, day - rule.trailingDays); d < day; d++) trailing.push(days.get(d) ?? 0);
      if (trailing.length === 0) continue;
      const baselineMedian = median(trailing);
      if (items >= rule.floorItems && items > rule.factor * baselineMedian) {
        jumps.push({
          member: names.get(querier) ?? querier, querier, day: new Date(day * DAY_SEC * 1000).toISOString().slice(0, 10), items, baselineMedian,
          historyDays: trailing.length,
        });
      }
    }
  }
  return jumps.sort((a, b) => a.day.localeCompare(b.day) || a.querier.localeCompare(b.querier));
}

/** One reporter's weekly feedback counts about one provider, as the ledger's FeedbackReported events give them. */
export interface FeedbackCounts {
  week: number;
  reporter: string;
  provider: string;
  confirmed: number;
  falsePositive: number;
  outdated: number;
}

/** A share with its 95 % Wilson score interval; null when nothing was counted. */
export interface Share {
  /** successes / trials. */
  value: number;
  low: number;
  high: number;
  trials: number;
}

/** One reporter's line: its confirm share against everyone else's. */
export interface ReporterFeedbackRow {
  member: string;
  address: string;
  confirmed: number;
  falsePositive: number;
  outdated: number;
  /** confirmed / (confirmed + falsePositive) over its reports, with its interval. */
  confirmShare: Share | null;
  /** The same share over every other reporter's reports. */
  othersConfirmShare: Share | null;
  /**
   * `low`: its interval lies wholly below the others' share (it confirms less than the consortium:
   * under-reporting, or a querier whose providers serve it badly); `high`: wholly above.
   */
  flag?: "low" | "high";
}

/** One provider's line: what reporters said about its entries, against what it served. */
export interface ProviderFeedbackRow {
  member: string;
  address: string;
  /** Blinded elements it evaluated (answered Evaluate records it served, padding included). */
  itemsServed: number;
  confirmed: number;
  falsePositive: number;
  outdated: number;
  /** falsePositive / (confirmed + falsePositive), with its interval. */
  falsePositiveShare: Share | null;
  /** Confirmed reports per 1,000 items it served (null before it served any). */
  confirmedPerThousandItems: number | null;
  /** Bonus credits paid to it and credits burned for false positives, when the caller gives them. */
  bonus?: number;
  burned?: number;
  /** Its false-positive share's interval lies wholly above the consortium's. */
  flag?: "high_false_positives";
}

/** The feedback part of `audit report`. */
export interface FeedbackReport {
  reporters: ReporterFeedbackRow[];
  providers: ProviderFeedbackRow[];
  /** The consortium's confirm share over every report. */
  consortiumConfirmShare: Share | null;
}

/** A share as "72.1 % [65.3–78.0] of 190" (value, 95 % interval, trials), or "–" without trials. */
export function formatShare(share: Share | null): string {
  const pct = (x: number) => (100 * x).toFixed(1);
  return share === null ? "–" : `${pct(share.value)} % [${pct(share.low)}–${pct(share.high)}] of ${share.trials}`;
}

/** z of a two-sided 95 % interval. */
const Z95 = 1.959963984540054;

/** The Wilson score interval of `successes` in `trials` (95 %); null for no trials. */
export function wilsonShare(successes: number, trials: number): Share | null {
  if (trials <= 0) return null;
  const p = successes / trials;
  const z2 = Z95 * Z95;
  const denominator = 1 + z2 / trials;
  const centre = (p + z2 / (2 * trials)) / denominator;
  const half = (Z95 * Math.sqrt((p * (1 - p)) / trials + z2 / (4 * trials * trials))) / denominator;
  // At 0 or all successes the bound is exactly 0 or 1 (rounding would leave 1e-17 off).
  return { value: p, low: successes === 0 ? 0 : Math.max(0, centre - half), high: successes === trials ? 1 : Math.min(1, centre + half), trials };
}

/**
 * Feedback per reporter and per provider, from the ledger's weekly counts (already filtered by time
 * as wanted) and the records of the same period (for what each provider served). A reporter's
 * confirm share is compared with all other reporters' (leave-one-out, so a big reporter is not
 * compared with itself); a provider's false-positive share with the consortium's. Pure; members in
 * the consortium's order, those with no feedback and nothing served left out.
 */
export function feedbackReport(
  counts: readonly FeedbackCounts[],
  records: readonly Pick<AuditRecord, "provider" | "outcome" | "kind" | "itemCount">[],
  consortium: Pick<ReportConsortium, "allMembers">,
  credits: { bonus?: ReadonlyMap<string, number>; burned?: ReadonlyMap<string, number> } = {},
): FeedbackReport {
  type Sum = { confirmed: number; falsePositive: number; outdated: number };
  const add = (map: Map<string, Sum>, key: string, c: FeedbackCounts): void => {
    const s = map.get(key) ?? { confirmed: 0, falsePositive: 0, outdated: 0 };
    map.set(key, { confirmed: s.confirmed + c.confirmed, falsePositive: s.falsePositive + c.falsePositive, outdated: s.outdated + c.outdated });
  };
  const byReporter = new Map<string, Sum>();
  const byProvider = new Map<string, Sum>();
  let confirmed = 0;
  let falsePositive = 0;
  for (const c of counts) {
    add(byReporter, c.reporter, c);
    add(byProvider, c.provider, c);
    confirmed += c.confirmed;
    falsePositive += c.falsePositive;
  }
  const served = new Map<string, number>();
  for (const r of records) {
    if (r.outcome === QueryOutcome.Answered && r.kind === LookupKind.Evaluate) served.set(r.provider, (served.get(r.provider) ?? 0) + r.itemCount);
  }
  const consortiumConfirmShare = wilsonShare(confirmed, confirmed + falsePositive);
  const consortiumFalsePositive = consortiumConfirmShare === null ? null : 1 - consortiumConfirmShare.value;
  const reporters: ReporterFeedbackRow[] = [];
  const providers: ProviderFeedbackRow[] = [];
  for (const m of consortium.allMembers()) {
    const r = byReporter.get(m.address);
    if (r !== undefined) {
      const own = wilsonShare(r.confirmed, r.confirmed + r.falsePositive);
      const othersConfirmed = confirmed - r.confirmed;
      const others = wilsonShare(othersConfirmed, othersConfirmed + falsePositive - r.falsePositive);
      const flag = own === null || others === null ? undefined : own.high < others.value ? "low" as const : own.low > others.value ? "high" as const : undefined;
      reporters.push({ member: m.name, address: m.address, ...r, confirmShare: own, othersConfirmShare: others, ...(flag === undefined ? {} : { flag }) });
    }
    const p = byProvider.get(m.address);
    const itemsServed = served.get(m.address) ?? 0;
    if (p !== undefined || itemsServed > 0) {
      const sum = p ?? { confirmed: 0, falsePositive: 0, outdated: 0 };
      const share = wilsonShare(sum.falsePositive, sum.confirmed + sum.falsePositive);
      const bonus = credits.bonus?.get(m.address);
      const burned = credits.burned?.get(m.address);
      providers.push({
        member: m.name, address: m.address, itemsServed, ...sum, falsePositiveShare: share,
        confirmedPerThousandItems: itemsServed === 0 ? null : (sum.confirmed * 1000) / itemsServed,
        ...(credits.bonus === undefined ? {} : { bonus: bonus ?? 0 }),
        ...(credits.burned === undefined ? {} : { burned: burned ?? 0 }),
        ...(share !== null && consortiumFalsePositive !== null && share.low > consortiumFalsePositive ? { flag: "high_false_positives" as const } : {}),
      });
    }
  }
  return { reporters, providers, consortiumConfirmShare };
}
