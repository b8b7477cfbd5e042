// @ts-nocheck -- TODO(integrator): written against /riskshare/lookup/1 and /riskshare/pepper/1 (gone on the v2-p2p branch: PepperKeeper, pepper(), OwnEntries, hashed items, hitCount); rewire to lookup/2 + filter/1 and drop this line.
/**
 * Suite 4, fan-out: POST /v1/check end to end — HTTP (ApiServer), normalising and hashing
 * (CheckService), the node's own list, and a real LookupService fanning out over libp2p to 5
 * provider hosts in this process — p50/p99 of checks of 5 identifiers (one per common type).
 *
 * Baseline: the same check through the same API asking 1 provider. Also measured, as a second
 * figure: the 5 providers asked one after another instead of in parallel. All hosts share this
 * process's one event loop, so their CPU work cannot overlap here as it does across machines; the
 * README explains what the ratios mean.
 */
import { randomBytes } from "node:crypto";
import type { Multiaddr } from "@multiformats/multiaddr";
import { ApiServer, CheckService, type CheckResponse, type HashedItem, type ItemResult, type ProviderOutcome } from "../../node/api/index.ts";
import { createHmac } from "node:crypto";
import { DEFAULT_NORMALISE_OPTIONS, tryNormalise } from "../../node/identity/index.ts";
import { silentLogger } from "../../node/logger.ts";
import { systemClock, type LookupOutcome } from "../../node/p2p/index.ts";
import { BENCH_CATEGORIES, Prng, RowGenerator } from "./data.ts";
import { benchHit, benchWallet, MemoryMembership, startMember, stopMembers, type BenchMember } from "./members.ts";
import { result } from "./report.ts";
import { summarise } from "./stats.ts";
import type { Suite } from "./suite.ts";

const PROVIDERS = 5;
/** What a risk engine sends for one application: one identifier of each common type. */
const CHECK_TYPES = ["phone", "national_id", "bank_card", "email", "device_id"] as const;
const LISTED_SHARE = 0.1;
const TIMEOUT_MS_PER_PEER = 5_000;

type Mode = "parallel" | "single" | "sequential";

function checksFor(quick: boolean): number {
  return quick ? 200 : 1_000;
}

/** The outcome of one provider in the API's terms (what the node wires in node.ts). */
function toProviderOutcome(outcome: LookupOutcome): ProviderOutcome {
  return {
    address: outcome.providerAddress, name: outcome.providerAddress, status: outcome.status,
    ...(outcome.status === "answered" ? { results: outcome.results, queryId: outcome.queryId } : { code: outcome.code }),
  };
}

