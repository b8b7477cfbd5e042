/**
 * Suite console: the web console's pages on a year of ledger records. Fills a console index
 * (node/console LedgerIndex, node:sqlite) with 1,000,000 synthetic records (10 members, 4
 * categories, a year of blocks; 200,000 with --quick), then times each page's data — the overview,
 * a member, and ledger pages under every filter, first and deep pages — and reports
 * `console.page_ms` (p50 and p99 over those pages) with the index's size on disk.
 *
 * Baseline, same run, same file: the same ledger pages with SQLite told not to use the secondary
 * indexes (`NOT INDEXED`, a scan of the records table), which is what a page costs without them.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { getAddress } from "ethers";
import { AUDIT_COLUMNS, auditRowOf, outcomeName, QueryOutcome, type AuditRecord } from "../../node/chain/index.ts";
import { LedgerIndex, ledgerData, memberData, overviewData, type ConsoleConsortium, type IndexFilter } from "../../node/console/index.ts";
import { Prng } from "./data.ts";
import { result } from "./report.ts";
import { summarise } from "./stats.ts";
import type { Suite } from "./suite.ts";

const MEMBERS = 10;
const CATEGORIES = ["fraud_confirmed", "fraud_suspected", "mule_account", "sanctions"];
const YEAR_SEC = 365 * 86_400;
const PAGE_SIZE = 50;
const TARGET_MS = 1_000;

/** `count` records over a year in chain order: one block every 12 s, several records per block. */
function* syntheticRecords(count: number, members: readonly string[], rng: Prng, startSec: number): Generator<AuditRecord[]> {
  const perBlock = Math.max(1, Math.round(count / (YEAR_SEC / 12)));
  let block = 1;
  let batch: AuditRecord[] = [];
  for (let i = 0; i < count; i++) {
    if (i % perBlock === 0) block += 1;
    const querier = members[rng.int(members.length)]!;
    let provider = members[rng.int(members.length)]!;
    if (provider === querier) provider = members[(members.indexOf(querier) + 1) % members.length]!;
    const roll = rng.int(100);
    const outcome = roll < 85 ? QueryOutcome.Answered : roll < 93 ? QueryOutcome.DeniedQuota : roll < 98 ? QueryOutcome.DeniedReciprocity : QueryOutcome.DeniedExpired;
    const kind = rng.int(4) === 0 ? 1 : 0;
    batch.push({
      queryId: rng.hex(32), blockNumber: block, timestamp: startSec + block * 12, txHash: rng.hex(32), logIndex: i % perBlock, seq: BigInt(1 + (i >> 8)),
      querier, provider, categoryIds: [1 + rng.int(CATEGORIES.length)], kind, itemCount: kind === 1 ? 1 : 1 + rng.int(200), keyEpoch: outcome === 0 ? 1 : 0,
      outcome, outcomeName: outcomeName(outcome), count: 1, itemsCommitment: rng.hex(32), nonce: rng.hex(32), deadline: BigInt(startSec + block * 12 + 60),
      signature: "", answerDigest: rng.hex(32),
    });
    if (batch.length === 20_000) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}

/** The console suite. */
export const consoleSuite: Suite = {
  name: "console",
  async run(ctx) {
    const total = ctx.quick ? 200_000 : 1_000_000;
    const rng = new Prng(ctx.seed ^ 0x636f);
    const dir = await mkdtemp(join(tmpdir(), "riskshare-bench-console-"));
    const location = join(dir, "index.sqlite");
    const members = Array.from({ length: MEMBERS }, (_, i) => getAddress(`0x${(i + 1).toString(16).padStart(40, "0")}`));
    const consortium: ConsoleConsortium = {
      allMembers: () => members.map((address, i) => ({ address, name: `Bank ${i + 1}`, status: 2 })),
      categories: () => CATEGORIES.map((name, i) => ({ id: i + 1, name })),
      contribution: () => ({ liveCount: 1_000n }),
    };
    const index = new LedgerIndex({ location, chainId: 31337n, ledgerAddress: getAddress(`0x${"ab".repeat(20)}`), reorgMarginBlocks: 3, chunkBlocks: 10_000 });
    try {
      const startSec = Math.floor(Date.UTC(2026, 0, 1) / 1000);
      const filled = performance.now();
      let lastTime = startSec;
      let csvBytes = AUDIT_COLUMNS.join(",").length + 1;
      const categoryName = (id: number) => CATEGORIES[id - 1]!;
      for (const batch of syntheticRecords(total, members, rng, startSec)) {
        ctx.signal.throwIfAborted();
        index.transaction(() => index.insert(batch));
        for (const r of batch) csvBytes += auditRowOf(r, categoryName).join(",").length + 1;
        lastTime = batch.at(-1)!.timestamp;
      }
      index.transaction(() => index.rollUp(Math.floor(startSec / 86_400), Math.floor(lastTime / 86_400)));
      const fillSeconds = (performance.now() - filled) / 1000;
      const { sizeBytes } = index.status();
      ctx.log(`filled ${total.toLocaleString("en")} records in ${fillSeconds.toFixed(1)} s; index ${(sizeBytes / 2 ** 20).toFixed(0)} MiB`);

      const mid = startSec + YEAR_SEC / 2;
      const filters: IndexFilter[] = [
        {}, { querier: members[3]! }, { provider: members[5]! }, { categoryId: 2 }, { outcome: QueryOutcome.DeniedQuota },
        { fromTime: mid, toTime: mid + 7 * 86_400 }, { querier: members[1]!, provider: members[2]! },
        { querier: members[4]!, categoryId: 3, outcome: QueryOutcome.Answered, fromTime: startSec + 30 * 86_400, toTime: mid },
        { categoryId: 4, fromTime: mid, toTime: mid + 30 * 86_400 },
      ];
      const samples: number[] = [];
      const baseline: number[] = [];
      const time = (work: () => unknown, into: number[]) => {
        const t0 = performance.now();
        work();
        into.push(performance.now() - t0);
      };
      const label = (name: string, work: () => unknown) => () => { const t0 = performance.now(); work(); if (process.env.RISKSHARE_BENCH_VERBOSE) ctx.log(`${name}: ${(performance.now() - t0).toFixed(1)} ms`); };
      for (let round = 0; round < 3; round++) {
        for (const filter of filters) {
          for (const page of [1, 20, 400]) time(label(`ledger ${JSON.stringify(filter)} p${page}`, () => ledgerData(index, filter, page, PAGE_SIZE)), samples);
        }
        time(label("overview", () => overviewData(index, consortium)), samples);
        time(() => overviewData(index, consortium, { fromDay: Math.floor(mid / 86_400), toDay: Math.floor(mid / 86_400) + 30 }), samples);
        time(label("member", () => memberData(index, consortium, members[round]!)), samples);
      }
      // The baseline: the same ledger pages as scans of the records table.
      index.close();
      const db = new DatabaseSync(location, { readOnly: true });
      try {
        const ids = new Map(members.map((address) => [address, Number((db.prepare("SELECT id FROM members WHERE address = ?").get(address) as { id: number }).id)]));
        for (const filter of filters) {
          const where: string[] = [];
          const params: number[] = [];
          if (filter.fromTime !== undefined) { where.push("time >= ?"); params.push(filter.fromTime); }
          if (filter.toTime !== undefined) { where.push("time <= ?"); params.push(filter.toTime); }
          if (filter.querier !== undefined) { where.push("querier = ?"); params.push(ids.get(filter.querier)!); }
          if (filter.provider !== undefined) { where.push("provider = ?"); params.push(ids.get(filter.provider)!); }
          if (filter.outcome !== undefined) { where.push("outcome = ?"); params.push(filter.outcome); }
          if (filter.categoryId !== undefined) { where.push("(',' || categories || ',') LIKE ?"); }
          const all = [...params, ...(filter.categoryId === undefined ? [] : [`%,${filter.categoryId},%`])];
          const sql = where.length === 0 ? "1" : where.join(" AND ");
          for (const page of [1, 20, 400]) {
            time(() => {
              db.prepare(`SELECT count(*) FROM records NOT INDEXED WHERE ${sql}`).get(...all);
              db.prepare(`SELECT * FROM records NOT INDEXED WHERE ${sql} ORDER BY id DESC LIMIT ? OFFSET ?`).all(...all, PAGE_SIZE, (page - 1) * PAGE_SIZE);
            }, baseline);
          }
        }
      } finally {
        db.close();
      }
      const pages = summarise(samples);
      const scans = summarise(baseline);
      ctx.log(`pages: p50 ${pages.p50.toFixed(1)} ms, p99 ${pages.p99.toFixed(1)} ms over ${pages.count}; table scans: p50 ${scans.p50.toFixed(1)} ms, p99 ${scans.p99.toFixed(1)} ms`);
      const records = `${(total / 1e6).toLocaleString("en")}M records`;
      return [
        result({ name: "console.page_ms.p50", value: pages.p50, unit: "ms", baseline: scans.p50, baselineIs: `same pages, table scan (${records})`, target: { text: `< ${TARGET_MS}`, met: (v) => v < TARGET_MS } }),
        result({ name: "console.page_ms.p99", value: pages.p99, unit: "ms", baseline: scans.p99, baselineIs: `same pages, table scan (${records})`, target: { text: `< ${TARGET_MS}`, met: (v) => v < TARGET_MS } }),
        result({ name: "console.index_mib", value: sizeBytes / 2 ** 20, unit: "MiB", baseline: csvBytes / 2 ** 20, baselineIs: "the same records as `audit queries` CSV" }),
      ];
    } finally {
      index.close();
      await rm(dir, { recursive: true, force: true });
    }
  },
};
