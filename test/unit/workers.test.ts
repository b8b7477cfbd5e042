import { Worker } from "node:worker_threads";
import { expect } from "chai";
import { stopWorker, WORKER_CLOSE } from "../../node/workers.ts";

/** The exit code `worker` ends with. */
function exitCode(worker: Worker): Promise<number> {
  return new Promise((resolve) => worker.once("exit", resolve));
}

/** A worker that has loaded its module (and libsodium) and answered one message. */
async function ready(worker: Worker, message: unknown): Promise<Worker> {
  const answered = new Promise((resolve, reject) => {
    worker.once("message", resolve);
    worker.once("error", reject);
  });
  worker.postMessage(message);
  await answered;
  return worker;
}

describe("stopping worker threads: asked to close, terminated only as a last resort", function () {
  this.timeout(60_000);

  it("a worker that honours the close message ends by itself (exit code 0)", async () => {
    const worker = new Worker(`const { parentPort } = require("node:worker_threads"); parentPort.on("message", (m) => { if (m && m.close) parentPort.close(); });`, { eval: true });
    const code = exitCode(worker);
    await stopWorker(worker);
    expect(await code).to.equal(0);
    await stopWorker(worker); // an ended worker: nothing to do
  });

  it("a worker that ignores it is terminated after the grace period (exit code 1)", async () => {
    const worker = new Worker(`const { parentPort } = require("node:worker_threads"); parentPort.on("message", () => {});`, { eval: true });
    const code = exitCode(worker);
    const started = performance.now();
    await stopWorker(worker, 200);
    expect(await code).to.equal(1);
    expect(performance.now() - started).to.be.at.least(150);
  });

  it("the batch evaluation and import keys workers, with libsodium loaded, end by themselves on WORKER_CLOSE", async () => {
    const batch = await ready(new Worker(new URL("../../node/identity/oprf/batchWorker.ts", import.meta.url)), { id: 1, kind: "evaluate", secretKey: new Uint8Array(32), publicKey: new Uint8Array(32), elements: [new Uint8Array(32)] });
    const keys = await ready(
      new Worker(new URL("../../node/store/import/keysWorker.ts", import.meta.url), {
        workerData: { secretKey: Uint8Array.of(1, ...new Uint8Array(31)), context: { chainId: 31337n, providerAddress: `0x${"11".repeat(20)}`, keyEpoch: 1 } },
      }),
      { id: 1, types: ["phone"], values: ["+8613800138000"] },
    );
    for (const worker of [batch, keys]) {
      const code = exitCode(worker);
      worker.postMessage(WORKER_CLOSE);
      expect(await code).to.equal(0);
    }
  });
});
