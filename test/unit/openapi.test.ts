import { expect } from "chai";
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { ApiServer, type HealthResponse } from "../../node/api/index.ts";
import { RiskshareError } from "../../node/errors.ts";
import { silentLogger } from "../../node/logger.ts";

const TOKEN = "test-token-0123456789";
const CHECK_TOKEN = "check-token-0123456789";
const READ_TOKEN = "read-token-01234567890";
const ADDRESS = "0x0000000000000000000000000000000000000001";
const QUERY_ID = `0x${"ab".repeat(32)}`;
const METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Doc = any;
interface Operation { method: string; path: string; operationId: string; statuses: string[] }

function operationsOf(doc: Doc): Operation[] {
  return Object.entries(doc.paths as Record<string, Record<string, Doc>>).flatMap(([path, item]) =>
    METHODS.filter((method) => item[method] !== undefined).map((method) => ({
      method: method.toUpperCase(), path, operationId: item[method].operationId, statuses: Object.keys(item[method].responses).sort(),
    })));
}

interface LintProblem {
  ruleId: string;
  severity: string;
  message: string;
  location?: { pointer?: string }[];
}
interface LintReport {
  totals: { errors: number; warnings: number; ignored: number };
  problems: LintProblem[];
}

/** Where @redocly/cli's command-line entry is (the package has no JS API of its own: only its bin). */
async function redoclyBin(): Promise<string> {
  const packageJson = createRequire(import.meta.url).resolve("@redocly/cli/package.json");
  const { bin } = JSON.parse(await readFile(packageJson, "utf8")) as { bin: Record<string, string> };
  return join(dirname(packageJson), bin.redocly ?? "bin/cli.js");
}

/**
 * Runs `redocly lint` with the recommended ruleset on one file, on the Node that runs the tests,
 * offline: telemetry off (env and config) and no update check.
 */
