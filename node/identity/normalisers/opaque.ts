/**
 * Opaque identifiers (device ids, merchant ids, account numbers): the institution's own strings,
 * compared exactly. Only surrounding whitespace goes; case and inner content are kept, because two
 * systems may well treat "AbC" and "abc" as different accounts.
 */
import { accept, reject, type NormaliseResult } from "../errors.ts";

/** Control, format, surrogate, private-use and unassigned code points: never part of a printable id. */
const NOT_PRINTABLE = /\p{C}/u;

/** A normaliser for an opaque type allowing at most `maxChars` characters after trimming. */
export function opaqueNormaliser(maxChars: number): (raw: string) => NormaliseResult {
  return (raw) => {
    const text = raw.trim();
    if (text.length === 0) return reject("empty");
    if (text.length > maxChars) return reject("too_long");
    if (NOT_PRINTABLE.test(text)) return reject("characters");
    return accept(text);
  };
}
