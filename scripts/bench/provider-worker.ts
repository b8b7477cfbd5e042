/**
 * One provider member of the fan-out suite, in a worker thread of its own (members.ts's
 * `startMember`, `fillStore`): its host, services, store v2 and outbox run on their own event loop,
 * as they would on their own machine, instead of sharing the querier's. The main thread passes
 * its key, its listed identifiers and the querier's address (the one peer it must admit); the
 * worker fills its store, publishes its snapshots and posts what the querier's chain view needs
 * (address, listen addresses, OPRF public key, snapshots), then serves until told to stop.
 *
 * With `api`, it also serves the node's local API with the list routes, on a ListService over the
 * same store and with the node's default import worker count, as node.ts wires them: a list
 * POSTed to `/v1/entries` is imported on the thread that answers the lookups, as in a running node.
 *
 * @example
 *   const provider = await startProviderWorker({ privateKey, seed, entries: 20_000, listed, admit: [querier.address] });
 *   chain.add(provider.address, provider.multiaddrs); …
 *   await provider.stop();
 */
import { multiaddr, type Multiaddr } from "@multiformats/multiaddr";
import { randomBytes } from "node:crypto";
import { monitorEventLoopDelay, PerformanceObserver } from "node:perf_hooks";
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import { Wallet } from "ethers";
import { ApiServer, type ApiListModules } from "../../node/api/index.ts";
import { CONFIG_DEFAULTS } from "../../node/config/index.ts";
import { silentLogger } from "../../node/logger.ts";
import { ListService } from "../../node/store/index.ts";
import { Prng } from "./data.ts";
import { BENCH_CATEGORY_IDS, BenchChain, fillStore, nowSec, startMember, type BenchMember, type ListedItem } from "./members.ts";

/** What the main thread gives a provider worker. */
export interface ProviderWorkerInit {
  /** The member's EVM key (0x-hex): its address and PeerId. */
  privateKey: string;
  /** Seeds its PRNG: its OPRF key and its synthetic entries. */
  seed: number;
  /** Entries its store holds in all, listed identifiers included. */
  entries: number;
  listed: ListedItem[];
  /** Addresses of the other members (the querier): Active in its view of the chain. */
  admit: string[];
  /** Also serve the node's local API with the list routes (POST /v1/entries), on 127.0.0.1. */
  api?: boolean;
}

/** One category's live count, as a contribution snapshot publishes it. */
export interface CategoryCount {
  categoryId: number;
  liveCount: number;
}

/** What a provider worker reports once it serves. */
interface ProviderReady {
  kind: "ready";
  address: string;
  multiaddrs: string[];
  publicKey: Uint8Array;
  snapshots: { categoryId: number; liveCount: number; filterHash: string; keyEpoch: number }[];
  /** The local API's base URL and admin token, with `api`. */
  api?: { url: string; token: string };
}

/**
 * Event-loop delay of a worker over a span (what a lookup arriving then waits before its handler
 * runs), and its garbage collections, which stop the loop meanwhile.
 */
export interface LoopDelay {
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  gcCount: number;
  gcTotalMs: number;
  gcMaxMs: number;
}

/** What the main thread asks a serving worker, and what it answers. */
type Call =
  | { kind: "setLiveCounts"; counts: CategoryCount[] }
  | { kind: "outboxRecords" }
  | { kind: "liveCounts" }
  | { kind: "loopDelay" }
  | { kind: "threadCpuMs" };
type Reply = { kind: "reply"; id: number; value?: unknown; error?: string };

/** A provider running in a worker thread, as the main thread sees it. */
export interface ProviderHandle {
  address: string;
  multiaddrs: Multiaddr[];
  publicKey: Uint8Array;
  snapshots: ProviderReady["snapshots"];
  /** The local API's base URL and admin token, when started with `api`. */
  api: ProviderReady["api"];
  /**
   * Re-publishes, in the worker's view of the chain, its snapshots with these live counts (same
   * filter hash and key epoch): the live count sets the bucket bits its lookup handler allows.
   */
  setLiveCounts(counts: CategoryCount[]): Promise<void>;
  /** Requests (Evaluates and Fetches) it has answered and recorded in its ledger outbox. */
  outboxRecords(): Promise<number>;
  /** Each category's live count in its store now (builds the base filters, as a publish does). */
  liveCounts(): Promise<CategoryCount[]>;
  /** How late its event loop ran timers, and its garbage collections, since the previous call (or since it served), in ms. */
  loopDelay(): Promise<LoopDelay>;
  /** CPU time its own thread (its event loop) has used since it started, in ms. */
  threadCpuMs(): Promise<number>;
  stop(): Promise<void>;
}

