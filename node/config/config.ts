import { join } from "node:path";
import { RiskshareError } from "../errors.ts";
import { CONFIG_VERSION, DATA_DIR_LAYOUT } from "./options.ts";
import { configSchema, type NodeConfig, type NodeConfigInput } from "./schema.ts";
import { readFileIfExists, writeFileAtomic } from "./files.ts";

/** The path of a data directory's config file. */
export function configPath(dataDir: string): string {
  return join(dataDir, DATA_DIR_LAYOUT.config);
}

/** Validates a config object, naming every field that is wrong. */
export function parseConfig(input: unknown, where: string): NodeConfig {
  const parsed = configSchema.safeParse(input);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join(".") || "(root)"}: ${issue.message}`);
    throw new RiskshareError("E_CONFIG", `invalid configuration in ${where}: ${problems.join("; ")}`, { file: where, problems });
  }
  return parsed.data;
}

/** Reads and validates `<dataDir>/config.json`. */
export async function loadConfig(dataDir: string): Promise<NodeConfig> {
  const path = configPath(dataDir);
  const content = await readFileIfExists(path);
  if (!content) throw new RiskshareError("E_CONFIG", `no configuration at ${path}; run \`riskshare init\` first`, { file: path });
  let json: unknown;
  try {
    json = JSON.parse(content.toString("utf8"));
  } catch (err) {
    throw new RiskshareError("E_CONFIG", `${path} is not valid JSON`, { file: path }, { cause: err });
  }
  return parseConfig(json, path);
}

/** Validates and writes `<dataDir>/config.json` atomically. */
export async function saveConfig(dataDir: string, config: NodeConfigInput): Promise<NodeConfig> {
  const path = configPath(dataDir);
  const valid = parseConfig(config, path);
  await writeFileAtomic(path, `${JSON.stringify(valid, null, 2)}\n`, 0o600);
  return valid;
}

/** Reads the config, applies `change` to a copy, validates and writes it back. */
export async function updateConfig(dataDir: string, change: (config: NodeConfig) => NodeConfigInput): Promise<NodeConfig> {
  const current = await loadConfig(dataDir);
  return saveConfig(dataDir, change(structuredClone(current)));
}

/** A fresh config for `riskshare init`. */
export function newConfig(fields: { name: string } & Partial<Omit<NodeConfigInput, "version" | "name">>): NodeConfigInput {
  return { version: CONFIG_VERSION, ...fields };
}

