import { expect } from "chai";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ApiServer, type CheckRequest, type HealthResponse } from "../../node/api/index.ts";
import { silentLogger } from "../../node/logger.ts";

const TOKEN = "test-token-0123456789";
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const jsonOf = async (response: Response): Promise<any> => response.json();
const ADDRESS = "0x0000000000000000000000000000000000000001";

function health(status: HealthResponse["status"]): HealthResponse {
  return {
    status, reasons: status === "ok" ? [] : ["ledger backlog full"], address: ADDRESS, peerId: "16Uiu2",
    chain: { syncedBlock: 3, stale: false }, ledger: { backlog: 0, maxBacklog: 10, writer: { state: "writing" } }, peers: { connected: 0, activeMembers: 1 },
    keyEpoch: { answering: 1, onChain: 1 }, warninglists: {}, import: { inProgress: false },
  };
}

describe("local HTTP API", () => {
  let server: ApiServer;
  let base: string;
  let nodeHealth: HealthResponse["status"] = "ok";
  const received: CheckRequest[] = [];

  before(async () => {
    server = new ApiServer({ host: "127.0.0.1", port: 0, tokens: { admin: TOKEN }, version: "test", bodyLimitBytes: 64 * 1024 }, {
      logger: silentLogger(),
      check: async (request) => {
        received.push(request);
        return { verdict: "miss", items: request.items.map((item, index) => ({ index, type: item.type, verdict: "miss" as const, hits: [] })), providers: [] };
      },
      health: async () => health(nodeHealth),
      peers: async () => ({ peers: [] }),
    });
    base = `http://127.0.0.1:${await server.start()}`;
  });
  after(async () => {
    await server.stop();
  });

  const call = (path: string, init: RequestInit & { token?: string | null } = {}) =>
    fetch(`${base}${path}`, {
      ...init,
      headers: {
        "content-type": "application/json",
        ...(init.token === null ? {} : { authorization: `Bearer ${init.token ?? TOKEN}` }),
      },
    });

  it("refuses a call without the bearer token, or with a wrong one, with E_API_TOKEN", async () => {
    for (const token of [null, "wrong", `${TOKEN}x`]) {
      const response = await call("/v1/health", { token });
      expect(response.status, `token ${token}`).to.equal(401);
      expect((await jsonOf(response)).error.code, `token ${token}`).to.equal("E_API_TOKEN");
    }
  });

  it("serves its OpenAPI document without a token, describing every route", async () => {
    const response = await call("/v1/openapi.json", { token: null });
    expect(response.status).to.equal(200);
    const doc = await jsonOf(response);
    expect(doc.openapi).to.equal("3.1.0");
    expect(Object.keys(doc.paths)).to.include.members(["/v1/check", "/v1/health", "/v1/peers"]);
    expect(doc.paths["/v1/check"].post.requestBody.content["application/json"].schema.properties.items.maxItems).to.equal(1000);
  });

  it("hands a valid check to the node and returns its merged answer", async () => {
    const response = await call("/v1/check", { method: "POST", body: JSON.stringify({ items: [{ type: "phone", value: "13800138000" }] }) });
    expect(response.status).to.equal(200);
    expect((await jsonOf(response)).verdict).to.equal("miss");
    expect(received.at(-1)?.items).to.have.length(1);
  });

  it("rejects bad bodies with 400, E_API_BODY and the field at fault, never echoing the value", async () => {
    const cases: Array<[string, string]> = [
      ["{not json", "not valid JSON"],
      [JSON.stringify({}), "items"],
      [JSON.stringify({ items: [] }), "items"],
      [JSON.stringify({ items: [{ type: "phone" }] }), "items.0.value"],
      [JSON.stringify({ items: [{ type: "phone", value: "13800138000", extra: 1 }] }), "items.0"],
      [JSON.stringify({ items: [{ type: "phone", value: "x" }], providers: ["0x12"] }), "providers.0"],
      [JSON.stringify({ items: Array.from({ length: 1001 }, () => ({ type: "ip", value: "1.1.1.1" })) }), "items"],
    ];
    for (const [body, field] of cases) {
      const response = await call("/v1/check", { method: "POST", body });
      expect(response.status, body.slice(0, 60)).to.equal(400);
      const { error } = await jsonOf(response);
      expect(error.code, body.slice(0, 60)).to.equal("E_API_BODY");
      expect(error.message, body.slice(0, 60)).to.contain(field);
      expect(error.message, body.slice(0, 60)).to.not.contain("13800138000");
    }
  });

  it("rejects an oversized body with 413 before parsing it", async () => {
    const body = JSON.stringify({ items: [{ type: "device_id", value: "d".repeat(100_000) }] });
    const response = await call("/v1/check", { method: "POST", body });
    expect(response.status).to.equal(413);
    expect((await jsonOf(response)).error.code).to.equal("E_API_BODY");
  });

  it("answers health with 503 while the node refuses lookups", async () => {
    nodeHealth = "refusing";
    const refusing = await call("/v1/health");
    expect(refusing.status).to.equal(503);
    expect((await jsonOf(refusing)).reasons).to.deep.equal(["ledger backlog full"]);
    nodeHealth = "ok";
    expect((await call("/v1/health")).status).to.equal(200);
  });

  it("riskshare node status prints the running node's health, and exits 1 while the node refuses lookups", async () => {
    const { runCliCaptured } = await import("../../cli/index.ts");
    const dataDir = await mkdtemp(join(tmpdir(), "riskshare-status-"));
    try {
      await mkdir(join(dataDir, "keys"), { mode: 0o700 });
      await writeFile(join(dataDir, "keys", "api.token"), `${TOKEN}\n`, { mode: 0o600 });
      await writeFile(join(dataDir, "node.json"), JSON.stringify({ pid: process.pid, address: ADDRESS, peerId: "16Uiu2", multiaddrs: [], apiUrl: base, startedAt: new Date().toISOString() }));
      const ok = await runCliCaptured(["--data-dir", dataDir, "node", "status"]);
      expect(ok.status, ok.stderr).to.equal(0);
      expect(ok.stdout).to.contain(`node ${ADDRESS}: ok`).and.to.contain("writer     this node");
      nodeHealth = "refusing";
      const refusing = await runCliCaptured(["--data-dir", dataDir, "node", "status"]);
      expect(refusing.status).to.equal(1);
      expect(refusing.stdout).to.contain("REFUSING lookups").and.to.contain("! ledger backlog full");
      expect(refusing.stderr, "no second message").to.equal("");
      const asJson = await runCliCaptured(["--data-dir", dataDir, "--json", "node", "status"]);
      expect(asJson.status).to.equal(1);
      expect(asJson.json()).to.deep.equal(health("refusing"));
    } finally {
      nodeHealth = "ok";
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it("answers an unknown route with 404 and a code", async () => {
    const response = await call("/v1/nope");
    expect(response.status).to.equal(404);
    expect((await jsonOf(response)).error.code).to.equal("E_NOT_FOUND");
  });

  it("gives each scope's token what its scope allows (read ⊂ check ⊂ admin), answers E_API_SCOPE beyond it, and takes a rotated token without a restart", async () => {
    const tokens = { read: "read-token-000000000000", check: "check-token-00000000000", admin: "admin-token-00000000000" };
    const imports: { name: string; format: string; importId: string | undefined; sizeBytes: number | undefined; body: string }[] = [];
    const scoped = new ApiServer({ host: "127.0.0.1", port: 0, tokens: async () => ({ ...tokens }), tokenCacheMs: 0, version: "test" }, {
      logger: silentLogger(),
      check: async () => ({ verdict: "miss", items: [], providers: [] }),
      health: async () => health("ok"), peers: async () => ({ peers: [] }),
      lists: {
        import: async (source, opts) => {
          let body = "";
          for await (const chunk of source.stream) body += String(chunk);
          imports.push({ name: source.name, format: opts.format, importId: source.importId, sizeBytes: source.sizeBytes, body });
          return { importId: "i", source: source.name, format: opts.format, rows: 0, imported: 0, updated: 0, unchanged: 0, rejected: 0, errors: [], errorsTotal: 0, elapsedMs: 1, rowsPerSec: 0 };
        },
        importStatus: () => undefined,
        check: async () => ({ results: [] }), remove: async () => ({ removed: 0, results: [] }),
        stats: async () => ({ entries: 0, keyEpoch: 1, expiredAwaitingSweep: 0, perCategory: [] }),
        export: () => (async function* () { yield "type,tag\n"; })(), publish: async () => ({ published: [] }),
      },
    });
    const url = `http://127.0.0.1:${await scoped.start()}`;
    try {
      const status = async (token: string, method: string, path: string, body?: string, contentType = "application/json") =>
        (await fetch(`${url}${path}`, { method, headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { "content-type": contentType }) }, ...(body === undefined ? {} : { body }) })).status;
      const calls: Array<[string, string, string | undefined, string | undefined, "read" | "check" | "admin"]> = [
        ["GET", "/v1/health", undefined, undefined, "read"],
        ["GET", "/v1/entries/stats", undefined, undefined, "read"],
        ["GET", "/v1/imports", undefined, undefined, "read"],
        ["POST", "/v1/check", JSON.stringify({ items: [{ type: "phone", value: "13800138000" }] }), undefined, "check"],
        ["POST", "/v1/entries/check", JSON.stringify({ items: [{ type: "phone", value: "13800138000" }] }), undefined, "check"],
        ["POST", "/v1/entries", "type,value\n", "text/csv", "admin"],
        ["POST", "/v1/entries/remove", JSON.stringify({ items: [{ type: "phone", value: "13800138000" }], reason: "appeal_upheld" }), undefined, "admin"],
        ["GET", "/v1/entries/export", undefined, undefined, "admin"],
        ["POST", "/v1/publish", "{}", undefined, "admin"],
      ];
      const order = ["read", "check", "admin"] as const;
      for (const [method, path, body, contentType, needed] of calls) {
        for (const scope of order) {
          const expected = order.indexOf(scope) >= order.indexOf(needed) ? 200 : 403;
          expect(await status(tokens[scope], method, path, body, contentType), `${scope} token on ${method} ${path}`).to.equal(expected);
        }
      }
      const refused = await fetch(`${url}/v1/entries`, { method: "POST", headers: { authorization: `Bearer ${tokens.read}`, "content-type": "text/csv" }, body: "type,value\n" });
      expect((await jsonOf(refused)).error.code).to.equal("E_API_SCOPE");
      // The list is streamed to the import as sent, its format from the content type.
      const jsonl = '{"type":"phone","value":"13800138000","category":"fraud_confirmed","level":5,"reason":"R1","reported_at":"2025-01-01"}\n';
      const sent = await fetch(`${url}/v1/entries?name=feed.jsonl&importId=sha256-abc`, { method: "POST", headers: { authorization: `Bearer ${tokens.admin}`, "content-type": "application/x-ndjson" }, body: jsonl });
      expect(sent.status).to.equal(200);
      expect(imports.at(-1)).to.deep.equal({ name: "feed.jsonl", format: "jsonl", importId: "sha256-abc", sizeBytes: Buffer.byteLength(jsonl), body: jsonl });
      const old = tokens.admin;
      tokens.admin = "admin-token-rotated-000";
      expect(await status(old, "GET", "/v1/health"), "the old token, once rotated").to.equal(401);
      expect(await status(tokens.admin, "POST", "/v1/publish", "{}"), "the new one, at once").to.equal(200);
      tokens.read = "";
      expect(await status("", "GET", "/v1/health"), "an empty token file is no token").to.equal(401);
    } finally {
      await scoped.stop();
    }
  });

  it("refuses to bind anywhere but 127.0.0.1", () => {
    expect(() => new ApiServer({ host: "0.0.0.0", port: 0, tokens: { admin: TOKEN }, version: "x" }, {
      logger: silentLogger(), check: async () => ({ verdict: "miss", items: [], providers: [] }),
      health: async () => health("ok"), peers: async () => ({ peers: [] }),
    })).to.throw(/127\.0\.0\.1/);
  });
});