/** Starts a provider in a worker thread; resolves once its store is filled and it serves. */
export function startProviderWorker(init: ProviderWorkerInit): Promise<ProviderHandle> {
  const worker = new Worker(new URL(import.meta.url), { workerData: init });
  return new Promise((resolve, reject) => {
    const fail = (err: unknown) => {
      void worker.terminate();
      reject(err instanceof Error ? err : new Error(String(err)));
    };
    worker.once("error", fail);
    worker.once("exit", (code) => fail(new Error(`the provider worker exited (${code}) before it served`)));
    worker.once("message", (message: ProviderReady | { kind: "failed"; message: string }) => {
      if (message.kind === "failed") return fail(new Error(`provider worker: ${message.message}`));
      worker.removeAllListeners("exit");
      worker.removeAllListeners("error");
      const pending = new Map<number, { resolve: (value: unknown) => void; reject: (err: Error) => void }>();
      let nextId = 0;
      const failAll = (err: Error) => {
        for (const call of pending.values()) call.reject(err);
        pending.clear();
      };
      worker.on("message", (reply: Reply) => {
        const call = pending.get(reply.id);
        pending.delete(reply.id);
        if (reply.error !== undefined) call?.reject(new Error(`provider worker: ${reply.error}`));
        else call?.resolve(reply.value);
      });
      worker.on("error", failAll);
      worker.on("exit", (code) => failAll(new Error(`the provider worker exited (${code})`)));
      const call = <T>(request: Call): Promise<T> => new Promise<T>((resolveCall, rejectCall) => {
        const id = nextId++;
        pending.set(id, { resolve: resolveCall as (value: unknown) => void, reject: rejectCall });
        worker.postMessage({ id, ...request });
      });
      resolve({
        address: message.address,
        multiaddrs: message.multiaddrs.map((m) => multiaddr(m)),
        publicKey: message.publicKey,
        snapshots: message.snapshots,
        api: message.api,
        setLiveCounts: (counts) => call<void>({ kind: "setLiveCounts", counts }),
        outboxRecords: () => call<number>({ kind: "outboxRecords" }),
        liveCounts: () => call<CategoryCount[]>({ kind: "liveCounts" }),
        loopDelay: () => call<LoopDelay>({ kind: "loopDelay" }),
        threadCpuMs: () => call<number>({ kind: "threadCpuMs" }),
        stop: () => new Promise<void>((done) => {
          worker.once("exit", () => done());
          worker.postMessage("stop");
        }),
      });
    });
  });
}

/**
 * The node's local API over this member's store: the list routes on a ListService, with the
 * import worker count a node has by default (node.ts's listApi); the other routes are not used.
 */
async function startApi(member: BenchMember): Promise<{ url: string; token: string; stop: () => Promise<void> }> {
  const logger = silentLogger();
  const lists = new ListService({ store: member.store, evaluator: () => member.evaluator, region: CONFIG_DEFAULTS.identity.defaultRegion, logger });
  const unused = async (): Promise<never> => {
    throw new Error("not used by the benchmark");
  };
  const listApi: ApiListModules = {
    import: async (source, opts) => {
      const { resumedAfterLine, ...summary } = await lists.import(source, { ...opts, workers: CONFIG_DEFAULTS.lists.importWorkers });
      return { ...summary, errors: [...summary.errors], ...(resumedAfterLine === undefined ? {} : { resumedAfterLine }) };
    },
    importStatus: () => lists.importStatus(),
    check: unused, remove: unused, stats: unused, publish: unused,
    export: () => {
      throw new Error("not used by the benchmark");
    },
  };
  const token = randomBytes(24).toString("hex");
  const api = new ApiServer({ host: "127.0.0.1", port: 0, tokens: { admin: token }, version: "bench" }, { check: unused, health: unused, peers: unused, lists: listApi, logger });
  const port = await api.start();
  return { url: `http://127.0.0.1:${port}`, token, stop: () => api.stop() };
}

