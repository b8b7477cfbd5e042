import { randomBytes } from "node:crypto";
import { chmod, copyFile, open, readdir, rename } from "node:fs/promises";
import { join } from "node:path";
import { Wallet, hexlify, getBytes } from "ethers";
import { RiskshareError } from "../errors.ts";
import { createVoprf, EntryKeyEvaluator, type EntryKeyContext } from "../identity/index.ts";

/** The OPRF key a member answers and imports under. */
export interface MemberOprfKey {
  epoch: number;
  secretKey: Uint8Array;
  publicKey: Uint8Array;
  evaluator: EntryKeyEvaluator;
}
import { DATA_DIR_LAYOUT, type KdfStrength } from "./options.ts";
import { readFileIfExists, writeFileAtomic } from "./files.ts";
import {
  decryptMemberKey, encryptMemberKey, isEncryptedContent, kdfCostOf, kdfParams, kdfStrengthFromEnv, KEY_ENV, openSecret, passphraseFrom, readSecretFile, sealSecret,
  type Env, type SecretLabel,
} from "./secrets.ts";
/** A journal key: one AES-256 key. */
const JOURNAL_KEY_BYTES = 32;
/** An OPRF secret key: one ristretto255 scalar (RFC 9497 SerializeScalar). */
const OPRF_SECRET_KEY_BYTES = 32;
/** Where a member key rotation keeps the new member key until the rotation is done (keys/). */
const NEXT_NODE_KEY = "node-next.key";

/**
 * The scopes of the local API's tokens, each allowing what the ones before it allow: read (health,
 * peers, sent queries, held answers, import progress, list stats), check (identifier checks: the
 * institution's onboarding and payment systems), admin (list updates, export, publish).
 */
export const API_SCOPES = ["read", "check", "admin"] as const;
export type ApiScope = (typeof API_SCOPES)[number];
/** One token per scope. */
export type ApiTokens = Readonly<Record<ApiScope, string>>;
/** The file (under keys/) holding each scope's token. */
export const API_TOKEN_FILES: Readonly<Record<ApiScope, string>> = {
  read: DATA_DIR_LAYOUT.apiReadToken, check: DATA_DIR_LAYOUT.apiCheckToken, admin: DATA_DIR_LAYOUT.apiToken,
};

/** Options of {@link KeyStore}. */
export interface KeyStoreOptions {
  dataDir: string;
  /**
   * Where the passphrase and the KDF cost come from: RISKSHARE_PASSPHRASE, RISKSHARE_PASSPHRASE_FILE
   * and RISKSHARE_KDF in this environment (the CLI passes its own), then config.json's
   * `keys.passphraseFile`. None by default: nothing is read from process.env behind the caller's back.
   */
  env?: Env;
  /** The passphrase itself (takes precedence over env; `key passphrase` uses it for the new one). */
  passphrase?: string;
  /** The scrypt cost of the files this store writes; default from env RISKSHARE_KDF, else "standard". */
  kdf?: KdfStrength;
}

/** One file of the key store as `key show` describes it: never its contents. */
export interface KeyFileInfo {
  /** The file name under keys/. */
  file: string;
  /** `member`, `oprf`, `journal` or `api-token`. */
  kind: "member" | "oprf" | "journal" | "api-token";
  /** The key epoch of an OPRF key. */
  epoch?: number;
  /** Encrypted at rest (keystore v3 or sealed secret); the API token never is. */
  encrypted: boolean;
  /** The scrypt cost it was encrypted with. */
  kdf?: { N: number; r: number; p: number };
}

/**
 * The secrets of one node, each in its own 0600 file under `<dataDir>/keys`: the member's EVM key
 * (a keystore v3 document; it also derives the libp2p identity), the local API bearer token, the
 * member's OPRF secret key per key epoch and the journal key (sealed secrets: scrypt + AES-256-GCM).
 * Every read checks the file's mode first (group or others → E_KEY_PERMISSIONS). Plaintext hex files
 * of a data dir not yet migrated are still read (see {@link plaintextFiles}); new keys are written
 * encrypted, so a new store without a passphrase writes none (E_KEY_LOCKED); only a data dir not yet
 * migrated, run without one, gets a new key in its plaintext form (see {@link migrate}).
 * Nothing here is ever logged; errors name files, never contents or the passphrase.
 */
