/**
 * The running node as the CLI finds it: the runtime file `riskshare node start` writes into the data
 * directory, and calls to its local HTTP API with the data directory's token of the scope a call needs.
 */
import { join } from "node:path";
import type { Readable } from "node:stream";
import { KeyStore, readFileIfExists, type ApiScope } from "../node/config/index.ts";
import { ERROR_HINTS, RiskshareError, type ErrorCode } from "../node/errors.ts";

/** The file a running node writes into its data dir so the CLI (and scripts) can find it. */
export const RUNTIME_FILE = "node.json";

/** What a running node publishes about itself. */
export interface NodeRuntime {
  pid: number;
  address: string;
  peerId: string;
  multiaddrs: string[];
  apiUrl: string;
  startedAt: string;
}

/** Reads the runtime file of a running node; E_NODE_NOT_READY when none runs. */
export async function readRuntime(dataDir: string): Promise<NodeRuntime> {
  const runtime = await runningNode(dataDir);
  if (runtime === undefined) throw new RiskshareError("E_NODE_NOT_READY", `no node is running for ${dataDir}; start it with \`riskshare node start\``);
  return runtime;
}

/**
 * The node running for this data dir, if any: its runtime file names a live process (a node killed
 * without cleaning up leaves its runtime file behind, naming a dead one).
 */
export async function runningNode(dataDir: string): Promise<NodeRuntime | undefined> {
  const content = await readFileIfExists(join(dataDir, RUNTIME_FILE));
  if (!content) return undefined;
  let runtime: NodeRuntime;
  try {
    runtime = JSON.parse(content.toString("utf8")) as NodeRuntime;
  } catch {
    return undefined; // a runtime file cut short by a crash: no node announced itself
  }
  if (!Number.isSafeInteger(runtime.pid) || typeof runtime.apiUrl !== "string") return undefined;
  try {
    process.kill(runtime.pid, 0);
    return runtime;
  } catch (err) {
    // EPERM: the process exists under another user (a node run as a service account).
    return (err as NodeJS.ErrnoException).code === "EPERM" ? runtime : undefined;
  }
}

/** One request to a running node's API. */
export interface NodeApiRequest {
  method: "GET" | "POST";
  /** The path under the API's URL, e.g. `/v1/check`. */
  path: string;
  /** A JSON body (POST). */
  body?: unknown;
  /** A streamed body (POST) and its content type, instead of a JSON one. */
  stream?: { body: Readable; contentType: string; length?: number };
  /** The token scope the call needs (default admin). */
  scope?: ApiScope;
  /** Ends the call after this long; undefined: no limit but `signal`. */
  timeoutMs: number | undefined;
  signal?: AbortSignal;
}

/** Calls the node's API as the data directory's operator (its bearer token); E_NODE_NOT_READY when the API does not answer. */
export async function callNodeApi(dataDir: string, runtime: NodeRuntime, request: NodeApiRequest): Promise<Response> {
  const token = await new KeyStore({ dataDir }).apiToken(request.scope ?? "admin");
  const signals = [request.signal, request.timeoutMs === undefined ? undefined : AbortSignal.timeout(request.timeoutMs)].filter((s) => s !== undefined);
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  let body: RequestInit["body"] | undefined;
  if (request.stream !== undefined) {
    headers["content-type"] = request.stream.contentType;
    if (request.stream.length !== undefined) headers["content-length"] = String(request.stream.length);
    body = request.stream.body as unknown as RequestInit["body"];
  } else if (request.body !== undefined) {
    headers["content-type"] = "application/json";
    body = JSON.stringify(request.body);
  }
  try {
    return await fetch(`${runtime.apiUrl}${request.path}`, {
      method: request.method, headers, ...(body === undefined ? {} : { body }),
      ...(request.stream === undefined ? {} : { duplex: "half" }),
      ...(signals.length === 0 ? {} : { signal: signals.length === 1 ? signals[0] : AbortSignal.any(signals) }),
    } as RequestInit);
  } catch (err) {
    if (request.signal?.aborted) throw new RiskshareError("E_ABORTED", "cancelled", {}, { cause: err });
    throw new RiskshareError("E_NODE_NOT_READY", `the node's API at ${runtime.apiUrl} does not answer (or stopped answering mid-call)`, {}, { cause: err });
  }
}

/** The body of an API answer; an API error reply becomes the same RiskshareError (code, message) the node raised. */
export async function apiResult<T>(response: Response, action: string): Promise<T> {
  const body = (await response.json().catch(() => undefined)) as { error?: { code?: string; message?: string } } | undefined;
  if (!response.ok) {
    const given = body?.error?.code;
    const code: ErrorCode = given !== undefined && Object.hasOwn(ERROR_HINTS, given) ? (given as ErrorCode) : "E_INTERNAL";
    throw new RiskshareError(code, `the node refused to ${action}: ${body?.error?.message ?? `HTTP ${response.status}`}`);
  }
  return body as T;
}
