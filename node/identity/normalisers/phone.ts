/**
 * Phone numbers → E.164 ("+8613800138000"), through libphonenumber-js with its full ("max")
 * metadata: the "min" metadata only checks lengths, and accepts e.g. 10-digit CN "mobiles".
 */
import { parsePhoneNumberFromString } from "libphonenumber-js/max";
import { accept, reject, type NormaliseResult } from "../errors.ts";
import type { NormaliseOptions } from "../options.ts";

/** Characters a written phone number may hold besides digits: "+", spaces, "-", ".", "/", "(", ")". */
const PHONE_CHARS = /^\+?[0-9 \-./()]+$/;
/** Extension markers libphonenumber understands; E.164 has no extensions, so we refuse them. */
const EXTENSION_MARK = /(?:ext|x|#|;|,)/i;
const MAX_PHONE_CHARS = 40;

/** Normalises a phone number to E.164; numbers without "+" are read in `opts.defaultRegion`. */
export function normalisePhone(raw: string, opts: NormaliseOptions): NormaliseResult {
  // NFKC turns full-width digits and "＋" (common in CJK input) into ASCII.
  const text = raw.normalize("NFKC").trim();
  if (text.length === 0) return reject("empty");
  if (text.length > MAX_PHONE_CHARS) return reject("too_long");
  if (EXTENSION_MARK.test(text)) return reject("extension");
  if (!PHONE_CHARS.test(text)) return reject("characters");
  const parsed = parsePhoneNumberFromString(text, { defaultCountry: opts.defaultRegion, extract: false });
  if (parsed === undefined) return reject("format");
  if (parsed.ext !== undefined) return reject("extension");
  if (!parsed.isValid()) return reject("invalid_number");
  return accept(parsed.number);
}