export class KeyStore {
  private readonly dir: string;
  private readonly opts: KeyStoreOptions;
  /** The passphrase, resolved once (undefined: none was given). */
  private passphrasePromise: Promise<string | undefined> | undefined;
  /** Secrets already opened, by file name: each file costs one scrypt per process, not per read. */
  private readonly opened = new Map<string, { content: string; value: Uint8Array | Wallet }>();

  constructor(opts: KeyStoreOptions) {
    this.opts = opts;
    this.dir = join(opts.dataDir, DATA_DIR_LAYOUT.keysDir);
  }

  /** Creates the member key if there is none (or imports `privateKey`), and returns the wallet. */
  async initNodeKey(privateKey?: string): Promise<Wallet> {
    const existing = await this.readNodeKey();
    if (existing) {
      if (privateKey !== undefined && existing.privateKey !== parseKey(privateKey, "privateKey").privateKey) {
        throw new RiskshareError("E_CONFIG", "the data directory already holds a different node key", { file: this.nodeKeyPath });
      }
      return existing;
    }
    const wallet = privateKey === undefined ? new Wallet(hexlify(randomBytes(32))) : parseKey(privateKey, "privateKey");
    await this.writeNodeKey(wallet, await this.requirePassphrase("to encrypt the new member key"));
    return wallet;
  }

  /** The member's EVM wallet (not connected to a provider). */
  async nodeKey(): Promise<Wallet> {
    const wallet = await this.readNodeKey();
    if (!wallet) throw new RiskshareError("E_CONFIG", "no node key in the data directory; run `riskshare init` first", { file: this.nodeKeyPath });
    return wallet;
  }

  /** Creates the local API tokens of every scope that has none; returns them. */
  async initApiTokens(): Promise<ApiTokens> {
    const tokens: Partial<Record<ApiScope, string>> = {};
    for (const scope of API_SCOPES) {
      const existing = (await readSecretFile(this.apiTokenPath(scope)))?.trim();
      tokens[scope] = existing ? existing : await this.rotateApiToken(scope);
    }
    return tokens as ApiTokens;
  }

  /** Replaces the API token of `scope` with a new random one and returns it (a running node takes it within a second). */
  async rotateApiToken(scope: ApiScope): Promise<string> {
    const token = randomBytes(32).toString("base64url");
    await writeFileAtomic(this.apiTokenPath(scope), `${token}\n`);
    return token;
  }

  /** The local API bearer token of `scope` (default admin: what the CLI's own calls use). */
  async apiToken(scope: ApiScope = "admin"): Promise<string> {
    const existing = (await readSecretFile(this.apiTokenPath(scope)))?.trim();
    if (!existing) throw new RiskshareError("E_CONFIG", `no ${scope} API token in the data directory; run \`riskshare init\` (or \`riskshare key rotate-token --scope ${scope}\`)`, { file: this.apiTokenPath(scope) });
    return existing;
  }

  /** The tokens of every scope that has one (a token file missing or empty is left out). */
  async apiTokens(): Promise<Partial<ApiTokens>> {
    const tokens: Partial<Record<ApiScope, string>> = {};
    for (const scope of API_SCOPES) {
      const existing = (await readSecretFile(this.apiTokenPath(scope)))?.trim();
      if (existing) tokens[scope] = existing;
    }
    return tokens;
  }

  /** The file of the API token of `scope`. */
  apiTokenPath(scope: ApiScope): string {
    return join(this.dir, API_TOKEN_FILES[scope]);
  }

  /**
   * The member's journal key (32 bytes), created on first use: it seals what opens the commitments
   * of the queries this node sends (the identifiers asked and their blinds).
   */
  async journalKey(opts: { create?: boolean } = {}): Promise<Uint8Array> {
    const existing = await this.readSecret(DATA_DIR_LAYOUT.journalKey, { kind: "journal", epoch: 0 }, JOURNAL_KEY_BYTES);
    if (existing) return existing;
    if (opts.create === false) {
      throw new RiskshareError("E_JOURNAL_OPEN", "this data dir holds no journal key (keys/journal.key): its queries cannot be opened here", { file: this.journalKeyPath });
    }
    const key = new Uint8Array(randomBytes(JOURNAL_KEY_BYTES));
    await this.writeNewSecret(DATA_DIR_LAYOUT.journalKey, { kind: "journal", epoch: 0 }, key, "to seal the new journal key");
    return key;
  }

