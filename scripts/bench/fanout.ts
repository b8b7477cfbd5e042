/**
 * Suite 4, fan-out: POST /v1/check end to end — HTTP (ApiServer), normalising (CheckService), the
 * node's own list (its own OPRF keys, then its store), and a real LookupService doing private
 * lookups (`/riskshare/lookup/2`: blind, Evaluate, proof, filter test, Fetch after a filter hit)
 * over libp2p to 5 provider members, each with its own store v2, each in a worker thread of its
 * own (provider-worker.ts: its own event loop, as on its own machine; the six share this
 * machine's 2 cores), their filters taken by the querier's FilterSync beforehand — p50/p99 of
 * checks of 5 identifiers (one per common type).
 *
 * Baseline: the same check through the same API asking 1 provider. Also measured, as a second
 * figure: the 5 providers asked one after another instead of in parallel; and what a check costs
 * the machine: fanout.cpu_ms (CPU time of the whole process, every thread, while it runs),
 * fanout.querier_cpu_ms (the querier's thread's share; baseline: the providers' threads) and
 * fanout.cpu_floor_ms (cpu_ms ÷ the cores: the least a check can take here, however scheduled).
 */
import { randomBytes } from "node:crypto";
import { availableParallelism } from "node:os";
import type { Multiaddr } from "@multiformats/multiaddr";
import { ApiServer, CheckService, type CheckItem, type CheckResponse, type ItemResult, type ProviderOutcome } from "../../node/api/index.ts";
import { tryNormalise } from "../../node/identity/index.ts";
import { silentLogger } from "../../node/logger.ts";
import type { LookupOutcome, QueryItem } from "../../node/p2p/index.ts";
import { BENCH_CATEGORIES, Prng, RowGenerator } from "./data.ts";
import { QUERY_TYPES } from "./lookup.ts";
import { BENCH_CATEGORY_IDS, benchWallet, BenchChain, fillStore, nowSec, startMember, stopMembers, syncFilters, type BenchMember, type ListedItem } from "./members.ts";
import { startProviderWorker, threadCpuMs, type ProviderHandle } from "./provider-worker.ts";
import { result } from "./report.ts";
import { summarise } from "./stats.ts";
import type { Suite } from "./suite.ts";

const PROVIDERS = 5;
/** What a risk engine sends for one application: one identifier of each common type. */
const CHECK_TYPES = QUERY_TYPES;
const LISTED_SHARE = 0.1;
const TIMEOUT_MS_PER_PEER = 5_000;
const WARMUP_CHECKS = 20;
const TARGET_P99_MS = 40;

type Mode = "parallel" | "single" | "sequential";

function sizes(quick: boolean): { checks: number; entriesPerMember: number } {
  return quick ? { checks: 200, entriesPerMember: 20_000 } : { checks: 1_000, entriesPerMember: 200_000 };
}

/** The outcome of one provider in the API's terms (what the node wires in node.ts). */
function toProviderOutcome(outcome: LookupOutcome): ProviderOutcome {
  return {
    address: outcome.providerAddress, name: outcome.providerAddress, status: outcome.status,
    ...(outcome.status === "answered" ? { results: outcome.results, queryId: outcome.queryId } : { code: outcome.code }),
  };
}

/** The API's items back into the lookup's (see the header: `hash` carries the normalised value). */
const queryItems = (items: readonly CheckItem[]): QueryItem[] => items.map((item) => ({ type: item.type, value: item.value }));

/** The node's own list: its own entry keys of each identifier, then its store. */
async function ownLookup(member: BenchMember, items: CheckItem[], categoryIds: number[], now: number): Promise<ItemResult[]> {
  const keys = queryItems(items).map((item) => ({ type: item.type, entryId: member.evaluator.keysOf(item.type, item.value).entryId }));
  const found = await member.store.checkMany(keys, now);
  return found.map((answer): ItemResult => {
    if (!answer.hit || !categoryIds.includes(answer.entry.categoryId)) return { hit: false };
    const { entry } = answer;
    return {
      hit: true, category: entry.categoryId, level: entry.level, reason: entry.reason, reportedAt: entry.reportedAtSec,
      ...(entry.expiresAtSec === undefined ? {} : { expiresAt: entry.expiresAtSec }), ...(entry.ownRef === undefined ? {} : { providerRef: entry.ownRef }),
    };
  });
}

