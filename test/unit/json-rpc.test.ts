import { expect } from "chai";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { isError, JsonRpcProvider, Network } from "ethers";
import { HttpJsonRpc, translateChainError } from "../../node/chain/index.ts";
import { IQueryLedger__factory } from "../../types/ethers-contracts/index.ts";

/** A JSON-RPC endpoint on 127.0.0.1 whose answer each test sets. */
describe("HttpJsonRpc: JSON-RPC over Node's fetch, errors as ethers raises them", () => {
  let server: Server;
  let url: string;
  let answer: (body: { method: string; params: unknown[]; id: number }, req: IncomingMessage) => { status?: number; text: string } | "hang";
  const errors = new JsonRpcProvider("http://127.0.0.1:1", Network.from(31337n), { staticNetwork: true });

  before(async () => {
    server = createServer((req, res) => {
      let raw = "";
      req.on("data", (chunk: Buffer) => (raw += chunk.toString("utf8")));
      req.on("end", () => {
        const reply = answer(JSON.parse(raw) as never, req);
        if (reply === "hang") return;
        res.writeHead(reply.status ?? 200, { "content-type": "application/json" }).end(reply.text);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  after(async () => {
    errors.destroy();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it("returns the result, with a fresh id per call, and sends credentials in the URL as a Basic header", async () => {
    const seen: Array<{ id: number; auth: string | undefined; path: string | undefined }> = [];
    answer = (body, req) => {
      seen.push({ id: body.id, auth: req.headers.authorization, path: req.url });
      return { text: JSON.stringify({ jsonrpc: "2.0", id: body.id, result: { method: body.method, params: body.params } }) };
    };
    const rpc = new HttpJsonRpc({ rpcUrl: url.replace("http://", "http://ops:s%40cret@"), timeoutMs: 5_000 }, { errors });
    expect(await rpc.call("eth_chainId", [])).to.deep.equal({ method: "eth_chainId", params: [] });
    expect(await rpc.call("eth_getTransactionCount", ["0xabc", "pending"])).to.deep.equal({ method: "eth_getTransactionCount", params: ["0xabc", "pending"] });
    expect(seen.map((s) => s.id)).to.deep.equal([1, 2]);
    expect(seen[0]!.auth).to.equal(`Basic ${Buffer.from("ops:s@cret").toString("base64")}`);
  });

  it("raises a JSON-RPC error as the provider would: a stale nonce is NONCE_EXPIRED, revert data survives", async () => {
    const rpc = new HttpJsonRpc({ rpcUrl: url, timeoutMs: 5_000 }, { errors });
    answer = (body) => ({ text: JSON.stringify({ jsonrpc: "2.0", id: body.id, error: { code: -32000, message: "nonce too low: next nonce 7, tx nonce 5" } }) });
    const stale = await rpc.call("eth_sendRawTransaction", ["0x02"]).catch((e: unknown) => e);
    expect(isError(stale, "NONCE_EXPIRED"), String(stale)).to.equal(true);
    // QueryLedgerBadSequence(provider, expected 4, got 9), as a reverting call returns it.
    const data = IQueryLedger__factory.createInterface().encodeErrorResult("QueryLedgerBadSequence", ["0x" + "11".repeat(20), 4n, 9n]);
    answer = (body) => ({ text: JSON.stringify({ jsonrpc: "2.0", id: body.id, error: { code: 3, message: "execution reverted", data } }) });
    const reverted = await rpc.call("eth_call", [{}]).catch((e: unknown) => e);
    expect(isError(reverted, "CALL_EXCEPTION"), String(reverted)).to.equal(true);
    const translated = translateChainError(reverted, "record a batch");
    expect(translated.code).to.equal("E_CHAIN_REVERTED");
    expect(translated.message).to.contain("QueryLedgerBadSequence").and.contain("4, 9");
  });

  it("an endpoint that is down, too slow or not JSON-RPC becomes E_CHAIN_UNREACHABLE", async () => {
    const closed = new HttpJsonRpc({ rpcUrl: "http://127.0.0.1:1/", timeoutMs: 5_000 }, { errors });
    const refused = await closed.call("eth_chainId", []).catch((e: unknown) => e);
    expect(isError(refused, "NETWORK_ERROR"), String(refused)).to.equal(true);
    expect(translateChainError(refused, "read").code).to.equal("E_CHAIN_UNREACHABLE");

    answer = () => "hang";
    const slow = await new HttpJsonRpc({ rpcUrl: url, timeoutMs: 200 }, { errors }).call("eth_chainId", []).catch((e: unknown) => e);
    expect(isError(slow, "TIMEOUT"), String(slow)).to.equal(true);
    expect(translateChainError(slow, "read").code).to.equal("E_CHAIN_UNREACHABLE");

    answer = () => ({ status: 502, text: "<html>bad gateway</html>" });
    const proxy = await new HttpJsonRpc({ rpcUrl: url, timeoutMs: 5_000 }, { errors }).call("eth_chainId", []).catch((e: unknown) => e);
    expect(isError(proxy, "SERVER_ERROR"), String(proxy)).to.equal(true);
    expect(translateChainError(proxy, "read").code).to.equal("E_CHAIN_UNREACHABLE");
    expect(String((proxy as Error).message)).to.contain("502");
  });
});