  /**
   * Stores the OPRF secret key of a key epoch (32 bytes as hex, with or without 0x); refuses to
   * overwrite a different one: a key once published for an epoch must stay the one that answers.
   */
  async putOprfKey(keyEpoch: number, secretHex: string): Promise<void> {
    checkKeyEpoch(keyEpoch);
    const secretKey = parseOprfSecret(secretHex, keyEpoch);
    const existing = await this.oprfKey(keyEpoch);
    if (existing) {
      if (Buffer.from(existing).equals(Buffer.from(secretKey))) return;
      throw new RiskshareError("E_CONFIG", "a different OPRF key for this key epoch is already stored", { keyEpoch });
    }
    await this.writeNewSecret(this.oprfKeyName(keyEpoch), { kind: "oprf", epoch: keyEpoch }, secretKey, "to seal the new OPRF key");
  }

  /** The OPRF secret key of a key epoch, or undefined when this node does not hold it. */
  async oprfKey(keyEpoch: number): Promise<Uint8Array | undefined> {
    checkKeyEpoch(keyEpoch);
    return this.readSecret(this.oprfKeyName(keyEpoch), { kind: "oprf", epoch: keyEpoch }, OPRF_SECRET_KEY_BYTES);
  }

  /**
   * The member's entry key evaluator for a key epoch: its OPRF secret key of that epoch bound to
   * (chain, member address, epoch). E_OPRF_KEY_MISSING when this data dir does not hold that key.
   */
  async entryKeyEvaluator(context: EntryKeyContext): Promise<EntryKeyEvaluator> {
    const secretKey = await this.oprfKey(context.keyEpoch);
    if (!secretKey) {
      throw new RiskshareError("E_OPRF_KEY_MISSING", `this data dir holds no OPRF key for key epoch ${context.keyEpoch}`, { keyEpoch: context.keyEpoch });
    }
    return EntryKeyEvaluator.create({ secretKey, context });
  }

  /**
   * The member's OPRF key to answer and import under: that of its key epoch on chain (`onChainEpoch`),
   * or before its admission the newest this data dir holds; with its public key and entry key
   * evaluator bound to (chain, member, epoch). Undefined when this data dir does not hold that key.
   */
  async memberOprfKey(chainId: bigint, address: string, onChainEpoch: number | undefined): Promise<MemberOprfKey | undefined> {
    const epoch = onChainEpoch ?? (await this.oprfKeyEpochs()).at(-1) ?? 1;
    const secretKey = await this.oprfKey(epoch);
    if (secretKey === undefined) return undefined;
    const evaluator = await EntryKeyEvaluator.create({ secretKey, context: { chainId, providerAddress: address, keyEpoch: epoch } });
    return { epoch, secretKey, publicKey: (await createVoprf()).publicKey(secretKey), evaluator };
  }

  /** Key epochs whose OPRF secret key this node holds, ascending. */
  async oprfKeyEpochs(): Promise<number[]> {
    return this.epochsOf(DATA_DIR_LAYOUT.oprfKeyPrefix);
  }

  /** True when a passphrase is given (options, environment or config.json); reads a passphrase file, checking its mode. */
  async hasPassphrase(): Promise<boolean> {
    return (await this.passphrase()) !== undefined;
  }

  /** Every key file of this store, what it is and whether it is encrypted: never a secret. */
  async files(): Promise<KeyFileInfo[]> {
    const infos: KeyFileInfo[] = [];
    const describe = async (file: string, kind: KeyFileInfo["kind"], epoch?: number): Promise<void> => {
      const content = await readSecretFile(join(this.dir, file));
      if (content === undefined) return;
      const encrypted = kind !== "api-token" && isEncryptedContent(content);
      const kdf = encrypted ? kdfCostOf(content) : undefined;
      infos.push({ file, kind, ...(epoch === undefined ? {} : { epoch }), encrypted, ...(kdf === undefined ? {} : { kdf }) });
    };
    await describe(DATA_DIR_LAYOUT.nodeKey, "member");
    for (const epoch of await this.oprfKeyEpochs()) await describe(this.oprfKeyName(epoch), "oprf", epoch);
    await describe(DATA_DIR_LAYOUT.journalKey, "journal");
    for (const scope of API_SCOPES) await describe(API_TOKEN_FILES[scope], "api-token");
    return infos;
  }

