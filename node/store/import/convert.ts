/**
 * The compact form converted entries travel in from the import worker (pipeline.ts) to the main
 * thread: one array per field, hashes in one buffer, instead of an object (and a hash array) each.
 */
import type { EntryInput } from "../entry.ts";

/** Converted entries as the worker sends them: one array per field, hashes in one transferred buffer. */
export interface PackedEntries {
  readonly types: string[];
  readonly hashes: Uint8Array;
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
      types: [], hashes: new Uint8Array(capacity * 32), categoryIds: new Uint8Array(capacity), levels: new Uint8Array(capacity),
      reasons: [], reportedAtSec: new Float64Array(capacity), expiresAtSec: new Float64Array(capacity), ownRefs: [],
    };
  }

  /** Appends one entry (its fields are copied: the entry may die young). */
  add(entry: EntryInput): void {
    const i = this.#count++;
    if (i >= this.#capacity) throw new RangeError("EntryPacker: over capacity");
    const packed = this.#packed;
    packed.types.push(entry.type);
    packed.hashes.set(entry.hash, i * 32);
    packed.categoryIds[i] = entry.categoryId;
    packed.levels[i] = entry.level;
    packed.reasons.push(entry.reason);
    packed.reportedAtSec[i] = entry.reportedAtSec;
    packed.expiresAtSec[i] = entry.expiresAtSec ?? -1;
    packed.ownRefs.push(entry.ownRef ?? null);
  }

  /** The entries packed so far (transfer `hashes.buffer` to send them to another thread). */
  take(): PackedEntries {
    return this.#packed;
  }
}

/** The entries of a {@link PackedEntries}, back as objects. */
export function unpackEntries(packed: PackedEntries): EntryInput[] {
  const entries: EntryInput[] = new Array(packed.types.length);
  for (let i = 0; i < entries.length; i++) {
    const expiresAtSec = packed.expiresAtSec[i]!;
    entries[i] = {
      type: packed.types[i]!, hash: packed.hashes.subarray(i * 32, i * 32 + 32), categoryId: packed.categoryIds[i]!,
      level: packed.levels[i]! as EntryInput["level"], reason: packed.reasons[i]!, reportedAtSec: packed.reportedAtSec[i]!,
      expiresAtSec: expiresAtSec < 0 ? undefined : expiresAtSec, ownRef: packed.ownRefs[i] ?? undefined,
    };
  }
  return entries;
}
