/**
 * Secrets at rest: the sealed-file envelope (scrypt + AES-256-GCM, node:crypto), the member key in
 * the Ethereum keystore v3 format (ethers), the permission check every key file read passes, and
 * where the passphrase comes from. Nothing here logs or puts a secret or a passphrase in an error.
 */
import { createCipheriv, createDecipheriv, randomBytes, scrypt } from "node:crypto";
import { open } from "node:fs/promises";
import { isAbsolute, resolve } from "node:path";
import { decryptKeystoreJson, encryptKeystoreJson, isError, Wallet } from "ethers";
import { RiskshareError } from "../errors.ts";
import { KEYSTORE_DEFAULTS, type KdfStrength } from "./options.ts";

/** Version 1 of the sealed-secret document. */
const ENVELOPE_FORMAT = "riskshare-sealed-secret";
const ENVELOPE_VERSION = 1;
/** AES-256-GCM: 32-byte key, 12-byte nonce (NIST SP 800-38D's recommended size), 16-byte tag. */
const AES_KEY_BYTES = 32;
const GCM_IV_BYTES = 12;
const GCM_TAG_BYTES = 16;
const SALT_BYTES = 32;
/** scrypt bounds a file may claim: a cost outside them is refused before any work is done. */
const MIN_LOG_N = 10;
const MAX_LOG_N = 20;

/** The environment variables the passphrase and the KDF cost come from. */
export const KEY_ENV = {
  /** The passphrase itself (for a supervisor that injects it; it shows in /proc/<pid>/environ to the same user). */
  passphrase: "RISKSHARE_PASSPHRASE",
  /** A file holding the passphrase (first line), 0600 or stricter; e.g. a systemd credential. */
  passphraseFile: "RISKSHARE_PASSPHRASE_FILE",
  /** The new passphrase of `riskshare key passphrase`. */
  newPassphrase: "RISKSHARE_NEW_PASSPHRASE",
  newPassphraseFile: "RISKSHARE_NEW_PASSPHRASE_FILE",
  /** `light` selects the dev-only scrypt cost for files written (devnet, tests). */
  kdf: "RISKSHARE_KDF",
} as const;

/** Environment variables as the CLI receives them. */
export type Env = Readonly<Record<string, string | undefined>>;

/** What a sealed secret is, bound into its authentication tag so a file cannot stand in for another. */
export interface SecretLabel {
  /** `oprf` (an OPRF secret key, with its key epoch) or `journal` (the journal key). */
  kind: "oprf" | "journal";
  /** The key epoch (OPRF keys); 0 for kinds without one. */
  epoch: number;
}

/** scrypt parameters of a sealed file. */
interface ScryptParams {
  n: number;
  r: number;
  p: number;
  dklen: number;
  salt: string;
}

/** The sealed-secret document as it is written (JSON, one per file). */
interface Envelope {
  format: typeof ENVELOPE_FORMAT;
  version: typeof ENVELOPE_VERSION;
  kind: SecretLabel["kind"];
  epoch: number;
  kdf: "scrypt";
  kdfparams: ScryptParams;
  cipher: "aes-256-gcm";
  iv: string;
  ciphertext: string;
  tag: string;
}

/** The scrypt cost of a strength: geth's "standard" for production, a light one for devnets and tests only. */
export function kdfParams(strength: KdfStrength): { N: number; r: number; p: number } {
  return { ...KEYSTORE_DEFAULTS.kdf[strength] };
}

/** The KDF strength the environment asks for (RISKSHARE_KDF=light, dev-only), else standard. */
export function kdfStrengthFromEnv(env: Env): KdfStrength {
  const value = env[KEY_ENV.kdf];
  if (value === undefined || value === "" || value === "standard") return "standard";
  if (value === "light") return "light";
  throw new RiskshareError("E_BAD_INPUT", `${KEY_ENV.kdf} is "standard" or "light" (dev-only), not "${value}"`, { variable: KEY_ENV.kdf });
}

/** True when the file content is a sealed secret or a keystore (JSON), false when it is a plaintext hex key. */
export function isEncryptedContent(content: string): boolean {
  return content.trimStart().startsWith("{");
}

/**
 * Reads a key (or passphrase) file after checking, on the open handle, that neither group nor others
 * may read or write it (as ssh does with its private keys). Undefined when the file does not exist.
 * On Windows there are no POSIX modes to check; the file's ACL is the operator's to set.
 */
