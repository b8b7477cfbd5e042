import { Command } from "commander";
import { z } from "zod";
import { resolve } from "node:path";
import { KeyStore, exists, configPath, loadConfig, newConfig, saveConfig, CONFIG_DEFAULTS, KEY_ENV, kdfStrengthFromEnv } from "../../node/config/index.ts";
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
  passphraseFile: z.string().min(1).optional(),
});

/** The key epoch a new member's first OPRF key is admitted under (ConsortiumRegistry: 1 at a first admission). */
const INITIAL_KEY_EPOCH = 1;

/** `riskshare init`: creates a data directory with a key store and a config. */
export function initCommand(io: CliIo): Command {
  return new Command("init")
    .description("create a node data directory: member key (keystore v3) and OPRF key of key epoch 1, encrypted under the passphrase from RISKSHARE_PASSPHRASE_FILE (or RISKSHARE_PASSPHRASE, or --passphrase-file), API token, config.json; prints the address, PeerId and OPRF public key")
    .option("--name <name>", "display name of the institution", "riskshare member")
    .option("--rpc <url>", `chain JSON-RPC URL (default ${CONFIG_DEFAULTS.chain.rpcUrl})`)
    .option("--listen <multiaddr...>", `libp2p listen addresses (default ${CONFIG_DEFAULTS.p2p.listen.join(" ")})`)
    .option("--api-port <port>", "port of the local HTTP API on 127.0.0.1 (0 = any free port)")
    .option("--region <CC>", `default phone region (default ${CONFIG_DEFAULTS.identity.defaultRegion})`)
    .option("--registry <address>", "join an existing consortium: its ConsortiumRegistry address (the companion contracts are read from it)")
    .option("--import-key <hex>", "use an existing 32-byte EVM private key instead of generating one (prefer the RISKSHARE_IMPORT_KEY variable: arguments show in ps)")
    .option("--force", "rewrite config.json if the data directory already has one (keys are never replaced)")
    .option("--passphrase-file <path>", "a 0600 file holding the passphrase the keys are encrypted under; recorded in config.json (keys.passphraseFile) so `node start` unlocks with it. The passphrase itself is never an argument")
    .addHelpText("after", "\nExamples:\n  RISKSHARE_PASSPHRASE_FILE=/etc/riskshare/passphrase riskshare init --name \"Bank A\" --rpc http://127.0.0.1:8545\n  riskshare init --name \"Bank A\" --passphrase-file /etc/riskshare/passphrase\n  riskshare --data-dir ./bank-b init --name \"Bank B\" --listen /ip4/127.0.0.1/tcp/4002")
    .action(async (raw: unknown, command: Command) => {
      const ctx = contextOf(command, io);
      const opts = parseOptions(schema, raw);
      const initialised = await exists(configPath(ctx.dataDir));
      if (initialised && !opts.force) {
        throw new RiskshareError("E_CONFIG", `${ctx.dataDir} is already initialised (use --force to rewrite its config)`, { dataDir: ctx.dataDir });
      }
      // Keys are only ever written encrypted: without a passphrase, init writes nothing. A rewritten
      // config keeps the passphrase file the old one named unless another is given.
      const passphraseFile = opts.passphraseFile === undefined
        ? (initialised ? (await loadConfig(ctx.dataDir)).keys.passphraseFile : undefined)
        : resolve(opts.passphraseFile);
      const env = opts.passphraseFile === undefined ? io.env : { ...io.env, [KEY_ENV.passphraseFile]: passphraseFile };
      const kdf = kdfStrengthFromEnv(io.env);
      const keys = new KeyStore({ dataDir: ctx.dataDir, env, kdf });
      if (!(await keys.hasPassphrase())) {
        throw new RiskshareError("E_KEY_LOCKED", `no passphrase to encrypt the new keys under: set ${KEY_ENV.passphraseFile} to a 0600 file holding one (or pass --passphrase-file PATH, or set ${KEY_ENV.passphrase})`, { dataDir: ctx.dataDir });
      }
      if (kdf === "light") ctx.out.note(`warning: ${KEY_ENV.kdf}=light: the keys are encrypted with the dev-only scrypt cost; never use it for a production member`);
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
      const wallet = await keys.initNodeKey(opts.importKey ?? io.env.RISKSHARE_IMPORT_KEY);
      await keys.initApiTokens();
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
        ...(passphraseFile === undefined ? {} : { keys: { passphraseFile } }),
      }));
      const peerId = peerIdFromEvmKey(wallet.privateKey);
      ctx.out.result(
        { dataDir: ctx.dataDir, name: opts.name, address: wallet.address, peerId: peerId.toString(), oprfKey, kdf },
        (r) => `initialised ${r.dataDir} (keys encrypted, scrypt ${r.kdf})\n  name     ${r.name}\n  address  ${r.address}\n  peerId   ${r.peerId}\n  oprfKey  ${r.oprfKey}`,
      );
    });
}
