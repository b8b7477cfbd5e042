/**
 * The compact form converted entries travel in between the import's threads (pipeline.ts, keys.ts)
 * and the main thread: one array per field, keys in one buffer, instead of an object (and three key
 * arrays) each. A batch leaves the reading thread with normalised identifiers and no keys; the
 * evaluating thread fills the keys and drops the identifiers.
 */
import type { EntryKeys } from "../../identity/index.ts";
import type { EntryInput } from "../entry.ts";
import type { UnkeyedEntry } from "./rows.ts";

/** Bytes of one entry's keys in {@link PackedEntries.keys}: entry id (32), tag (8), metadata key (32). */
export const PACKED_KEY_BYTES = 72;
const TAG_AT = 32;
const METADATA_KEY_AT = 40;

/** Converted entries: one array per field, keys in one transferable buffer. */
export interface PackedEntries {
  readonly types: string[];
  /** Normalised identifiers until the keys are filled in, then empty. */
  values: string[];
  /** {@link PACKED_KEY_BYTES} per entry; zero until filled in. */
  keys: Uint8Array;
  readonly categoryIds: Uint8Array;
  readonly levels: Uint8Array;
  readonly reasons: string[];
  readonly reportedAtSec: Float64Array;
  /** -1: never expires. */
  readonly expiresAtSec: Float64Array;
  readonly ownRefs: Array<string | null>;
}

/** Packs entries one by one into a {@link PackedEntries} of at most `capacity` entries. */
export class EntryPacker {
  readonly #capacity: number;
  #count = 0;
  readonly #packed: PackedEntries;

  constructor(capacity: number) {
    this.#capacity = capacity;
    this.#packed = {
      types: [], values: [], keys: new Uint8Array(0), categoryIds: new Uint8Array(capacity), levels: new Uint8Array(capacity),
      reasons: [], reportedAtSec: new Float64Array(capacity), expiresAtSec: new Float64Array(capacity), ownRefs: [],
    };
  }

  /** Appends one entry (its fields are copied: the entry may die young). */
  add(entry: UnkeyedEntry): void {
    const i = this.#count++;
    if (i >= this.#capacity) throw new RangeError("EntryPacker: over capacity");
    const packed = this.#packed;
    packed.types.push(entry.type);
    packed.values.push(entry.normalised);
    packed.categoryIds[i] = entry.categoryId;
    packed.levels[i] = entry.level;
    packed.reasons.push(entry.reason);
    packed.reportedAtSec[i] = entry.reportedAtSec;
    packed.expiresAtSec[i] = entry.expiresAtSec ?? -1;
    packed.ownRefs.push(entry.ownRef ?? null);
  }

  /** The entries packed so far. */
  take(): PackedEntries {
    return this.#packed;
  }
}

/** The keys of `types`/`values`, packed ({@link PACKED_KEY_BYTES} each), by `keysOf` (an evaluator's). */
export function packKeys(types: readonly string[], values: readonly string[], keysOf: (type: string, normalised: string) => EntryKeys): Uint8Array {
  const out = new Uint8Array(types.length * PACKED_KEY_BYTES);
  for (let i = 0; i < types.length; i++) {
    const keys = keysOf(types[i]!, values[i]!);
    const at = i * PACKED_KEY_BYTES;
    out.set(keys.entryId, at);
    out.set(keys.tag, at + TAG_AT);
    out.set(keys.metadataKey, at + METADATA_KEY_AT);
  }
  return out;
}

/** The entries of a keyed {@link PackedEntries}, back as objects (keys are views into `packed.keys`). */
export function unpackEntries(packed: PackedEntries): EntryInput[] {
  const entries: EntryInput[] = new Array(packed.types.length);
  const keys = packed.keys;
  if (keys.length !== entries.length * PACKED_KEY_BYTES) throw new RangeError("unpackEntries: the batch has no keys yet");
  for (let i = 0; i < entries.length; i++) {
    const expiresAtSec = packed.expiresAtSec[i]!;
    const at = i * PACKED_KEY_BYTES;
    entries[i] = {
      type: packed.types[i]!, entryId: keys.subarray(at, at + TAG_AT), tag: keys.subarray(at + TAG_AT, at + METADATA_KEY_AT),
      metadataKey: keys.subarray(at + METADATA_KEY_AT, at + PACKED_KEY_BYTES), categoryId: packed.categoryIds[i]!,
      level: packed.levels[i]! as EntryInput["level"], reason: packed.reasons[i]!, reportedAtSec: packed.reportedAtSec[i]!,
      expiresAtSec: expiresAtSec < 0 ? undefined : expiresAtSec, ownRef: packed.ownRefs[i] ?? undefined,
    };
  }
  return entries;
}