export async function readSecretFile(path: string): Promise<string | undefined> {
  let handle;
  try {
    handle = await open(path, "r");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
  try {
    if (process.platform !== "win32") {
      const mode = (await handle.stat()).mode & 0o777;
      if ((mode & 0o077) !== 0) {
        throw new RiskshareError("E_KEY_PERMISSIONS", `${path} is readable or writable by group or others (mode ${mode.toString(8).padStart(4, "0")}); run: chmod 600 ${path}`, { file: path, mode: mode.toString(8) });
      }
    }
    return (await handle.readFile()).toString("utf8");
  } finally {
    await handle.close();
  }
}

/** The passphrase from the environment, a passphrase file named there, or `configuredFile` (config.json keys.passphraseFile, relative to `baseDir`). */
export async function passphraseFrom(env: Env, opts: { configuredFile?: string; baseDir: string; names?: { passphrase: string; passphraseFile: string } }): Promise<string | undefined> {
  const names = opts.names ?? { passphrase: KEY_ENV.passphrase, passphraseFile: KEY_ENV.passphraseFile };
  const direct = env[names.passphrase];
  if (direct !== undefined && direct !== "") return direct;
  const file = env[names.passphraseFile] ?? opts.configuredFile;
  if (file === undefined || file === "") return undefined;
  const path = isAbsolute(file) ? file : resolve(opts.baseDir, file);
  const content = await readSecretFile(path);
  if (content === undefined) throw new RiskshareError("E_KEY_LOCKED", `the passphrase file ${path} does not exist`, { file: path });
  // The first line, without its line ending: an editor's trailing newline is not part of the passphrase.
  const passphrase = content.split(/\r?\n/)[0]!;
  if (passphrase === "") throw new RiskshareError("E_KEY_LOCKED", `the passphrase file ${path} is empty`, { file: path });
  return passphrase;
}

/** Seals a secret under a passphrase: scrypt(passphrase, salt) → AES-256-GCM, with its label as associated data. */
export async function sealSecret(secret: Uint8Array, passphrase: string, label: SecretLabel, strength: KdfStrength): Promise<string> {
  const { N, r, p } = kdfParams(strength);
  const salt = randomBytes(SALT_BYTES);
  const iv = randomBytes(GCM_IV_BYTES);
  const kdfparams: ScryptParams = { n: N, r, p, dklen: AES_KEY_BYTES, salt: salt.toString("hex") };
  const key = await deriveKey(passphrase, kdfparams);
  const cipher = createCipheriv("aes-256-gcm", key, iv, { authTagLength: GCM_TAG_BYTES });
  cipher.setAAD(associatedData(label, kdfparams));
  const ciphertext = Buffer.concat([cipher.update(secret), cipher.final()]);
  const envelope: Envelope = {
    format: ENVELOPE_FORMAT, version: ENVELOPE_VERSION, kind: label.kind, epoch: label.epoch,
    kdf: "scrypt", kdfparams, cipher: "aes-256-gcm",
    iv: iv.toString("hex"), ciphertext: ciphertext.toString("hex"), tag: cipher.getAuthTag().toString("hex"),
  };
  return `${JSON.stringify(envelope, null, 2)}\n`;
}

/**
 * Opens a sealed secret. E_KEY_FORMAT when the document is malformed or labelled as another secret
 * (a file copied over another's name); E_KEY_PASSPHRASE when it does not authenticate: a wrong
 * passphrase, or a file altered.
 */
export async function openSecret(content: string, passphrase: string, label: SecretLabel, file: string): Promise<Uint8Array> {
  const envelope = parseEnvelope(content, file);
  if (envelope.kind !== label.kind || envelope.epoch !== label.epoch) {
    throw new RiskshareError("E_KEY_FORMAT", `${file} holds the ${envelope.kind} secret of epoch ${envelope.epoch}, not the ${label.kind} secret of epoch ${label.epoch}: it was copied from another file`, { file });
  }
  const key = await deriveKey(passphrase, envelope.kdfparams);
  const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(envelope.iv, "hex"), { authTagLength: GCM_TAG_BYTES });
  // The label expected here, not the one the file claims: a file moved under another name does not open.
  decipher.setAAD(associatedData(label, envelope.kdfparams));
  decipher.setAuthTag(Buffer.from(envelope.tag, "hex"));
  try {
    return new Uint8Array(Buffer.concat([decipher.update(Buffer.from(envelope.ciphertext, "hex")), decipher.final()]));
  } catch {
    throw new RiskshareError("E_KEY_PASSPHRASE", `${file} does not open with the passphrase given (a wrong passphrase, or the file was altered)`, { file });
  }
}