  /** The key files still in plaintext (a data dir from before encryption at rest): `riskshare key migrate` encrypts them. */
  async plaintextFiles(): Promise<string[]> {
    return (await this.files()).filter((f) => f.kind !== "api-token" && !f.encrypted).map((f) => f.file);
  }

  /**
   * Encrypts every plaintext key file in place under this store's passphrase, one file at a time:
   * each is written to a temporary file, fsynced and renamed over the plaintext one (then the
   * directory fsynced), so an interruption leaves each file whole in its old or its new form.
   * Already encrypted files are left alone (running it again does nothing). Returns the files encrypted.
   */
  async migrate(): Promise<string[]> {
    const passphrase = await this.requirePassphrase("to encrypt the plaintext keys");
    const migrated: string[] = [];
    for (const info of await this.files()) {
      if (info.kind === "api-token" || info.encrypted) continue;
      if (info.kind === "member") {
        await this.writeNodeKey(await this.nodeKey(), passphrase);
      } else if (info.kind === "oprf") {
        await this.writeSecret(info.file, { kind: "oprf", epoch: info.epoch! }, (await this.oprfKey(info.epoch!))!, passphrase);
      } else {
        await this.writeSecret(info.file, { kind: "journal", epoch: 0 }, await this.journalKey({ create: false }), passphrase);
      }
      migrated.push(info.file);
    }
    return migrated;
  }

  /**
   * Re-encrypts every key file under `newPassphrase` (opening each with this store's passphrase
   * first, so a wrong one changes nothing); plaintext files are encrypted too. Each file is replaced
   * atomically; an interruption leaves some files under the old passphrase and some under the new,
   * and running the command again with both finishes it (files already under the new one are kept).
   * Files below this store's scrypt cost are rewritten even under the same passphrase (a devnet's
   * light keys made standard).
   */
  async changePassphrase(newPassphrase: string): Promise<string[]> {
    if (newPassphrase === "") throw new RiskshareError("E_BAD_INPUT", "the new passphrase is empty", {});
    const next = new KeyStore({ ...this.opts, passphrase: newPassphrase });
    const changed: string[] = [];
    for (const info of await this.files()) {
      if (info.kind === "api-token") continue;
      // A file already under the new passphrase (an interrupted earlier run) at the cost asked for stays as it is.
      if (info.encrypted && (info.kdf?.N ?? 0) >= kdfParams(this.kdf()).N && (await next.opensWith(info))) continue;
      if (info.kind === "member") {
        await this.writeNodeKey(await this.nodeKey(), newPassphrase);
      } else if (info.kind === "oprf") {
        await this.writeSecret(info.file, { kind: "oprf", epoch: info.epoch! }, (await this.oprfKey(info.epoch!))!, newPassphrase);
      } else {
        await this.writeSecret(info.file, { kind: "journal", epoch: 0 }, await this.journalKey({ create: false }), newPassphrase);
      }
      changed.push(info.file);
    }
    this.passphrasePromise = Promise.resolve(newPassphrase);
    return changed;
  }

  /**
   * The member key a member key rotation moves to, `keys/node-next.key` (keystore v3 under the same
   * passphrase): created on the first call, the same key on every later one, so a rotation
   * interrupted after its transaction resumes with the key the chain names.
   */
  async nextNodeKey(): Promise<Wallet> {
    const path = join(this.dir, NEXT_NODE_KEY);
    const content = await readSecretFile(path);
    if (content !== undefined) return decryptMemberKey(content, await this.requirePassphrase(`to unlock ${path}`), path);
    const wallet = new Wallet(hexlify(randomBytes(32)));
    await writeKeyFile(path, await encryptMemberKey(wallet, await this.requirePassphrase("to encrypt the new member key"), this.kdf()));
    return wallet;
  }

  /**
   * Ends a member key rotation in keys/: the current member key is kept as
   * `node-<its address>.key` (retired: its account is Rotated on chain), and `node-next.key`
   * becomes `node.key`. Each step leaves both keys on disk, and a second call after an
   * interruption finishes it. Returns the retired key's file name (with no rotation pending, it
   * changes nothing and returns the name the current key would retire to).
   */
  async retireNodeKey(): Promise<string> {
    const nextPath = join(this.dir, NEXT_NODE_KEY);
    const current = await this.readNodeKey();
    if (current === undefined) throw new RiskshareError("E_CONFIG", "no node key in the data directory", { file: this.nodeKeyPath });
    const retired = `node-${current.address}.key`;
    if ((await readSecretFile(nextPath)) === undefined) return retired;
    await copyFile(this.nodeKeyPath, join(this.dir, retired));
    await chmod(join(this.dir, retired), 0o600);
    await rename(nextPath, this.nodeKeyPath);
    this.opened.delete(DATA_DIR_LAYOUT.nodeKey);
    return retired;
  }

