import { Command } from "commander";
import { z } from "zod";
import { KeyStore, exists, configPath, newConfig, saveConfig, CONFIG_DEFAULTS } from "../../node/config/index.ts";
import { peerIdFromEvmKey } from "../../node/p2p/index.ts";
import { createVoprf } from "../../node/identity/index.ts";
import { RiskshareError } from "../../node/errors.ts";
import { hexlify } from "ethers";
import { parseOptions } from "../errors.ts";
import { addressArg } from "../parse.ts";
import { connectChain, readCompanions } from "../../node/chain/index.ts";
import { contextOf } from "../context.ts";
import type { CliIo } from "../output.ts";

const schema = z.object({
  name: z.string().trim().min(1, "must not be empty").max(100),
  rpc: z.string().optional(),
  listen: z.array(z.string()).optional(),
  apiPort: z.coerce.number().int().min(0).max(65_535).optional(),
  region: z.string().regex(/^[A-Z]{2}$/, "must be a two-letter region such as CN").optional(),
  importKey: z.string().optional(),
  registry: addressArg.optional(),
  force: z.boolean().optional(),
});

/** The key epoch a new member's first OPRF key is admitted under (ConsortiumRegistry: 1 at a first admission). */
const INITIAL_KEY_EPOCH = 1;

/** `riskshare init`: creates a data directory with a key store and a config. */
export function initCommand(io: CliIo): Command {
  return new Command("init")
    .description("create a node data directory: member key and OPRF key of key epoch 1 (0600), API token, config.json; prints the address, PeerId and OPRF public key")
    .option("--name <name>", "display name of the institution", "riskshare member")
    .option("--rpc <url>", `chain JSON-RPC URL (default ${CONFIG_DEFAULTS.chain.rpcUrl})`)
    .option("--listen <multiaddr...>", `libp2p listen addresses (default ${CONFIG_DEFAULTS.p2p.listen.join(" ")})`)
    .option("--api-port <port>", "port of the local HTTP API on 127.0.0.1 (0 = any free port)")
    .option("--region <CC>", `default phone region (default ${CONFIG_DEFAULTS.identity.defaultRegion})`)
    .option("--registry <address>", "join an existing consortium: its ConsortiumRegistry address (the companion contracts are read from it)")
    .option("--import-key <hex>", "use an existing 32-byte EVM private key instead of generating one (prefer the RISKSHARE_IMPORT_KEY variable: arguments show in ps)")
    .option("--force", "rewrite config.json if the data directory already has one (keys are never replaced)")
    .addHelpText("after", "\nExamples:\n  riskshare init --name \"Bank A\" --rpc http://127.0.0.1:8545\n  riskshare --data-dir ./bank-b init --name \"Bank B\" --listen /ip4/127.0.0.1/tcp/4002")
    .action(async (raw: unknown, command: Command) => {
      const ctx = contextOf(command, io);
      const opts = parseOptions(schema, raw);
      if ((await exists(configPath(ctx.dataDir))) && !opts.force) {
        throw new RiskshareError("E_CONFIG", `${ctx.dataDir} is already initialised (use --force to rewrite its config)`, { dataDir: ctx.dataDir });
      }
      let contracts: { registry: string; contributions: string; ledger: string } | undefined;
      if (opts.registry !== undefined) {
        const connection = await connectChain({ rpcUrl: opts.rpc ?? CONFIG_DEFAULTS.chain.rpcUrl, rpcTimeoutMs: CONFIG_DEFAULTS.chain.rpcTimeoutMs, pollIntervalMs: CONFIG_DEFAULTS.chain.pollIntervalMs });
        try {
          const companions = await readCompanions(opts.registry, connection.provider);
          if (!companions) throw new RiskshareError("E_CONTRACTS_MISSING", `the registry at ${opts.registry} names no companion contracts yet`);
          contracts = { registry: opts.registry, ...companions };
        } finally {
          connection.provider.destroy();
        }
      }
      const keys = new KeyStore({ dataDir: ctx.dataDir });
      const wallet = await keys.initNodeKey(opts.importKey ?? io.env.RISKSHARE_IMPORT_KEY);
      await keys.initApiToken();
      // The OPRF key of key epoch 1: its public half goes on chain at admission (deploy --founder, or the request `member request` signs).
      const voprf = await createVoprf();
      let oprfSecretKey = await keys.oprfKey(INITIAL_KEY_EPOCH);
      if (oprfSecretKey === undefined) {
        oprfSecretKey = voprf.generateKeyPair().secretKey;
        await keys.putOprfKey(INITIAL_KEY_EPOCH, hexlify(oprfSecretKey));
      }
      const oprfKey = hexlify(voprf.publicKey(oprfSecretKey));
      await saveConfig(ctx.dataDir, newConfig({
        name: opts.name,
        ...(opts.rpc === undefined && contracts === undefined ? {} : { chain: { ...(opts.rpc === undefined ? {} : { rpcUrl: opts.rpc }), ...(contracts === undefined ? {} : { contracts }) } }),
        ...(opts.listen === undefined ? {} : { p2p: { listen: opts.listen } }),
        ...(opts.apiPort === undefined ? {} : { api: { port: opts.apiPort } }),
        ...(opts.region === undefined ? {} : { identity: { defaultRegion: opts.region } }),
      }));
      const peerId = peerIdFromEvmKey(wallet.privateKey);
      ctx.out.result(
        { dataDir: ctx.dataDir, name: opts.name, address: wallet.address, peerId: peerId.toString(), oprfKey },
        (r) => `initialised ${r.dataDir}\n  name     ${r.name}\n  address  ${r.address}\n  peerId   ${r.peerId}\n  oprfKey  ${r.oprfKey}`,
      );
    });
}