/** Sampling interval of the event-loop delay, in ms. */
const LOOP_DELAY_RESOLUTION_MS = 10;
/** The worker's event-loop delay and garbage collections since the last {@link LoopMonitor.take}. */
class LoopMonitor {
  readonly #delay = monitorEventLoopDelay({ resolution: LOOP_DELAY_RESOLUTION_MS });
  readonly #gc = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      this.#gcCount++;
      this.#gcTotalMs += entry.duration;
      this.#gcMaxMs = Math.max(this.#gcMaxMs, entry.duration);
    }
  });
  #gcCount = 0;
  #gcTotalMs = 0;
  #gcMaxMs = 0;

  constructor() {
    this.#delay.enable();
    this.#gc.observe({ entryTypes: ["gc"] });
  }

  /** What was seen since the last call; starts over. */
  take(): LoopDelay {
    // The histogram holds the intervals between samples: what exceeds the resolution is the delay.
    const ms = (ns: number) => Math.max(0, ns / 1e6 - LOOP_DELAY_RESOLUTION_MS);
    const delay = this.#delay;
    const taken: LoopDelay = {
      p50Ms: ms(delay.percentile(50)), p99Ms: ms(delay.percentile(99)), maxMs: ms(delay.max), gcCount: this.#gcCount, gcTotalMs: this.#gcTotalMs, gcMaxMs: this.#gcMaxMs,
    };
    delay.reset();
    this.#gcCount = 0;
    this.#gcTotalMs = 0;
    this.#gcMaxMs = 0;
    return taken;
  }

  stop(): void {
    this.#delay.disable();
    this.#gc.disconnect();
  }
}

/** CPU time the calling thread has used, in ms (user + system). */
export function threadCpuMs(): number {
  const { user, system } = process.threadCpuUsage();
  return (user + system) / 1000;
}

/** Answers one call of the main thread. */
async function answer(member: BenchMember, chain: BenchChain, loop: LoopMonitor, call: Call): Promise<unknown> {
  switch (call.kind) {
    case "setLiveCounts":
      for (const { categoryId, liveCount } of call.counts) {
        const snapshot = chain.snapshotOf(member.address, categoryId);
        if (snapshot === undefined) throw new Error(`no snapshot of category ${categoryId} to update`);
        chain.publishSnapshot(member.address, categoryId, { ...snapshot, liveCount });
      }
      return undefined;
    case "outboxRecords":
      return member.outboxRecords();
    case "liveCounts": {
      const counts: CategoryCount[] = [];
      for (const categoryId of BENCH_CATEGORY_IDS) counts.push({ categoryId, liveCount: (await member.store.snapshot(categoryId, nowSec())).liveCount });
      return counts;
    }
    case "loopDelay":
      return loop.take();
    case "threadCpuMs":
      return threadCpuMs();
  }
}

/** The worker's side: start, fill, publish, report, serve until "stop". */
async function serve(init: ProviderWorkerInit): Promise<void> {
  const rng = new Prng(init.seed);
  const chain = new BenchChain();
  for (const address of init.admit) chain.add(address, []);
  const member = await startMember(chain, new Wallet(init.privateKey), rng);
  let api: Awaited<ReturnType<typeof startApi>> | undefined;
  try {
    await fillStore(member, { synthetic: init.entries - init.listed.length, listed: init.listed }, rng);
    if (init.api) api = await startApi(member);
  } catch (err) {
    await member.stop();
    throw err;
  }
  const ready: ProviderReady = {
    kind: "ready",
    address: member.address,
    multiaddrs: member.host.getMultiaddrs().map((m) => m.toString()),
    publicKey: member.oprfKey.publicKey,
    snapshots: BENCH_CATEGORY_IDS.map((categoryId) => {
      const snapshot = chain.snapshotOf(member.address, categoryId)!;
      return { categoryId, ...snapshot };
    }),
    ...(api === undefined ? {} : { api: { url: api.url, token: api.token } }),
  };
  const loop = new LoopMonitor();
  parentPort!.on("message", (message: "stop" | (Call & { id: number })) => {
    if (message === "stop") {
      loop.stop();
      void (api?.stop() ?? Promise.resolve()).catch(() => undefined).then(() => member.stop()).finally(() => process.exit(0));
      return;
    }
    answer(member, chain, loop, message).then(
      (value) => parentPort!.postMessage({ kind: "reply", id: message.id, value } satisfies Reply),
      (err: unknown) => parentPort!.postMessage({ kind: "reply", id: message.id, error: err instanceof Error ? err.message : String(err) } satisfies Reply),
    );
  });
  parentPort!.postMessage(ready);
}

if (!isMainThread && parentPort !== null && (workerData as ProviderWorkerInit | undefined)?.privateKey !== undefined) {
  serve(workerData as ProviderWorkerInit).catch((err: unknown) => {
    parentPort!.postMessage({ kind: "failed", message: err instanceof Error ? err.message : String(err) });
  });
}