  /** Re-applies 0600 to every key file (after a restore from backup, say). */
  async tightenPermissions(): Promise<void> {
    for (const name of await readdir(this.dir)) await chmod(join(this.dir, name), 0o600);
  }

  private get nodeKeyPath(): string {
    return join(this.dir, DATA_DIR_LAYOUT.nodeKey);
  }

  private get journalKeyPath(): string {
    return join(this.dir, DATA_DIR_LAYOUT.journalKey);
  }


  private oprfKeyName(keyEpoch: number): string {
    return `${DATA_DIR_LAYOUT.oprfKeyPrefix}${keyEpoch}.key`;
  }

  /** The epochs of the `<prefix><epoch>.key` files, ascending. */
  private async epochsOf(prefix: string): Promise<number[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch {
      return [];
    }
    const pattern = new RegExp(`^${prefix}(\\d+)\\.key$`);
    return names
      .map((name) => pattern.exec(name)?.[1])
      .filter((epoch): epoch is string => epoch !== undefined)
      .map(Number)
      .sort((a, b) => a - b);
  }

  /** The passphrase, from the options, the environment or config.json's keys.passphraseFile; undefined if none is given. */
  private passphrase(): Promise<string | undefined> {
    this.passphrasePromise ??= (async () => {
      if (this.opts.passphrase !== undefined) return this.opts.passphrase;
      return passphraseFrom(this.opts.env ?? {}, { configuredFile: await this.configuredPassphraseFile(), baseDir: this.opts.dataDir });
    })();
    return this.passphrasePromise;
  }

  private async requirePassphrase(purpose: string): Promise<string> {
    const passphrase = await this.passphrase();
    if (passphrase === undefined) {
      throw new RiskshareError("E_KEY_LOCKED", `no passphrase given ${purpose}: set ${KEY_ENV.passphraseFile} (a 0600 file) or ${KEY_ENV.passphrase}, or config.json keys.passphraseFile`, { dataDir: this.opts.dataDir });
    }
    return passphrase;
  }

  /** config.json's keys.passphraseFile, read without validating the rest (init writes the keys before the config). */
  private async configuredPassphraseFile(): Promise<string | undefined> {
    const content = await readFileIfExists(join(this.opts.dataDir, DATA_DIR_LAYOUT.config));
    if (!content) return undefined;
    try {
      const file = (JSON.parse(content.toString("utf8")) as { keys?: { passphraseFile?: unknown } }).keys?.passphraseFile;
      return typeof file === "string" && file !== "" ? file : undefined;
    } catch {
      return undefined; // loadConfig names what is wrong with it
    }
  }

  private kdf(): KdfStrength {
    return this.opts.kdf ?? kdfStrengthFromEnv(this.opts.env ?? {});
  }

  private async readNodeKey(): Promise<Wallet | undefined> {
    const content = await readSecretFile(this.nodeKeyPath);
    if (content === undefined) return undefined;
    if (!isEncryptedContent(content)) return parseKey(content.trim(), this.nodeKeyPath);
    const cached = this.opened.get(DATA_DIR_LAYOUT.nodeKey);
    if (cached?.content === content) return cached.value as Wallet;
    const wallet = await decryptMemberKey(content, await this.requirePassphrase(`to unlock ${this.nodeKeyPath}`), this.nodeKeyPath);
    this.opened.set(DATA_DIR_LAYOUT.nodeKey, { content, value: wallet });
    return wallet;
  }

  private async writeNodeKey(wallet: Wallet, passphrase: string): Promise<void> {
    await writeKeyFile(this.nodeKeyPath, await encryptMemberKey(wallet, passphrase, this.kdf()));
    this.opened.delete(DATA_DIR_LAYOUT.nodeKey);
  }

