/**
 * A node's data directory: config.json (validated), the key store (0600 files, encrypted under a
 * passphrase: keystore v3 for the member key, sealed secrets for the others) and the layout.
 *
 * @example
 *   await saveConfig(dir, newConfig({ name: "Bank A", chain: { rpcUrl } }));
 *   const config = await loadConfig(dir);
 *   const wallet = await new KeyStore({ dataDir: dir, env: process.env }).initNodeKey(); // RISKSHARE_PASSPHRASE_FILE
 */
export { CONFIG_DEFAULTS, CONFIG_VERSION, DATA_DIR_LAYOUT, KEYSTORE_DEFAULTS, type KdfStrength } from "./options.ts";
export { configSchema, contractsSchema, type ContractAddresses, type NodeConfig, type NodeConfigInput } from "./schema.ts";
export { configPath, loadConfig, newConfig, parseConfig, saveConfig, updateConfig } from "./config.ts";
export { API_SCOPES, API_TOKEN_FILES, KeyStore, type ApiScope, type ApiTokens, type KeyFileInfo, type KeyStoreOptions, type MemberOprfKey } from "./keystore.ts";
export { KEY_ENV, kdfStrengthFromEnv, passphraseFrom, readSecretFile, type Env } from "./secrets.ts";
export { exists, readFileIfExists, writeFileAtomic } from "./files.ts";
export { NEXT_DB_DIR, preparedRotationPath, preparedRotationSchema, readRotationMarker, readRotationMarkerSync, type PreparedRotation } from "./rotation.ts";
