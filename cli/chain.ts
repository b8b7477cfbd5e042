import type { NonceManager } from "ethers";
import { KeyStore, loadConfig, type NodeConfig } from "../node/config/index.ts";
import {
  connectChain, connectContracts, connectSigner, ConsortiumView,
  type ChainConnection, type ConsortiumContracts, type ContractAddresses,
} from "../node/chain/index.ts";
import { RiskshareError } from "../node/errors.ts";
import { exists, configPath, CONFIG_DEFAULTS } from "../node/config/index.ts";
import type { CliContext } from "./context.ts";

/** Chain options many commands share: override the config's RPC URL and contract addresses. */
export interface ChainFlags {
  rpc?: string;
  registry?: string;
  contributions?: string;
  ledger?: string;
}

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
 * need only --rpc and the contract addresses, no data dir.
 */
export async function openChain(ctx: CliContext, flags: ChainFlags, withSigner: boolean): Promise<ChainSession> {
  const config = (await exists(configPath(ctx.dataDir))) ? await loadConfig(ctx.dataDir) : undefined;
  const rpcUrl = flags.rpc ?? config?.chain.rpcUrl;
  if (rpcUrl === undefined) throw new RiskshareError("E_USAGE", "no chain: pass --rpc URL or run in an initialised data directory");
  const addresses = resolveAddresses(flags, config);
  const connection = await connectChain({
    rpcUrl,
    rpcTimeoutMs: config?.chain.rpcTimeoutMs ?? CONFIG_DEFAULTS.chain.rpcTimeoutMs,
    pollIntervalMs: config?.chain.pollIntervalMs ?? CONFIG_DEFAULTS.chain.pollIntervalMs,
  });
  let signer: NonceManager | undefined;
  if (withSigner) {
    if (!config) throw new RiskshareError("E_CONFIG", `${ctx.dataDir} is not initialised; run \`riskshare init\` first (this command signs with the member key)`);
    signer = connectSigner(await new KeyStore({ dataDir: ctx.dataDir }).nodeKey(), connection.provider);
  }
  const contracts = connectContracts(addresses, signer ?? connection.provider);
  return { connection, contracts, config, signer, close: () => connection.provider.destroy() };
}

/** Loads a consortium view once (no following) for commands that display registry state. */
export async function loadView(session: ChainSession, ctx: CliContext): Promise<ConsortiumView> {
  const view = new ConsortiumView({ pollIntervalMs: 1_000 }, { contracts: session.contracts, provider: session.connection.provider, logger: ctx.logger });
  await view.start();
  await view.stop();
  return view;
}

function resolveAddresses(flags: ChainFlags, config: NodeConfig | undefined): ContractAddresses {
  const fromConfig = config?.chain.contracts;
  const registry = flags.registry ?? fromConfig?.registry;
  const contributions = flags.contributions ?? fromConfig?.contributions;
  const ledger = flags.ledger ?? fromConfig?.ledger;
  if (registry === undefined || contributions === undefined || ledger === undefined) {
    throw new RiskshareError("E_CONTRACTS_MISSING", "contract addresses unknown: run `riskshare deploy`, or pass --registry, --contributions and --ledger");
  }
  return { registry, contributions, ledger };
}

/** Adds the chain flags to a command. */
export function withChainFlags<T extends { option(flags: string, description: string): T }>(command: T): T {
  return command
    .option("--rpc <url>", "chain JSON-RPC URL (default: the data directory's config)")
    .option("--registry <address>", "ConsortiumRegistry address (default: config)")
    .option("--contributions <address>", "ContributionRegistry address (default: config)")
    .option("--ledger <address>", "QueryLedger address (default: config)");
}
