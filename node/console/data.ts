/**
 * What each console page shows, computed from the ledger index and the registry's state through
 * the audit's own functions (memberReport, itemJumps): the HTML and CSV renderers only lay it out.
 */
import {
  feedbackReport, ITEM_JUMP_DEFAULTS, itemJumps, LookupKind, memberReport, memberStatusName, QueryOutcome,
  type FeedbackReport, type ItemJump, type MemberReportRow, type ReportConsortium,
} from "../chain/index.ts";
import type { CreditFlow, DailyRow, IndexedRecord, IndexFilter, LedgerIndex } from "./ledger-index.ts";

const DAY_SEC = 86_400;

/** What the pages read of the registry (a ConsortiumView fits). */
export interface ConsoleConsortium extends ReportConsortium {
  allMembers(): ReadonlyArray<{ address: string; name: string; status: number }>;
}

/** One day of the overview's chart: requests made, answered and refused, items evaluated (Σ over members). */
export interface DayTotals {
  day: string;
  made: number;
  answered: number;
  refused: number;
  itemsEvaluated: number;
}

/** A time range in whole UTC days (inclusive), as the overview and member pages filter. */
export interface DayRange {
  fromDay?: number;
  toDay?: number;
}

/** The overview's data. */
export interface OverviewData {
  members: Array<MemberReportRow & { status: string }>;
  categories: string[];
  days: DayTotals[];
  itemJumps: ItemJump[];
  /** Credits moved from querier to provider by the records landed in the range. */
  creditFlows: CreditFlow[];
  /** The feedback reported on chain in the range (audit report's, over the same days). */
  feedback: FeedbackReport;
}

/** The UTC day (YYYY-MM-DD) of day number `day`. */
export function dayText(day: number): string {
  return new Date(day * DAY_SEC * 1000).toISOString().slice(0, 10);
}

/** Per-day totals of roll-up rows. */
export function dayTotals(rows: readonly DailyRow[]): DayTotals[] {
  const byDay = new Map<number, DayTotals>();
  for (const r of rows) {
    const t = byDay.get(r.day) ?? { day: dayText(r.day), made: 0, answered: 0, refused: 0, itemsEvaluated: 0 };
    t.made += r.count;
    if (r.outcome === QueryOutcome.Answered) {
      t.answered += r.records;
      if (r.kind === LookupKind.Evaluate) t.itemsEvaluated += r.itemCount;
    } else {
      t.refused += r.count;
    }
    byDay.set(r.day, t);
  }
  return [...byDay.entries()].sort(([a], [b]) => a - b).map(([, t]) => t);
}

/**
 * The overview: per member what `audit report` prints (memberReport over the daily roll-up: a row
 * per group of records), the days' totals, the querier days itemJumps flags, the credit flows and
 * the feedback report (feedbackReport, as `audit report`).
 */
export function overviewData(index: LedgerIndex, consortium: ConsoleConsortium, range: DayRange = {}): OverviewData {
  const rows = index.daily(range);
  const members = memberReport(rows, consortium).map((row) => ({ ...row, status: memberStatusName(consortium.allMembers().find((m) => m.address === row.address)?.status ?? 0) }));
  // itemJumps counts a record's items × max(1, count): the roll-up's jumpItems is that sum for the day.
  const jumps = itemJumps(rows.map((r) => ({ querier: r.querier, timestamp: r.day * DAY_SEC, itemCount: r.jumpItems, count: 1 })), consortium, ITEM_JUMP_DEFAULTS);
  const times = { ...(range.fromDay === undefined ? {} : { fromTime: range.fromDay * DAY_SEC }), ...(range.toDay === undefined ? {} : { toTime: (range.toDay + 1) * DAY_SEC - 1 }) };
  const { counts, bonus, burned } = index.feedback(times);
  return {
    members, categories: consortium.categories().map((c) => c.name), days: dayTotals(rows), itemJumps: jumps,
    creditFlows: index.creditFlows(times), feedback: feedbackReport(counts, rows, consortium, { bonus, burned }),
  };
}

/** One member's history: its report row, and its days as querier and as provider. */
export interface MemberData {
  address: string;
  name: string;
  status: string;
  report: MemberReportRow | undefined;
  asQuerier: DayTotals[];
  asProvider: DayTotals[];
}

/** The member page's data. */
export function memberData(index: LedgerIndex, consortium: ConsoleConsortium, address: string, range: DayRange = {}): MemberData {
  const rows = index.daily({ ...range, member: address });
  const member = consortium.allMembers().find((m) => m.address === address);
  return {
    address, name: member?.name ?? address, status: memberStatusName(member?.status ?? 0),
    report: memberReport(rows, consortium).find((r) => r.address === address),
    asQuerier: dayTotals(rows.filter((r) => r.querier === address)),
    asProvider: dayTotals(rows.filter((r) => r.provider === address)),
  };
}

/** The ledger page's data: one page of records, newest first. */
export interface LedgerData {
  records: IndexedRecord[];
  total: number;
  page: number;
  pages: number;
  pageSize: number;
}

/** One page (1-based) of the records matching `filter`. */
export function ledgerData(index: LedgerIndex, filter: IndexFilter, page: number, pageSize: number): LedgerData {
  const { records, total } = index.page(filter, (page - 1) * pageSize, pageSize);
  return { records, total, page, pages: Math.max(1, Math.ceil(total / pageSize)), pageSize };
}