/** The fan-out suite. */
export const fanoutSuite: Suite = {
  name: "fanout",
  async run(ctx) {
    const size = sizes(ctx.quick);
    const rng = new Prng(ctx.seed ^ 0x666f);
    const rows = new RowGenerator(ctx.seed ^ 0x666f);
    const chain = new BenchChain();
    let querier: BenchMember | undefined;
    const providers: ProviderHandle[] = [];
    let api: ApiServer | undefined;
    try {
      querier = await startMember(chain, benchWallet(rng), rng);
      const q = querier;
      const providerKeys = Array.from({ length: PROVIDERS }, () => benchWallet(rng).privateKey);

      // The checks to send, with a share of their identifiers listed by one provider (index 1..5) or by the node itself (0).
      const total = size.checks + WARMUP_CHECKS;
      const listedBy = Array.from({ length: PROVIDERS + 1 }, (): ListedItem[] => []);
      const checks = Array.from({ length: total }, (_, i) =>
        CHECK_TYPES.map((type) => {
          const value = rows.value(type, i);
          if (rng.next() < LISTED_SHARE) {
            const normal = tryNormalise(type, value);
            if (!normal.ok) throw new Error(`the generator made an invalid ${type}`);
            listedBy[rng.int(PROVIDERS + 1)]!.push({ type, value: normal.value, categoryId: BENCH_CATEGORY_IDS[rng.int(BENCH_CATEGORY_IDS.length)]! });
          }
          return { type, value };
        }),
      );
      const filled = performance.now();
      await fillStore(q, { synthetic: size.entriesPerMember - listedBy[0]!.length, listed: listedBy[0]! }, rng);
      // The providers fill their stores in their own threads, side by side.
      const started = await Promise.allSettled(providerKeys.map((privateKey, i) => startProviderWorker({
        privateKey, seed: (ctx.seed ^ 0x7072) + i, entries: size.entriesPerMember, listed: listedBy[i + 1]!, admit: [q.address],
      })));
      for (const s of started) if (s.status === "fulfilled") providers.push(s.value);
      const failed = started.find((s) => s.status === "rejected");
      if (failed !== undefined) throw (failed as PromiseRejectedResult).reason;
      for (const p of providers) {
        chain.add(p.address, p.multiaddrs);
        chain.publishKey(p.address, 1, p.publicKey);
        for (const { categoryId, ...snapshot } of p.snapshots) chain.publishSnapshot(p.address, categoryId, snapshot);
      }
      const where = new Map<string, Multiaddr[]>(providers.map((p) => [p.address, p.multiaddrs]));
      await syncFilters(q);
      ctx.log(`fanout: ${PROVIDERS + 1} stores of ${size.entriesPerMember.toLocaleString("en-US")} entries filled and published, the querier took ${PROVIDERS * BENCH_CATEGORY_IDS.length} filters, in ${((performance.now() - filled) / 1000).toFixed(1)} s`);

      let mode: Mode = "parallel";
      const check = new CheckService({
        prepareItem: (type, raw) => {
          const normal = tryNormalise(type, raw);
          return normal.ok ? { ok: true, item: { type, value: normal.value } } : { ok: false, reason: normal.reason };
        },
        ownLookup: (items, categoryIds, now) => ownLookup(q, items, categoryIds, now),
        fanOut: async (addresses, items, categoryIds, opts) => {
          const targets = addresses.map((address) => ({ peer: where.get(address)!, providerAddress: address }));
          const query = { items: queryItems(items), categoryIds };
          if (mode === "sequential") {
            const outcomes: ProviderOutcome[] = [];
            for (const target of targets) {
              outcomes.push(toProviderOutcome(await q.lookup.lookupPeer(target.peer, { ...query, providerAddress: target.providerAddress }, { timeoutMs: opts.timeoutMsPerPeer, signal: opts.signal })));
            }
            return outcomes;
          }
          return (await q.lookup.fanOut(targets, query, opts)).map(toProviderOutcome);
        },
        activeCategories: () => BENCH_CATEGORIES,
        peerAddresses: () => providers.map((p) => p.address),
        assertReady: () => undefined,
        nowSec,
        defaultTimeoutMsPerPeer: TIMEOUT_MS_PER_PEER,
      });
      const token = randomBytes(24).toString("hex");
      api = new ApiServer({ host: "127.0.0.1", port: 0, tokens: { admin: token }, version: "bench" }, {
        check: (request, signal) => check.check(request, signal),
        health: async () => {
          throw new Error("not used by the benchmark");
        },
        peers: async () => {
          throw new Error("not used by the benchmark");
        },
        logger: silentLogger(),
      });
      const port = await api.start();
      const url = `http://127.0.0.1:${port}/v1/check`;
      const headers = { authorization: `Bearer ${token}`, "content-type": "application/json" };

      let hits = 0;
      // CPU time of the whole process (every thread: the querier, the API, the five providers) spent
      // while each check ran: what a check costs the machine, whatever core it ran on.
      const cpuMs: Record<Mode, number[]> = { parallel: [], single: [], sequential: [] };
      // Of that, the CPU of the querier's thread (API, CheckService, LookupService) and of the
      // providers' threads: which side of the exchange it goes to (the rest: LevelDB's and V8's helpers).
      const threadMs: Record<Mode, { querier: number; providers: number }[]> = { parallel: [], single: [], sequential: [] };
      const providersCpu = async () => (await Promise.all(providers.map((p) => p.threadCpuMs()))).reduce((a, b) => a + b, 0);
      const post = async (items: { type: string; value: string }[], providerCount: number): Promise<number> => {
        const body = JSON.stringify({ items, providers: providers.slice(0, providerCount).map((p) => p.address) });
        const providersBefore = await providersCpu();
        const querierBefore = threadCpuMs();
        const cpuBefore = process.cpuUsage();
        const started = performance.now();
        const response = await fetch(url, { method: "POST", headers, body, signal: AbortSignal.timeout(30_000) });
        const answer = (await response.json()) as CheckResponse;
        const elapsed = performance.now() - started;
        const cpu = process.cpuUsage(cpuBefore);
        cpuMs[mode].push((cpu.user + cpu.system) / 1000);
        threadMs[mode].push({ querier: threadCpuMs() - querierBefore, providers: (await providersCpu()) - providersBefore });
        if (response.status !== 200) throw new Error(`POST /v1/check answered ${response.status}: ${JSON.stringify(answer)}`);
        const unanswered = answer.providers.filter((p) => p.status !== "answered");
        if (answer.providers.length !== providerCount || unanswered.length > 0) throw new Error(`providers did not all answer: ${JSON.stringify(unanswered)}`);
        if (answer.verdict === "hit" && mode === "parallel") hits++;
        return elapsed;
      };

      const samples: Record<Mode, number[]> = { parallel: [], single: [], sequential: [] };
      const runs: [Mode, number][] = [["parallel", PROVIDERS], ["single", 1], ["sequential", PROVIDERS]];
      for (let i = 0; i < total; i++) {
        ctx.signal.throwIfAborted();
        // The three variants take turns, so each sees the same machine state.
        for (const [variant, providerCount] of runs) {
          mode = variant;
          const elapsed = await post(checks[i]!, providerCount);
          if (i >= WARMUP_CHECKS) samples[variant].push(elapsed); // the first ones warm up connections and JIT
          else {
            cpuMs[variant].pop();
            threadMs[variant].pop();
          }
        }
      }
      const meanCpu = (mode: Mode) => cpuMs[mode].reduce((a, b) => a + b, 0) / cpuMs[mode].length;
      const cores = availableParallelism();
      const meanThread = (mode: Mode, side: "querier" | "providers") => threadMs[mode].reduce((a, b) => a + b[side], 0) / threadMs[mode].length;
      const parallel = summarise(samples.parallel);
      const single = summarise(samples.single);
      const sequential = summarise(samples.sequential);
      ctx.log(`fanout: CPU per check, all hosts together: ${meanCpu("parallel").toFixed(1)} ms to ${PROVIDERS} providers, ${meanCpu("single").toFixed(1)} ms to 1 (of which the querier's thread ${meanThread("parallel", "querier").toFixed(1)} ms and the providers' threads ${meanThread("parallel", "providers").toFixed(1)} ms; to 1: ${meanThread("single", "querier").toFixed(1)} and ${meanThread("single", "providers").toFixed(1)}); on ${cores} cores no schedule answers a check to ${PROVIDERS} in less than ${(meanCpu("parallel") / cores).toFixed(1)} ms`);
      ctx.log(`fanout: ${samples.parallel.length} checks of ${CHECK_TYPES.length} identifiers per variant (${hits} with a hit); p50 ${parallel.p50.toFixed(1)} ms to ${PROVIDERS} in parallel, ${single.p50.toFixed(1)} ms to 1, ${sequential.p50.toFixed(1)} ms to ${PROVIDERS} one by one`);

      const singleIs = "same check via the API's CheckService, 1 provider";
      const sequentialIs = `same check, ${PROVIDERS} providers in parallel`;
      return [
        result({ name: "fanout.p50_ms", value: parallel.p50, unit: "ms", baseline: single.p50, baselineIs: singleIs }),
        result({ name: "fanout.p99_ms", value: parallel.p99, unit: "ms", baseline: single.p99, baselineIs: singleIs, target: { text: `≤ ${TARGET_P99_MS}`, met: (v) => v <= TARGET_P99_MS } }),
        result({
          name: "fanout.cpu_ms", value: meanCpu("parallel"), unit: "ms", baseline: meanCpu("single"),
          baselineIs: `CPU time per check of all ${PROVIDERS + 1} hosts (this process, every thread), mean; baseline: the same check to 1 provider`,
        }),
        result({
          name: "fanout.querier_cpu_ms", value: meanThread("parallel", "querier"), unit: "ms", baseline: meanThread("parallel", "providers"),
          baselineIs: `CPU time per check of the querier's thread (API, CheckService, LookupService), mean; baseline: the ${PROVIDERS} providers' threads together`,
        }),
        result({
          name: "fanout.cpu_floor_ms", value: meanCpu("parallel") / cores, unit: "ms", baseline: parallel.p50,
          baselineIs: `fanout.cpu_ms ÷ ${cores} cores: the least a check to ${PROVIDERS} can take here, however scheduled; baseline: fanout.p50_ms`,
        }),
        result({ name: "fanout.sequential_p50_ms", value: sequential.p50, unit: "ms", baseline: parallel.p50, baselineIs: sequentialIs }),
        result({ name: "fanout.sequential_p99_ms", value: sequential.p99, unit: "ms", baseline: parallel.p99, baselineIs: sequentialIs }),
      ];
    } finally {
      await api?.stop().catch(() => undefined);
      await stopMembers([querier]);
      await Promise.allSettled(providers.map((p) => p.stop()));
    }
  },
};
