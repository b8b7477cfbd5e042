/**
 * Phone numbers → E.164 ("+8613800138000"), through libphonenumber-js with its full ("max")
 * metadata: the "min" metadata only checks lengths, and accepts e.g. 10-digit CN "mobiles".
 *
 * The library version is pinned exactly: phoneMetadata.ts follows its parse and validity steps,
 * and test/unit/phone-validity.test.ts holds the two equal on ~90k numbers; rerun it on upgrade.
 */
import { parsePhoneNumberFromString } from "libphonenumber-js/core";
import maxMetadata from "libphonenumber-js/metadata.max.json";
import { accept, reject, type NormaliseResult } from "../errors.ts";
import type { NormaliseOptions } from "../options.ts";
import { CompiledPhoneMetadata } from "./phoneMetadata.ts";

/** Characters a written phone number may hold besides digits: "+", spaces, "-", ".", "/", "(", ")". */
const PHONE_CHARS = /^\+?[0-9 \-./()]+$/;
/** Extension markers libphonenumber understands; E.164 has no extensions, so we refuse them. */
const EXTENSION_MARK = /(?:ext|x|#|;|,)/i;
const MAX_PHONE_CHARS = 40;
/**
 * The library's parse and `isValid()` steps with regexps compiled once: the library rebuilds each
 * regexp on every call, which made a phone row several times dearer than it needs to be.
 */
const phoneMetadata = new CompiledPhoneMetadata(maxMetadata);

/** Normalises a phone number to E.164; numbers without "+" are read in `opts.defaultRegion`. */
export function normalisePhone(raw: string, opts: NormaliseOptions): NormaliseResult {
  // NFKC turns full-width digits and "＋" (common in CJK input) into ASCII.
  const text = raw.normalize("NFKC").trim();
  if (text.length === 0) return reject("empty");
  if (text.length > MAX_PHONE_CHARS) return reject("too_long");
  if (EXTENSION_MARK.test(text)) return reject("extension");
  if (!PHONE_CHARS.test(text)) return reject("characters");
  // Most numbers take the compiled path; the rest (national prefixes, "00"/"011" prefixes, shared
  // calling codes the library must disambiguate…) go through the library itself. The core entry with
  // the max metadata passed in is what "libphonenumber-js/max" calls, minus its argument shuffling.
  const parsed =
    phoneMetadata.parseCommon(text, opts.defaultRegion) ??
    parsePhoneNumberFromString(text, { defaultCountry: opts.defaultRegion, extract: false }, maxMetadata);
  if (parsed === undefined) return reject("format");
  if (parsed.ext !== undefined) return reject("extension");
  if (!phoneMetadata.isValid(parsed)) return reject("invalid_number");
  return accept(parsed.number);
}
