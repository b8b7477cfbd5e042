import { FetchRequest, JsonRpcProvider, Network, NonceManager, type TransactionRequest, type Wallet } from "ethers";
import { RiskshareError } from "../errors.ts";
import { redactUrl } from "../logger.ts";
import { HttpJsonRpc } from "./rpc.ts";

/** Options of {@link connectChain}. */
export interface ChainConnectionOptions {
  rpcUrl: string;
  rpcTimeoutMs: number;
  pollIntervalMs: number;
}

/** A provider bound to one chain id, plus that id. */
export interface ChainConnection {
  provider: JsonRpcProvider;
  chainId: bigint;
  /** The RPC URL with credentials removed: safe for logs and messages. */
  safeUrl: string;
  /** Plain JSON-RPC over Node's fetch, for the big payloads: ledger transactions and log reads. */
  rpc: HttpJsonRpc;
}

/**
 * A provider whose gas estimates carry a margin (a fifth, plus 10,000 gas). An estimate is the least
 * gas the call needs in the state it was estimated in; a member's second transaction in a row (a
 * snapshot after another, a vote after a proposal) may run a block later, where storage the first
 * wrote costs more to write again (its activity time, say), and would run out of gas — a revert
 * without a reason. Unused gas is refunded, so the margin costs nothing.
 */
export class MarginJsonRpcProvider extends JsonRpcProvider {
  override async estimateGas(tx: TransactionRequest): Promise<bigint> {
    const estimate = await super.estimateGas(tx);
    return estimate + estimate / 5n + 10_000n;
  }
}

/**
 * Connects to a JSON-RPC endpoint and pins its chain id. Plain JSON-RPC only (no client-specific
 * methods); calls are never batched (latency) and never cached (fresh nonces and state).
 */
export async function connectChain(opts: ChainConnectionOptions): Promise<ChainConnection> {
  const safeUrl = redactUrl(opts.rpcUrl);
  const request = new FetchRequest(opts.rpcUrl);
  request.timeout = opts.rpcTimeoutMs;
  let chainId: bigint;
  try {
    const probe = request.clone();
    probe.body = { jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] };
    const response = await probe.send();
    response.assertOk();
    const result = (response.bodyJson as { result?: unknown }).result;
    if (typeof result !== "string") throw new Error("eth_chainId returned no result");
    chainId = BigInt(result);
  } catch (err) {
    throw new RiskshareError("E_CHAIN_UNREACHABLE", `cannot reach the chain at ${safeUrl}`, { rpc: safeUrl }, { cause: err });
  }
  const network = Network.from(chainId);
  const provider = new MarginJsonRpcProvider(request, network, {
    staticNetwork: network,
    batchMaxCount: 1,
    cacheTimeout: -1,
    pollingInterval: opts.pollIntervalMs,
  });
  return { provider, chainId, safeUrl, rpc: new HttpJsonRpc({ rpcUrl: opts.rpcUrl, timeoutMs: opts.rpcTimeoutMs }, { errors: provider }) };
}

/** A signer for a member's wallet that assigns nonces locally, so concurrent sends never collide. */
export function connectSigner(wallet: Wallet, provider: JsonRpcProvider): NonceManager {
  return new NonceManager(wallet.connect(provider));
}
