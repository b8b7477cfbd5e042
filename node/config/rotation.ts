/**
 * A key rotation prepared beside the serving store: `riskshare key rotate-oprf --prepare` builds the
 * next key epoch's store in db-next/ and keeps db-next.json beside it; `--commit` switches to it.
 * `riskshare key rotate-member --prepare` does the same for a move to a new member key: the store is
 * bound to the new account, and the marker names the account it moves from (`predecessor`).
 * The node reads the file to say in its health that a rotation waits.
 *
 * @example
 *   const prepared = await readRotationMarker(dataDir);
 *   if (prepared?.complete) … // `riskshare key rotate-oprf --commit` may switch to it
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { RiskshareError } from "../errors.ts";
import { exists, readFileIfExists } from "./files.ts";

/** Where the store of the next key epoch is built before it replaces the current one. */
export const NEXT_DB_DIR = "db-next";

/**
 * What `rotate-oprf --prepare` (or `rotate-member --prepare`) keeps beside the store it builds
 * (db-next.json): written when the import begins (complete false: an interrupted run resumes from
 * it) and again when it ends.
 */
export const preparedRotationSchema = z.object({
  version: z.literal(1),
  /** The account the store is bound to: this member's, or for a move the new account's. */
  account: z.string().regex(/^0x[0-9a-fA-F]{40}$/),
  /** A move to a new member key (`rotate-member`): the account it moves from. Absent for an OPRF key rotation. */
  predecessor: z.string().regex(/^0x[0-9a-fA-F]{40}$/).optional(),
  chainId: z.string().regex(/^[0-9]+$/),
  keyEpoch: z.number().int().min(2),
  oprfKey: z.string().regex(/^0x[0-9a-fA-F]{64}$/),
  /** The list files, as given: a run resumes only with the same ones. */
  files: z.array(z.string()),
  /** When the first run of the import began: list changes in the serving store from then on are not in the new one. */
  startedAtMs: z.number().int().nonnegative(),
  complete: z.boolean(),
  preparedAtMs: z.number().int().nonnegative().optional(),
  imported: z.array(z.object({ file: z.string(), added: z.number().int().nonnegative(), rejected: z.number().int().nonnegative(), workers: z.number().int().nonnegative() })),
});
export type PreparedRotation = z.infer<typeof preparedRotationSchema>;

/** db-next.json of a data dir. */
export function preparedRotationPath(dataDir: string): string {
  return join(dataDir, `${NEXT_DB_DIR}.json`);
}

/** db-next.json, complete or not, if it and db-next/ exist; E_ROTATION_NOT_PREPARED when it is unreadable. */
export async function readRotationMarker(dataDir: string): Promise<PreparedRotation | undefined> {
  const content = await readFileIfExists(preparedRotationPath(dataDir));
  if (content === undefined || !(await exists(join(dataDir, NEXT_DB_DIR)))) return undefined;
  return parseMarker(preparedRotationPath(dataDir), content.toString("utf8"));
}

/** {@link readRotationMarker}, synchronously (the node's health). */
export function readRotationMarkerSync(dataDir: string): PreparedRotation | undefined {
  const path = preparedRotationPath(dataDir);
  if (!existsSync(path) || !existsSync(join(dataDir, NEXT_DB_DIR))) return undefined;
  let content: string;
  try {
    content = readFileSync(path, "utf8");
  } catch {
    return undefined; // removed between the two calls: a commit finished
  }
  return parseMarker(path, content);
}

function parseMarker(path: string, content: string): PreparedRotation {
  let parsed: unknown;
  try {
    parsed = JSON.parse(content);
  } catch {
    throw new RiskshareError("E_ROTATION_NOT_PREPARED", `${path} is not JSON: the prepared store cannot be trusted`);
  }
  const checked = preparedRotationSchema.safeParse(parsed);
  if (!checked.success) throw new RiskshareError("E_ROTATION_NOT_PREPARED", `${path} is not a prepared rotation: ${checked.error.issues[0]?.path.join(".") || "(root)"} ${checked.error.issues[0]?.message ?? ""}`.trim());
  return checked.data;
}
