/**
 * A node's data directory: config.json (validated), the key store (0600 files) and the layout.
 *
 * @example
 *   await saveConfig(dir, newConfig({ name: "Bank A", chain: { rpcUrl } }));
 *   const config = await loadConfig(dir);
 *   const wallet = await new KeyStore({ dataDir: dir }).initNodeKey();
 */
export { CONFIG_DEFAULTS, CONFIG_VERSION, DATA_DIR_LAYOUT } from "./options.ts";
export { configSchema, contractsSchema, type ContractAddresses, type NodeConfig, type NodeConfigInput } from "./schema.ts";
export { configPath, loadConfig, newConfig, parseConfig, saveConfig, updateConfig } from "./config.ts";
export { KeyStore, type MemberOprfKey } from "./keystore.ts";
export { exists, readFileIfExists, writeFileAtomic } from "./files.ts";
