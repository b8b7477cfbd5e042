import { getAddress, isAddress, type ContractRunner, type ContractTransactionResponse, type NonceManager } from "ethers";
import { z } from "zod";
import { KeyStore, loadConfig, type NodeConfig } from "../node/config/index.ts";
import {
  connectChain, connectContracts, connectSigner, ConsortiumView, readCompanions, translateChainError,
  type ChainConnection, type ConsortiumContracts, type ContractAddresses,
} from "../node/chain/index.ts";
import { RiskshareError, isRiskshareError } from "../node/errors.ts";
import { exists, configPath, CONFIG_DEFAULTS } from "../node/config/index.ts";
import type { CliContext } from "./context.ts";

/** Chain options many commands share: override the config's RPC URL and contract addresses. */
export interface ChainFlags {
  rpc?: string;
  registry?: string;
  contributions?: string;
  ledger?: string;
}

/** zod: the chain flags, for a command's option schema (`chainFlagsSchema.extend({ … })`). */
export const chainFlagsSchema = z.object({ rpc: z.string().optional(), registry: z.string().optional(), contributions: z.string().optional(), ledger: z.string().optional() });

/** An open chain session for a command. */
export interface ChainSession {
  connection: ChainConnection;
  contracts: ConsortiumContracts;
  config: NodeConfig | undefined;
  /** The data dir's member key as a signer; undefined when the command only reads. */
  signer: NonceManager | undefined;
  close(): void;
}

/**
 * Opens the chain for a command: config (when the data dir has one) and flags give the RPC URL and
 * contract addresses; `withSigner` loads the data dir's member key. Read-only commands (audit)
 * need only --rpc and --registry, no data dir: the registry names the other two contracts.
 */
export async function openChain(ctx: CliContext, flags: ChainFlags, withSigner: boolean): Promise<ChainSession> {
  const config = (await exists(configPath(ctx.dataDir))) ? await loadConfig(ctx.dataDir) : undefined;
  const rpcUrl = flags.rpc ?? config?.chain.rpcUrl;
  if (rpcUrl === undefined) throw new RiskshareError("E_USAGE", "no chain: pass --rpc URL or run in an initialised data directory");
  if (withSigner && !config) {
    throw new RiskshareError("E_CONFIG", `${ctx.dataDir} is not initialised; run \`riskshare init\` first (this command signs with the member key)`);
  }
  const registry = registryAddress(flags, config);
  const connection = await connectChain({
    rpcUrl,
    rpcTimeoutMs: config?.chain.rpcTimeoutMs ?? CONFIG_DEFAULTS.chain.rpcTimeoutMs,
    pollIntervalMs: config?.chain.pollIntervalMs ?? CONFIG_DEFAULTS.chain.pollIntervalMs,
  });
  try {
    const addresses = await resolveAddresses(registry, flags, config, connection.provider);
    const signer = withSigner ? connectSigner(await new KeyStore({ dataDir: ctx.dataDir, env: ctx.io.env }).nodeKey(), connection.provider) : undefined;
    const contracts = connectContracts(addresses, signer ?? connection.provider);
    return { connection, contracts, config, signer, close: () => connection.provider.destroy() };
  } catch (err) {
    connection.provider.destroy();
    throw err;
  }
}

/** Opens the chain, runs `work` with the session, and closes it whatever happens. */
export async function withSession<T>(ctx: CliContext, flags: ChainFlags, signer: boolean, work: (session: ChainSession) => Promise<T>): Promise<T> {
  const session = await openChain(ctx, flags, signer);
  try {
    return await work(session);
  } finally {
    session.close();
  }
}

/** Loads a consortium view once (no following) for commands that display registry state. */
export async function loadView(session: ChainSession, ctx: CliContext): Promise<ConsortiumView> {
  const view = new ConsortiumView({ pollIntervalMs: 1_000 }, { contracts: session.contracts, provider: session.connection.provider, logger: ctx.logger });
  await view.start();
  await view.stop();
  return view;
}

/** The registry's address: --registry, else the config's. */
function registryAddress(flags: ChainFlags, config: NodeConfig | undefined): string {
  const registry = flags.registry ?? config?.chain.contracts?.registry;
  if (registry === undefined) {
    throw new RiskshareError("E_CONTRACTS_MISSING", "the ConsortiumRegistry address is unknown: pass --registry, or run `riskshare deploy` in this data directory");
  }
  if (!isAddress(registry)) throw new RiskshareError("E_USAGE", `--registry must be a 0x-prefixed 20-byte address, not ${registry}`);
  return getAddress(registry);
}

/**
 * The three addresses: each companion from its flag, else from the config when the config is about
 * the same registry, else as the registry names it on chain.
 */
async function resolveAddresses(registry: string, flags: ChainFlags, config: NodeConfig | undefined, runner: ContractRunner): Promise<ContractAddresses> {
  const fromConfig = config?.chain.contracts;
  // A config describes one consortium: its companions are wrong for a --registry naming another.
  const configured = fromConfig !== undefined && isAddress(fromConfig.registry) && getAddress(fromConfig.registry) === registry ? fromConfig : undefined;
  const contributions = flags.contributions ?? configured?.contributions;
  const ledger = flags.ledger ?? configured?.ledger;
  if (contributions !== undefined && ledger !== undefined) return { registry, contributions, ledger };
  const named = await readCompanions(registry, runner).catch((err: unknown) => {
    if (!isRiskshareError(err, "E_CONTRACTS_MISSING")) throw err;
    throw new RiskshareError("E_CONTRACTS_MISSING", `${err.message}: check --registry, or pass --contributions and --ledger`, err.meta, { cause: err });
  });
  if (named === undefined) {
    throw new RiskshareError(
      "E_CONTRACTS_MISSING",
      `the registry at ${registry} names no ContributionRegistry and QueryLedger yet: pass --contributions and --ledger`,
      { registry },
    );
  }
  return { registry, contributions: contributions ?? named.contributions, ledger: ledger ?? named.ledger };
}

/** Adds the chain flags to a command. */
export function withChainFlags<T extends { option(flags: string, description: string): T }>(command: T): T {
  return command
    .option("--rpc <url>", "chain JSON-RPC URL (default: the data directory's config)")
    .option("--registry <address>", "ConsortiumRegistry address (default: config)")
    .option("--contributions <address>", "ContributionRegistry address (default: config, else as the registry names it)")
    .option("--ledger <address>", "QueryLedger address (default: config, else as the registry names it)");
}

/** Sends a transaction and waits for it, translating a revert into a sentence. */
export async function send(action: string, tx: () => Promise<ContractTransactionResponse>): Promise<{ txHash: string; blockNumber: number; logs: readonly { topics: readonly string[]; data: string }[] }> {
  try {
    const response = await tx();
    const receipt = await response.wait();
    if (!receipt) throw new RiskshareError("E_CHAIN_UNREACHABLE", `${action}: no receipt`);
    return { txHash: receipt.hash, blockNumber: receipt.blockNumber, logs: receipt.logs };
  } catch (err) {
    throw translateChainError(err, action);
  }
}