/** The scrypt cost a sealed file or keystore was written with (for `key show`), without opening it. */
export function kdfCostOf(content: string): { N: number; r: number; p: number } | undefined {
  try {
    const json = JSON.parse(content) as { kdfparams?: ScryptParams; crypto?: { kdfparams?: ScryptParams }; Crypto?: { kdfparams?: ScryptParams } };
    const params = json.kdfparams ?? json.crypto?.kdfparams ?? json.Crypto?.kdfparams;
    return params === undefined ? undefined : { N: params.n, r: params.r, p: params.p };
  } catch {
    return undefined;
  }
}

/** Encrypts the member key as an Ethereum keystore v3 document (scrypt, aes-128-ctr), as geth and ethers write it. */
export async function encryptMemberKey(wallet: Wallet, passphrase: string, strength: KdfStrength): Promise<string> {
  const json = await encryptKeystoreJson({ address: wallet.address, privateKey: wallet.privateKey }, passphrase, { scrypt: kdfParams(strength) });
  return `${json}\n`;
}

/** Decrypts a keystore v3 member key. E_KEY_PASSPHRASE on a wrong passphrase, E_KEY_FORMAT on anything else wrong with it. */
export async function decryptMemberKey(content: string, passphrase: string, file: string): Promise<Wallet> {
  try {
    const account = await decryptKeystoreJson(content, passphrase);
    return new Wallet(account.privateKey);
  } catch (err) {
    // ethers redacts the password in its errors; ours carry neither it nor the file's contents.
    if (isError(err, "INVALID_ARGUMENT") && err.argument === "password") {
      throw new RiskshareError("E_KEY_PASSPHRASE", `${file} does not open with the passphrase given`, { file });
    }
    throw new RiskshareError("E_KEY_FORMAT", `${file} is not a readable keystore v3 document`, { file });
  }
}

function parseEnvelope(content: string, file: string): Envelope {
  let json: Partial<Envelope>;
  try {
    json = JSON.parse(content) as Partial<Envelope>;
  } catch {
    throw new RiskshareError("E_KEY_FORMAT", `${file} is not a sealed secret (not JSON)`, { file });
  }
  const hex = (value: unknown, bytes?: number): boolean => typeof value === "string" && /^([0-9a-f]{2})*$/.test(value) && (bytes === undefined || value.length === bytes * 2);
  const params = json.kdfparams;
  const valid = json.format === ENVELOPE_FORMAT && json.version === ENVELOPE_VERSION && (json.kind === "oprf" || json.kind === "journal")
    && Number.isSafeInteger(json.epoch) && json.kdf === "scrypt" && json.cipher === "aes-256-gcm"
    && params !== undefined && Number.isSafeInteger(params.n) && params.n >= 2 ** MIN_LOG_N && params.n <= 2 ** MAX_LOG_N && (params.n & (params.n - 1)) === 0
    && Number.isSafeInteger(params.r) && params.r >= 1 && params.r <= 16 && Number.isSafeInteger(params.p) && params.p >= 1 && params.p <= 16
    && params.dklen === AES_KEY_BYTES && hex(params.salt, SALT_BYTES)
    && hex(json.iv, GCM_IV_BYTES) && hex(json.tag, GCM_TAG_BYTES) && hex(json.ciphertext);
  if (!valid) throw new RiskshareError("E_KEY_FORMAT", `${file} is not a version ${ENVELOPE_VERSION} sealed secret, or its parameters are out of range`, { file });
  return json as Envelope;
}

/** The associated data: format, version, the secret's kind and epoch, and the KDF parameters. */
function associatedData(label: SecretLabel, params: ScryptParams): Buffer {
  return Buffer.from(JSON.stringify([ENVELOPE_FORMAT, ENVELOPE_VERSION, label.kind, label.epoch, "scrypt", params.n, params.r, params.p, params.salt]), "utf8");
}

function deriveKey(passphrase: string, params: ScryptParams): Promise<Buffer> {
  return new Promise((resolveKey, reject) => {
    // scrypt needs 128·N·r bytes; node's default cap (32 MiB) is below geth's standard cost.
    const maxmem = 128 * params.n * params.r * 2;
    scrypt(passphrase.normalize("NFKC"), Buffer.from(params.salt, "hex"), params.dklen, { N: params.n, r: params.r, p: params.p, maxmem }, (err, key) => (err ? reject(err) : resolveKey(key)));
  });
}
