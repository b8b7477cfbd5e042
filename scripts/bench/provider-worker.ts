/**
 * One provider member of the fan-out suite, in a worker thread of its own (members.ts's
 * `startMember`, `fillStore`): its host, services, store v2 and outbox run on their own event loop,
 * as they would on their own machine, instead of sharing the querier's. The main thread passes
 * its key, its listed identifiers and the querier's address (the one peer it must admit); the
 * worker fills its store, publishes its snapshots and posts what the querier's chain view needs
 * (address, listen addresses, OPRF public key, snapshots), then serves until told to stop.
 *
 * @example
 *   const provider = await startProviderWorker({ privateKey, seed, entries: 20_000, listed, admit: [querier.address] });
 *   chain.add(provider.address, provider.multiaddrs); …
 *   await provider.stop();
 */
import { multiaddr, type Multiaddr } from "@multiformats/multiaddr";
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import { Wallet } from "ethers";
import { Prng } from "./data.ts";
import { BENCH_CATEGORY_IDS, BenchChain, fillStore, startMember, type ListedItem } from "./members.ts";

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
}

/** What a provider worker reports once it serves. */
interface ProviderReady {
  kind: "ready";
  address: string;
  multiaddrs: string[];
  publicKey: Uint8Array;
  snapshots: { categoryId: number; liveCount: number; filterHash: string; keyEpoch: number }[];
}

/** A provider running in a worker thread, as the main thread sees it. */
export interface ProviderHandle {
  address: string;
  multiaddrs: Multiaddr[];
  publicKey: Uint8Array;
  snapshots: ProviderReady["snapshots"];
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
      resolve({
        address: message.address,
        multiaddrs: message.multiaddrs.map((m) => multiaddr(m)),
        publicKey: message.publicKey,
        snapshots: message.snapshots,
        stop: () => new Promise<void>((done) => {
          worker.once("exit", () => done());
          worker.postMessage("stop");
        }),
      });
    });
  });
}

/** The worker's side: start, fill, publish, report, serve until "stop". */
async function serve(init: ProviderWorkerInit): Promise<void> {
  const rng = new Prng(init.seed);
  const chain = new BenchChain();
  for (const address of init.admit) chain.add(address, []);
  const member = await startMember(chain, new Wallet(init.privateKey), rng);
  try {
    await fillStore(member, { synthetic: init.entries - init.listed.length, listed: init.listed }, rng);
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
  };
  parentPort!.on("message", (message) => {
    if (message === "stop") void member.stop().finally(() => process.exit(0));
  });
  parentPort!.postMessage(ready);
}

if (!isMainThread && parentPort !== null && (workerData as ProviderWorkerInit | undefined)?.privateKey !== undefined) {
  serve(workerData as ProviderWorkerInit).catch((err: unknown) => {
    parentPort!.postMessage({ kind: "failed", message: err instanceof Error ? err.message : String(err) });
  });
}
