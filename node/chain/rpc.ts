import { FetchRequest, makeError, type JsonRpcError, type JsonRpcPayload } from "ethers";

/** One JSON-RPC method call; what the ledger channel needs of a chain connection. */
export interface JsonRpcCaller {
  call(method: string, params: unknown[]): Promise<unknown>;
}

/** Options of {@link HttpJsonRpc}. */
export interface HttpJsonRpcOptions {
  /** The endpoint; credentials in it (https://user:pass@host) become a Basic Authorization header. */
  rpcUrl: string;
  timeoutMs: number;
}

/** Dependencies of {@link HttpJsonRpc}. */
export interface HttpJsonRpcModules {
  /** Turns a JSON-RPC error response into the ethers error a JsonRpcProvider would raise (JsonRpcProvider.getRpcError). */
  errors: { getRpcError(payload: JsonRpcPayload, error: JsonRpcError): Error };
}

/**
 * JSON-RPC over HTTP with Node's own fetch (keep-alive, native UTF-8 and JSON). The ledger sends
 * 64–128 KB transactions and reads receipts with hundreds of logs: ethers' FetchRequest encodes and
 * decodes bodies in JavaScript, which cost more than the chain's work. Errors come out as ethers
 * errors (the provider's own mapping of JSON-RPC errors; NETWORK_ERROR, TIMEOUT and SERVER_ERROR
 * otherwise), so translateChainError reads them like any other.
 */
export class HttpJsonRpc implements JsonRpcCaller {
  private readonly url: string;
  private readonly headers: Record<string, string>;
  private readonly timeoutMs: number;
  private readonly modules: HttpJsonRpcModules;
  private nextId = 1;

  constructor(opts: HttpJsonRpcOptions, modules: HttpJsonRpcModules) {
    const url = new URL(opts.rpcUrl);
    this.headers = { "content-type": "application/json" };
    if (url.username || url.password) {
      const credentials = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
      this.headers.authorization = `Basic ${Buffer.from(credentials, "utf8").toString("base64")}`;
      url.username = "";
      url.password = "";
    }
    this.url = url.toString();
    this.timeoutMs = opts.timeoutMs;
    this.modules = modules;
  }

  async call(method: string, params: unknown[]): Promise<unknown> {
    const payload: JsonRpcPayload = { method, params, id: this.nextId++, jsonrpc: "2.0" };
    let text: string;
    try {
      const response = await fetch(this.url, { method: "POST", headers: this.headers, body: JSON.stringify(payload), signal: AbortSignal.timeout(this.timeoutMs) });
      text = await response.text();
      if (!response.ok && !text.startsWith("{")) {
        throw makeError(`the chain RPC answered HTTP ${response.status}`, "SERVER_ERROR", { request: new FetchRequest(this.url), info: { method, status: response.status } });
      }
    } catch (err) {
      if ((err as { code?: unknown }).code === "SERVER_ERROR") throw err;
      if ((err as Error).name === "TimeoutError") {
        throw makeError(`the chain RPC did not answer ${method} within ${this.timeoutMs} ms`, "TIMEOUT", { operation: method, reason: "timeout" });
      }
      throw Object.assign(makeError(`the chain RPC could not be reached for ${method}`, "NETWORK_ERROR", { event: method }), { cause: err });
    }
    let body: { result?: unknown; error?: JsonRpcError["error"] };
    try {
      body = JSON.parse(text) as typeof body;
    } catch (err) {
      throw Object.assign(makeError(`the chain RPC answered ${method} with something that is not JSON`, "SERVER_ERROR", { request: new FetchRequest(this.url), info: { method } }), { cause: err });
    }
    if (body.error !== undefined) throw this.modules.errors.getRpcError(payload, { id: payload.id, error: body.error });
    return body.result;
  }
}
