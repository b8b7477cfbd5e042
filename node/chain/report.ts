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

/** The per-member report over `records` (already filtered by time, querier, provider or category as wanted). */
export function memberReport(records: readonly Pick<AuditRecord, "querier" | "provider" | "outcome" | "kind" | "itemCount" | "count">[], consortium: ReportConsortium): MemberReportRow[] {
  const total = (list: readonly { count: number }[]) => list.reduce((sum, r) => sum + r.count, 0);
  const categories = consortium.categories();
  return consortium.allMembers().map((m) => {
    const made = records.filter((r) => r.querier === m.address);
    const answered = made.filter((r) => r.outcome === QueryOutcome.Answered);
    const served = records.filter((r) => r.provider === m.address);
    const itemsEvaluated = answered.reduce((sum, r) => (r.kind === LookupKind.Evaluate ? sum + r.itemCount : sum), 0);
    const fetches = answered.filter((r) => r.kind === LookupKind.Fetch).length;
    const contributions = Object.fromEntries(categories.map((c) => [c.name, Number(consortium.contribution(m.address, c.id)?.liveCount ?? 0n)]));
    return {
      member: m.name, address: m.address, queriesMade: total(made), answered: answered.length, denied: total(made) - answered.length,
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
