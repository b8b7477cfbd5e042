/**
 * The running node as the CLI finds it: the runtime file `riskshare node start` writes into the data
 * directory, and calls to its local HTTP API with the data directory's token.
 */
import { join } from "node:path";
import { KeyStore, readFileIfExists } from "../node/config/index.ts";
import { RiskshareError } from "../node/errors.ts";

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
  const content = await readFileIfExists(join(dataDir, RUNTIME_FILE));
  if (!content) throw new RiskshareError("E_NODE_NOT_READY", `no node is running for ${dataDir}; start it with \`riskshare node start\``);
  return JSON.parse(content.toString("utf8")) as NodeRuntime;
}

/** One request to a running node's API. */
export interface NodeApiRequest {
  method: "GET" | "POST";
  /** The path under the API's URL, e.g. `/v1/check`. */
  path: string;
  /** A JSON body (POST). */
  body?: unknown;
  timeoutMs: number;
}

/** Calls the node's API as the data directory's operator (its bearer token); E_NODE_NOT_READY when the API does not answer. */
export async function callNodeApi(dataDir: string, runtime: NodeRuntime, request: NodeApiRequest): Promise<Response> {
  const token = await new KeyStore({ dataDir }).apiToken();
  try {
    return await fetch(`${runtime.apiUrl}${request.path}`, {
      method: request.method,
      headers: { authorization: `Bearer ${token}`, ...(request.body === undefined ? {} : { "content-type": "application/json" }) },
      ...(request.body === undefined ? {} : { body: JSON.stringify(request.body) }),
      signal: AbortSignal.timeout(request.timeoutMs),
    });
  } catch (err) {
    throw new RiskshareError("E_NODE_NOT_READY", `the node's API at ${runtime.apiUrl} does not answer`, {}, { cause: err });
  }
}