/** The fan-out suite. */
export const fanoutSuite: Suite = {
  name: "fanout",
  async run(ctx) {
    const rng = new Prng(ctx.seed ^ 0x666f);
    const rows = new RowGenerator(ctx.seed ^ 0x666f);
    // TODO(integrator): /riskshare/lookup/1 items are pepper hashes; identity's Hasher is gone, so the
    // benchmark hashes them itself (HMAC-SHA256) until the fan-out suite moves to lookup/2.
    const pepper = rng.bytes(32);
    const hasher = { hashHex: (type: string, value: string) => createHmac("sha256", pepper).update(`${type}\u0000`).update(value, "utf8").digest("hex") };
    const membership = new MemoryMembership();
    const members: BenchMember[] = [];
    let api: ApiServer | undefined;
    try {
      const querier = await startMember(membership, benchWallet(rng));
      members.push(querier);
      for (let i = 0; i < PROVIDERS; i++) members.push(await startMember(membership, benchWallet(rng)));
      const providers = members.slice(1);
      const where = new Map<string, Multiaddr[]>(providers.map((p) => [p.address, p.host.getMultiaddrs()]));
      const ownList = new Map<string, ItemResult>();

      const hashOf = (type: string, raw: string): HashedItem | undefined => {
        const normal = tryNormalise(type, raw, DEFAULT_NORMALISE_OPTIONS);
        return normal.ok ? { type, hash: `0x${hasher.hashHex(type, normal.value)}` } : undefined;
      };
      // The checks to send, with a share of their identifiers listed by one provider or by the node itself.
      const total = checksFor(ctx.quick) + 20;
      const checks = Array.from({ length: total }, (_, i) =>
        CHECK_TYPES.map((type) => {
          const value = rows.value(type, i);
          if (rng.next() < LISTED_SHARE) {
            const item = hashOf(type, value)!;
            const owner = rng.int(PROVIDERS + 1);
            const hit = benchHit(rng, 1 + rng.int(BENCH_CATEGORIES.size));
            if (owner === PROVIDERS) ownList.set(item.hash, hit);
            else providers[owner]!.list.byHash.set(item.hash, hit);
          }
          return { type, value };
        }),
      );

      let mode: Mode = "parallel";
      const check = new CheckService({
        hashItem: (type, raw) => {
          const item = hashOf(type, raw);
          return item ? { ok: true, item } : { ok: false, reason: "invalid" };
        },
        ownLookup: async (items, categoryIds) => items.map((item) => {
          const hit = ownList.get(item.hash);
          return hit?.hit && categoryIds.includes(hit.category) ? hit : { hit: false };
        }),
        fanOut: async (addresses, items, categoryIds, opts) => {
          const targets = addresses.map((address) => ({ peer: where.get(address)!, providerAddress: address }));
          if (mode === "sequential") {
            const outcomes: ProviderOutcome[] = [];
            for (const target of targets) {
              outcomes.push(toProviderOutcome(await querier.lookup.lookupPeer(target.peer, { providerAddress: target.providerAddress, items, categoryIds }, { timeoutMs: opts.timeoutMsPerPeer, signal: opts.signal })));
            }
            return outcomes;
          }
          return (await querier.lookup.fanOut(targets, { items, categoryIds }, opts)).map(toProviderOutcome);
        },
        activeCategories: () => BENCH_CATEGORIES,
        peerAddresses: () => providers.map((p) => p.address),
        assertReady: () => undefined,
        nowSec: () => systemClock.nowSec(),
        defaultTimeoutMsPerPeer: TIMEOUT_MS_PER_PEER,
      });
      const token = randomBytes(24).toString("hex");
      api = new ApiServer({ host: "127.0.0.1", port: 0, token, version: "bench" }, {
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
      const post = async (items: { type: string; value: string }[], providerCount: number): Promise<number> => {
        const body = JSON.stringify({ items, providers: providers.slice(0, providerCount).map((p) => p.address) });
        const started = performance.now();
        const response = await fetch(url, { method: "POST", headers, body, signal: AbortSignal.timeout(30_000) });
        const answer = (await response.json()) as CheckResponse;
        const elapsed = performance.now() - started;
        if (response.status !== 200) throw new Error(`POST /v1/check answered ${response.status}: ${JSON.stringify(answer)}`);
        const unanswered = answer.providers.filter((p) => p.status !== "answered");
        if (answer.providers.length !== providerCount || unanswered.length > 0) throw new Error(`providers did not all answer: ${JSON.stringify(unanswered)}`);
        if (answer.verdict === "hit" && mode === "parallel") hits++;
        return elapsed;
      };

      const samples: Record<Mode, number[]> = { parallel: [], single: [], sequential: [] };
      const runs: [Mode, number][] = [["parallel", PROVIDERS], ["single", 1], ["sequential", PROVIDERS]];
      for (let i = 0; i < total; i++) {
        // The three variants take turns, so each sees the same machine state.
        for (const [variant, providerCount] of runs) {
          mode = variant;
          const elapsed = await post(checks[i]!, providerCount);
          if (i >= 20) samples[variant].push(elapsed); // the first 20 warm up connections and JIT
        }
      }
      const parallel = summarise(samples.parallel);
      const single = summarise(samples.single);
      const sequential = summarise(samples.sequential);
      ctx.log(`fanout: ${samples.parallel.length} checks of ${CHECK_TYPES.length} identifiers per variant (${hits} with a hit); p50 ${parallel.p50.toFixed(1)} ms to ${PROVIDERS} in parallel, ${single.p50.toFixed(1)} ms to 1, ${sequential.p50.toFixed(1)} ms to ${PROVIDERS} one by one`);

      const singleIs = "same check via the API, 1 provider";
      const sequentialIs = `same check, ${PROVIDERS} providers in parallel`;
      return [
        result({ name: "fanout.p50_ms", value: parallel.p50, unit: "ms", baseline: single.p50, baselineIs: singleIs }),
        result({ name: "fanout.p99_ms", value: parallel.p99, unit: "ms", baseline: single.p99, baselineIs: singleIs }),
        result({ name: "fanout.sequential_p50_ms", value: sequential.p50, unit: "ms", baseline: parallel.p50, baselineIs: sequentialIs }),
        result({ name: "fanout.sequential_p99_ms", value: sequential.p99, unit: "ms", baseline: parallel.p99, baselineIs: sequentialIs }),
      ];
    } finally {
      await api?.stop().catch(() => undefined);
      await stopMembers(members);
    }
  },
};
