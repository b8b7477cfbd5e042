/**
 * Stopping riskshare's worker threads. A worker is asked to finish what it is doing and close its
 * port (it then ends by itself, exit code 0); only one that has not ended after `graceMs` is
 * terminated. Terminating a thread that holds a WebAssembly instance (libsodium) has crashed and
 * hung Node.js processes (nodejs/node#47748 and related reports), so it is the last resort.
 */
import type { Worker } from "node:worker_threads";

/** The message that asks a riskshare worker to close its port and end. */
export const WORKER_CLOSE = { close: true } as const;

/** True when `message` is {@link WORKER_CLOSE}. */
export function isWorkerClose(message: unknown): message is typeof WORKER_CLOSE {
  return typeof message === "object" && message !== null && (message as { close?: unknown }).close === true;
}

/** How long a worker gets to end by itself before it is terminated. */
export const WORKER_GRACE_MS = 5_000;

/** Ends `worker`: asks it to close, waits for its exit, terminates it only after `graceMs`. */
export async function stopWorker(worker: Worker, graceMs = WORKER_GRACE_MS): Promise<void> {
  if (worker.threadId === -1) return; // already ended
  worker.ref();
  const exited = new Promise<void>((resolve) => worker.once("exit", () => resolve()));
  const timer = setTimeout(() => void worker.terminate(), graceMs);
  try {
    worker.postMessage(WORKER_CLOSE);
    await exited;
  } finally {
    clearTimeout(timer);
  }
}