async function lint(dir: string, file: string): Promise<{ code: number | null; report: LintReport; stderr: string }> {
  const config = join(dir, "redocly.yaml");
  await writeFile(config, "extends:\n  - recommended\ntelemetry: off\n");
  const child = spawn(process.execPath, [await redoclyBin(), "lint", file, "--config", config, "--format", "json"], {
    cwd: dir,
    env: { ...process.env, REDOCLY_TELEMETRY: "off", REDOCLY_SUPPRESS_UPDATE_NOTICE: "true", REDOCLY_SUPPRESS_NOTIFICATIONS: "true", NO_COLOR: "1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => { stdout += chunk.toString(); });
  child.stderr.on("data", (chunk: Buffer) => { stderr += chunk.toString(); });
  const timer = setTimeout(() => child.kill(), 30_000);
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", resolve);
  }).finally(() => clearTimeout(timer));
  let report: LintReport;
  try {
    report = JSON.parse(stdout) as LintReport;
  } catch {
    throw new Error(`redocly lint printed no JSON report (exit ${code}):\n${stdout}\n${stderr}`);
  }
  return { code, report, stderr };
}

describe("OpenAPI document of the local API", function () {
  this.timeout(60_000);
  let server: ApiServer;
  let base: string;
  let port: number;
  let dir: string;
  /** What the fake modules do: answer, fail inside (500), or refuse as a node that is not ready (503). */
  let fault: "none" | "internal" | "refuse" | "busy" = "none";
  const act = <T>(value: T): T => {
    if (fault === "internal") throw new Error("fake module failure");
    if (fault === "refuse") throw new RiskshareError("E_NODE_NOT_READY", "fake node not ready");
    if (fault === "busy") throw new RiskshareError("E_IMPORT_BUSY", "fake import running");
    return value;
  };
  const health = (): HealthResponse => ({
    status: fault === "refuse" ? "refusing" : "ok", reasons: [], address: ADDRESS, peerId: "16Uiu2",
    chain: { syncedBlock: 1, stale: false }, ledger: { backlog: 0, maxBacklog: 10, writer: { state: "writing" } }, peers: { connected: 0, activeMembers: 1 },
    keyEpoch: { answering: 1, onChain: 1 }, warninglists: {}, import: { inProgress: false },
  });

  before(async () => {
    server = new ApiServer({ host: "127.0.0.1", port: 0, tokens: { admin: TOKEN, check: CHECK_TOKEN, read: READ_TOKEN }, version: "0.1.0-test", bodyLimitBytes: 4096 }, {
      logger: silentLogger(),
      check: async () => act({ verdict: "miss", items: [], providers: [] }),
      health: async () => (fault === "internal" ? act(health()) : health()),
      peers: async () => act({ peers: [] }),
      journal: async (queryId) => act(queryId === QUERY_ID ? { queryId, items: [] } : undefined),
      answers: async () => act([]),
      hitChanges: async () => act([]),
      feedback: {
        report: async (hitId) => {
          if (hitId === "0".repeat(16)) throw new RiskshareError("E_FEEDBACK_UNKNOWN_HIT", "no such hit");
          if (hitId === "1".repeat(16)) throw new RiskshareError("E_FEEDBACK_DUPLICATE", "already reported");
          return act({ reportId: "ab".repeat(8), hitId, provider: ADDRESS, category: 1, kind: "confirmed" as const, status: "queued" as const, queuedAt: "2026-01-31T00:00:00.000Z" });
        },
        list: async () => act([]),
        received: async () => act([]),
      },
      lists: {
        import: async (source) => {
          for await (const _chunk of source.stream) { /* drained */ }
          return act({ importId: "i", source: source.name, format: "csv" as const, rows: 0, imported: 0, updated: 0, unchanged: 0, rejected: 0, errors: [], errorsTotal: 0, elapsedMs: 1, rowsPerSec: 0 });
        },
        importStatus: () => act(undefined),
        check: async (items) => act({ results: items.map(() => ({ hit: false })) }),
        remove: async (items) => act({ removed: 0, results: items.map(() => ({ removed: false })) }),
        stats: async () => act({ entries: 0, keyEpoch: 1, expiredAwaitingSweep: 0, perCategory: [] }),
        export: () => (async function* () {
          yield act("type,tag\n");
        })(),
        publish: async () => act({ published: [] }),
      },
    });
    port = await server.start();
    base = `http://127.0.0.1:${port}`;
    dir = await mkdtemp(join(tmpdir(), "riskshare-openapi-"));
  });
  after(async () => {
    await server?.stop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  const served = async (): Promise<Doc> => (await fetch(`${base}/v1/openapi.json`)).json();

  it("describes exactly the routes the server answers (fastify's HEAD twin of each GET aside)", async () => {
    const routes = server.registeredRoutes;
    const gets = new Set(routes.filter((r) => r.method === "GET").map((r) => r.url));
    const answered = routes
      .filter((r) => !(r.method === "HEAD" && gets.has(r.url)))
      .map((r) => `${r.method} ${r.url.replace(/:(\w+)/g, "{$1}")}`);
    const documented = operationsOf(await served()).map((op) => `${op.method} ${op.path}`);
    expect(documented.sort()).to.deep.equal(answered.sort());
  });

  it("names every operation with a unique camelCase operationId, and says where the node listens and under which license", async () => {
    const doc = await served();
    const ids = operationsOf(doc).map((op) => op.operationId);
    for (const id of ids) expect(id).to.match(/^[a-z][a-zA-Z0-9]*$/);
    expect(new Set(ids).size).to.equal(ids.length);
    expect(doc.info.license).to.deep.equal({ name: "Apache-2.0", identifier: "Apache-2.0" });
    expect(doc.servers).to.have.length(1);
    expect(doc.servers[0].url).to.equal("http://127.0.0.1:{port}");
    expect(doc.servers[0].variables.port.default).to.equal(String(port));
  });

  it("documents exactly the statuses each operation answers", async () => {
    const ops = new Map(operationsOf(await served()).map((op) => [op.operationId, op]));
    const bigBody = JSON.stringify({ items: [{ type: "device_id", value: "d".repeat(5000) }] });
    const goodBody = JSON.stringify({ items: [{ type: "phone", value: "13800138000" }] });
    const csv = "type,value,category,level,reason,reported_at\n";
    const idBody = JSON.stringify({ items: [{ type: "phone", value: "13800138000" }] });
    const removeBody = JSON.stringify({ items: [{ type: "phone", value: "13800138000" }], reason: "appeal_upheld" });
    const feedbackBody = (hitId: string) => JSON.stringify({ hitId, kind: "confirmed" });
    const probes: Array<{ op: string; status: number; path?: string; body?: string; contentType?: string; token?: null | "read" | "check"; fault?: typeof fault }> = [
      { op: "checkIdentifiers", status: 200, body: goodBody },
      { op: "checkIdentifiers", status: 403, body: goodBody, token: "read" },
      { op: "checkIdentifiers", status: 400, body: "{not json" },
      { op: "checkIdentifiers", status: 401, body: goodBody, token: null },
      { op: "checkIdentifiers", status: 413, body: bigBody },
      { op: "checkIdentifiers", status: 500, body: goodBody, fault: "internal" },
      { op: "checkIdentifiers", status: 503, body: goodBody, fault: "refuse" },
      { op: "getHealth", status: 200 },
      { op: "getHealth", status: 401, token: null },
      { op: "getHealth", status: 500, fault: "internal" },
      { op: "getHealth", status: 503, fault: "refuse" },
      { op: "listPeers", status: 200 },
      { op: "listPeers", status: 401, token: null },
      { op: "listPeers", status: 500, fault: "internal" },
      { op: "getQueryJournal", status: 200, path: `/v1/queries/${QUERY_ID}` },
      { op: "getQueryJournal", status: 400, path: "/v1/queries/0x12" },
      { op: "getQueryJournal", status: 401, path: `/v1/queries/${QUERY_ID}`, token: null },
      { op: "getQueryJournal", status: 404, path: `/v1/queries/0x${"cd".repeat(32)}` },
      { op: "getQueryJournal", status: 500, path: `/v1/queries/${QUERY_ID}`, fault: "internal" },
      { op: "listHeldAnswers", status: 200 },
      { op: "listHeldAnswers", status: 401, token: null },
      { op: "listHeldAnswers", status: 500, fault: "internal" },
      { op: "listHitChanges", status: 200, path: "/v1/hits/changes?since=2026-01-31T00:00:00Z", token: "read" },
      { op: "listHitChanges", status: 400, path: "/v1/hits/changes?since=yesterday" },
      { op: "listHitChanges", status: 401, token: null },
      { op: "listHitChanges", status: 500, fault: "internal" },
      { op: "reportFeedback", status: 200, body: feedbackBody("ab".repeat(8)), token: "check" },
      { op: "reportFeedback", status: 400, body: JSON.stringify({ hitId: "xyz", kind: "confirmed" }) },
      { op: "reportFeedback", status: 401, body: feedbackBody("ab".repeat(8)), token: null },
      { op: "reportFeedback", status: 403, body: feedbackBody("ab".repeat(8)), token: "read" },
      { op: "reportFeedback", status: 404, body: feedbackBody("0".repeat(16)) },
      { op: "reportFeedback", status: 409, body: feedbackBody("1".repeat(16)) },
      { op: "reportFeedback", status: 500, body: feedbackBody("ab".repeat(8)), fault: "internal" },
      { op: "listFeedbackReports", status: 200, token: "read" },
      { op: "listFeedbackReports", status: 401, token: null },
      { op: "listFeedbackReports", status: 500, fault: "internal" },
      { op: "listReceivedFeedback", status: 200, path: "/v1/feedback/received?since=1790000000", token: "read" },
      { op: "listReceivedFeedback", status: 400, path: "/v1/feedback/received?since=yesterday" },
      { op: "listReceivedFeedback", status: 401, token: null },
      { op: "listReceivedFeedback", status: 500, fault: "internal" },
      { op: "importEntries", status: 200, body: csv, contentType: "text/csv" },
      { op: "importEntries", status: 400, path: "/v1/entries?importId=bad%20id", body: csv, contentType: "text/csv" },
      { op: "importEntries", status: 401, body: csv, contentType: "text/csv", token: null },
      { op: "importEntries", status: 403, body: csv, contentType: "text/csv", token: "check" },
      { op: "importEntries", status: 409, body: csv, contentType: "text/csv", fault: "busy" },
      { op: "importEntries", status: 415, body: "<list/>", contentType: "application/xml" },
      { op: "importEntries", status: 500, body: csv, contentType: "text/csv", fault: "internal" },
      { op: "importEntries", status: 503, body: csv, contentType: "text/csv", fault: "refuse" },
      { op: "getImportProgress", status: 200, token: "read" },
      { op: "getImportProgress", status: 401, token: null },
      { op: "getImportProgress", status: 500, fault: "internal" },
      { op: "checkOwnEntries", status: 200, body: idBody, token: "check" },
      { op: "checkOwnEntries", status: 400, body: "{}" },
      { op: "checkOwnEntries", status: 401, body: idBody, token: null },
      { op: "checkOwnEntries", status: 403, body: idBody, token: "read" },
      { op: "checkOwnEntries", status: 500, body: idBody, fault: "internal" },
      { op: "checkOwnEntries", status: 503, body: idBody, fault: "refuse" },
      { op: "removeEntries", status: 200, body: removeBody },
      { op: "removeEntries", status: 400, body: idBody },
      { op: "removeEntries", status: 401, body: removeBody, token: null },
      { op: "removeEntries", status: 403, body: removeBody, token: "check" },
      { op: "removeEntries", status: 500, body: removeBody, fault: "internal" },
      { op: "removeEntries", status: 503, body: removeBody, fault: "refuse" },
      { op: "getListStats", status: 200, token: "read" },
      { op: "getListStats", status: 401, token: null },
      { op: "getListStats", status: 500, fault: "internal" },
      { op: "exportEntries", status: 200 },
      { op: "exportEntries", status: 400, path: "/v1/entries/export?format=xml" },
      { op: "exportEntries", status: 401, token: null },
      { op: "exportEntries", status: 403, token: "check" },
      { op: "exportEntries", status: 500, fault: "internal" },
      { op: "publishSnapshots", status: 200, body: "{}" },
      { op: "publishSnapshots", status: 400, body: JSON.stringify({ categories: [] }) },
      { op: "publishSnapshots", status: 401, body: "{}", token: null },
      { op: "publishSnapshots", status: 403, body: "{}", token: "check" },
      { op: "publishSnapshots", status: 500, body: "{}", fault: "internal" },
      { op: "publishSnapshots", status: 503, body: "{}", fault: "refuse" },
      { op: "getOpenApiDocument", status: 200, token: null },
      { op: "getOpenApiDocument", status: 401, path: "/v1/openapi.json?format=json", token: null },
    ];
    try {
      for (const probe of probes) {
        const op = ops.get(probe.op);
        expect(op, probe.op).to.not.equal(undefined);
        fault = probe.fault ?? "none";
        const response = await fetch(`${base}${probe.path ?? op!.path}`, {
          method: op!.method,
          headers: {
            ...(probe.body === undefined ? {} : { "content-type": probe.contentType ?? "application/json" }),
            ...(probe.token === null ? {} : { authorization: `Bearer ${probe.token === "read" ? READ_TOKEN : probe.token === "check" ? CHECK_TOKEN : TOKEN}` }),
          },
          ...(probe.body === undefined ? {} : { body: probe.body }),
        });
        const label = `${probe.op} ${probe.status}`;
        expect(response.status, label).to.equal(probe.status);
        const json = (probe.op === "exportEntries" && probe.status === 200 ? await response.text() : await response.json()) as Doc;
        if (probe.status >= 400 && !(probe.op === "getHealth" && probe.status === 503)) expect(json.error.code, label).to.be.a("string");
      }
    } finally {
      fault = "none";
    }
    for (const op of ops.values()) {
      const probed = [...new Set(probes.filter((p) => p.op === op.operationId).map((p) => String(p.status)))].sort();
      expect(op.statuses, op.operationId).to.deep.equal(probed);
    }
  });

  it("passes redocly lint with the recommended rules: no error, no warning", async () => {
    const response = await fetch(`${base}/v1/openapi.json`);
    expect(response.status).to.equal(200);
    const file = join(dir, "openapi.json");
    await writeFile(file, JSON.stringify(await response.json(), null, 2));
    const { code, report, stderr } = await lint(dir, file);
    const problems = report.problems.map((p) => `${p.severity} ${p.ruleId} at ${p.location?.[0]?.pointer ?? "?"}: ${p.message}`).join("\n");
    expect(report.totals, `redocly lint found:\n${problems}\n${stderr}`).to.deep.include({ errors: 0, warnings: 0, ignored: 0 });
    expect(code, stderr).to.equal(0);
  });
});
