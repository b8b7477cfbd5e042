import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { createWriteStream } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { expect } from "chai";
import type { EntryKeyEvaluator } from "../../node/identity/index.ts";
import { silentLogger } from "../../node/logger.ts";
import { Store, exportEntries, importList, type ImportSummary } from "../../node/store/index.ts";
import { CSV_HEADER, FIXTURE_CATEGORIES, fixtureEvaluator, FIXTURE_BINDING, generateCsvLines } from "../fixtures/riskList.ts";

const PROJECT_ROOT = fileURLToPath(new URL("../..", import.meta.url));
const CHILD = fileURLToPath(new URL("../fixtures/importChild.ts", import.meta.url));
const NOW = 1_750_000_000;
const ROWS = 100_000;
const BATCH = 500;
const logger = silentLogger();
let evaluator: EntryKeyEvaluator;
before(async () => {
  evaluator = await fixtureEvaluator();
});
const GENERATE = { rows: ROWS, badEvery: 101, repeatEvery: 17, expiringEvery: 7 } as const;

describe("an import killed with SIGKILL mid-way", function () {
  let root: string;
  let csvPath: string;
  let child: ChildProcess | undefined;
  const stores: Store[] = [];

  async function openStore(name: string): Promise<Store> {
    const store = new Store({ location: join(root, name), categories: FIXTURE_CATEGORIES, binding: FIXTURE_BINDING }, { logger });
    await store.open();
    stores.push(store);
    return store;
  }

  function runImport(store: Store, path: string): Promise<ImportSummary> {
    return importList({ path }, { batchSize: BATCH, nowSec: NOW }, { store, evaluator, logger });
  }

  async function dump(store: Store): Promise<string> {
    let text = "";
    for await (const chunk of exportEntries(store, { format: "jsonl", includeExpired: true, nowSec: NOW })) text += chunk;
    return text;
  }

  /** Writes the header and the first `lines` data lines of the generated list. */
  async function writeList(path: string, lines = Number.POSITIVE_INFINITY): Promise<void> {
    const out = createWriteStream(path);
    out.write(`${CSV_HEADER}\n`);
    let written = 0;
    for (const line of generateCsvLines(GENERATE)) {
      if (written++ >= lines) break;
      if (!out.write(`${line}\n`)) await once(out, "drain");
    }
    out.end();
    await once(out, "finish");
  }

  before(async () => {
    root = await mkdtemp(join(tmpdir(), "riskshare-kill-"));
    csvPath = join(root, "list.csv");
    await writeList(csvPath);
  });

  after(async () => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    for (const store of stores) await store.close();
    await rm(root, { recursive: true, force: true });
  });

  it("leaves whole batches only, with counts equal to entries, and a rerun ends as a clean import would", async () => {
    // 1. Start the import in a child process; kill it as soon as it has committed a few batches.
    const storeDir = join(root, "killed");
    child = spawn(process.execPath, ["--import", "tsx", CHILD, storeDir, csvPath, String(BATCH), String(NOW)], {
      cwd: PROJECT_ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = once(child, "exit");
    let progressLines = 0;
    for await (const line of createInterface({ input: child.stdout! })) {
      const message = JSON.parse(line) as { rows?: number; done?: boolean };
      expect(message.done, "the import must still be running when killed").to.equal(undefined);
      if (++progressLines === 3) {
        child.kill("SIGKILL");
        break;
      }
    }
    const [code, signal] = await exited;
    expect(signal, `child exit code ${code}, stderr: ${stderr}`).to.equal("SIGKILL");

    // 2. Reopen: consistent, and holding exactly the rows up to the checkpoint.
    const killed = await openStore("killed");
    const report = await killed.verify();
    expect(report.problems).to.deep.equal([]);
    expect(killed.countPerCategory()).to.deep.equal(report.countsInEntries);

    const checkpoints = [];
    for await (const checkpoint of killed.importCheckpoints()) checkpoints.push(checkpoint);
    expect(checkpoints, "one checkpoint, committed with the batches").to.have.length(1);
    const checkpoint = checkpoints[0];
    expect(checkpoint!.done).to.equal(false);
    expect(checkpoint!.lastLine).to.be.at.least(3 * BATCH).and.below(ROWS + 1);
    const totalEntries = [...killed.countPerCategory().values()].reduce((a, b) => a + b, 0);
    expect(totalEntries, "entries = rows imported per the checkpoint").to.equal(checkpoint!.imported);

    const prefixPath = join(root, "prefix.csv");
    await writeList(prefixPath, checkpoint!.lastLine - 1); // lines 2..lastLine are data lines 1..lastLine-1
    const prefix = await openStore("prefix");
    await runImport(prefix, prefixPath);
    expect(await dump(killed), "the killed store holds exactly the committed lines").to.equal(await dump(prefix));

    // 3. Run the import again: it resumes after the checkpoint and ends where a clean import ends.
    const resumed = await runImport(killed, csvPath);
    expect(resumed.resumedAfterLine).to.equal(checkpoint!.lastLine);
    const clean = await openStore("clean");
    const cleanSummary = await runImport(clean, csvPath);
    const counts = (s: ImportSummary) => [s.rows, s.imported, s.updated, s.unchanged, s.rejected, s.errorsTotal];
    expect(counts(resumed)).to.deep.equal(counts(cleanSummary));
    expect(resumed.errors).to.deep.equal(cleanSummary.errors);
    expect((await killed.verify()).problems).to.deep.equal([]);
    expect(await dump(killed)).to.equal(await dump(clean));
  });
});
