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