  /** A sealed (or, not yet migrated, hex) secret of `bytes` bytes; undefined when the file does not exist. */
  private async readSecret(name: string, label: SecretLabel, bytes: number): Promise<Uint8Array | undefined> {
    const path = join(this.dir, name);
    const content = await readSecretFile(path);
    if (content === undefined) return undefined;
    if (!isEncryptedContent(content)) return parseHexSecret(content.trim(), bytes, label, path);
    const cached = this.opened.get(name);
    if (cached?.content === content) return cached.value as Uint8Array;
    const secret = await openSecret(content, await this.requirePassphrase(`to unlock ${path}`), label, path);
    if (secret.length !== bytes) throw new RiskshareError("E_KEY_FORMAT", `${path} holds ${secret.length} bytes, not ${bytes}`, { file: path });
    this.opened.set(name, { content, value: secret });
    return secret;
  }

  private async writeSecret(name: string, label: SecretLabel, secret: Uint8Array, passphrase: string): Promise<void> {
    await writeKeyFile(join(this.dir, name), await sealSecret(secret, passphrase, label, this.kdf()));
    this.opened.delete(name);
  }

  /**
   * Writes a secret this store did not hold yet: sealed under the passphrase; in a data dir not yet
   * migrated (plaintext member key) and run without a passphrase, in plaintext like its other keys,
   * so such a dir keeps working until `riskshare key migrate` encrypts them all.
   */
  private async writeNewSecret(name: string, label: SecretLabel, secret: Uint8Array, purpose: string): Promise<void> {
    const passphrase = await this.passphrase();
    if (passphrase === undefined) {
      const member = await readSecretFile(this.nodeKeyPath);
      if (member !== undefined && !isEncryptedContent(member)) {
        await writeKeyFile(join(this.dir, name), `${hexlify(secret)}\n`);
        return;
      }
    }
    await this.writeSecret(name, label, secret, passphrase ?? (await this.requirePassphrase(purpose)));
  }

  /** True when an encrypted file opens under this store's passphrase. */
  private async opensWith(info: KeyFileInfo): Promise<boolean> {
    try {
      if (info.kind === "member") await this.readNodeKey();
      else if (info.kind === "oprf") await this.oprfKey(info.epoch!);
      else await this.journalKey({ create: false });
      return true;
    } catch (err) {
      if (err instanceof RiskshareError && err.code === "E_KEY_PASSPHRASE") return false;
      throw err;
    }
  }
}

/** Writes a key file atomically (0600), then fsyncs its directory so the rename itself is durable. */
async function writeKeyFile(path: string, content: string): Promise<void> {
  await writeFileAtomic(path, content);
  if (process.platform === "win32") return; // a directory cannot be opened for fsync there
  const dir = await open(join(path, ".."), "r");
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}

/** A plaintext hex secret (a data dir not yet migrated): the file's contents never reach a message. */
function parseHexSecret(hex: string, bytes: number, label: SecretLabel, path: string): Uint8Array {
  const digits = hex.startsWith("0x") ? hex.slice(2) : hex;
  if (!/^[0-9a-fA-F]*$/.test(digits) || digits.length !== bytes * 2) {
    const what = label.kind === "oprf" ? "OPRF key" : "journal key";
    throw new RiskshareError("E_CONFIG", `the ${what} file is damaged`, { ...(label.kind === "oprf" ? { keyEpoch: label.epoch } : {}), file: path });
  }
  return getBytes(`0x${digits}`);
}

function checkKeyEpoch(keyEpoch: number): void {
  if (!Number.isSafeInteger(keyEpoch) || keyEpoch < 1 || keyEpoch > 0xffff_ffff) {
    throw new RiskshareError("E_BAD_INPUT", "a key epoch is an integer from 1 to 2^32 - 1", { keyEpoch });
  }
}

function parseOprfSecret(hex: string, keyEpoch: number): Uint8Array {
  const digits = hex.startsWith("0x") ? hex.slice(2) : hex;
  if (!/^[0-9a-fA-F]*$/.test(digits) || digits.length !== OPRF_SECRET_KEY_BYTES * 2) {
    throw new RiskshareError("E_BAD_INPUT", `an OPRF secret key is ${OPRF_SECRET_KEY_BYTES} bytes of hex`, { keyEpoch });
  }
  return getBytes(`0x${digits}`);
}

function parseKey(hex: string, where: string): Wallet {
  try {
    return new Wallet(hex);
  } catch (err) {
    throw new RiskshareError("E_CONFIG", "not a valid 32-byte secp256k1 private key", { where }, { cause: err });
  }
}
