/**
 * libphonenumber-js's parse and `isValid()` steps over its metadata, with the regular expressions
 * compiled once per numbering plan instead of on every call.
 *
 * Why: the library's `matchesEntirely` runs `new RegExp("^(?:" + pattern + ")$")` each time, over
 * patterns that run to kilobytes (CN fixed lines), and V8 hashes the whole pattern text to find its
 * cached regexp each time; with the wrappers around `parse()` that made a phone row ~15 µs, mostly
 * regexp set-up. Nothing here is a numbering rule of ours: every pattern, prefix and calling code
 * is read through the library's own `Metadata` class, and each step names the library function
 * (libphonenumber-js 1.13) whose logic it repeats. test/unit/phone-validity.test.ts compares the
 * result with the library's own `parsePhoneNumberFromString(...).isValid()` on every calling code
 * and region, so a library upgrade that changes that logic fails the test instead of a hash.
 */
import { Metadata, isSupportedCountry, type CountryCode, type MetadataJson } from "libphonenumber-js/core";

/** The fields of libphonenumber's `PhoneNumber` that normalisation reads. */
export interface ParsedPhone {
  readonly country?: CountryCode | undefined;
  readonly countryCallingCode: string;
  readonly nationalNumber: string;
  /** E.164: "+", calling code, national number. */
  readonly number: string;
  readonly ext?: string | undefined;
}

/** The type names `getNumberType()` tries (its `type()` accessor maps them to metadata slots). */
const NUMBER_TYPES = [
  "MOBILE", "FIXED_LINE", "PREMIUM_RATE", "TOLL_FREE", "SHARED_COST", "VOIP", "PERSONAL_NUMBER", "PAGER", "UAN", "VOICEMAIL",
] as const;
type NumberTypeName = (typeof NUMBER_TYPES)[number];

/**
 * The `Metadata` and numbering-plan accessors we call. They are the library's public class, but its
 * typings declare only `selectNumberingPlan` and an untyped `numberingPlan`.
 */
interface MetadataView {
  selectNumberingPlan(planKey: string): void;
  hasCallingCode(callingCode: string): boolean | undefined;
  getCountryCodesForCallingCode(callingCode: string): readonly CountryCode[] | undefined;
  numberingPlan: NumberingPlanView | undefined;
}
interface NumberingPlanView {
  callingCode(): string;
  IDDPrefix(): string;
  nationalPrefixForParsing(): string | undefined;
  leadingDigits(): string | undefined;
  nationalNumberPattern(): string;
  possibleLengths(): readonly number[] | undefined;
  hasTypes(): boolean;
  type(type: NumberTypeName): { pattern(): string; possibleLengths(): readonly number[] | undefined } | undefined;
}

/** One number type of a plan: its whole-string pattern, and the national lengths it allows (none listed: any). */
interface TypeCheck {
  readonly pattern: RegExp;
  readonly lengths: readonly number[] | undefined;
}

/** One numbering plan with its regexps compiled from exactly the source text the library builds. */
interface CompiledPlan {
  readonly callingCode: string;
  /** stripIddPrefix: `new RegExp(IDDPrefix())`, a match at index 0 means an international prefix. */
  readonly iddPrefix: RegExp;
  /** extractNationalNumberFromPossiblyIncompleteNumber: national prefix or carrier code at the start. */
  readonly nationalPrefix: RegExp | undefined;
  /** getCountryByNationalNumber: `nationalNumber.search(leadingDigits())`. */
  readonly leadingDigits: RegExp | undefined;
  /** possibleLengths() of the plan as a whole, for checkNumberLength. */
  readonly possibleLengths: readonly number[] | undefined;
  /** matchesEntirely(nationalNumber, nationalNumberPattern()). */
  readonly nationalNumber: RegExp;
  /** isNumberTypeEqualTo for every type with a pattern; undefined when the plan has no types. */
  readonly types: readonly TypeCheck[] | undefined;
}

/** The national (significant) number length limits of parse.js (MIN_LENGTH_FOR_NSN, MAX_LENGTH_FOR_NSN). */
const MIN_NATIONAL_DIGITS = 2;
const MAX_NATIONAL_DIGITS = 17;
/** Longest calling code parse.js tries (MAX_LENGTH_COUNTRY_CODE). */
const MAX_CALLING_CODE_DIGITS = 3;
/** The characters parseCommon's reading of parse.js holds for (normalisePhone allows no others either). */
const PLAIN_NUMBER = /^\+?[0-9 \-./()]*$/;
const NON_DIGITS = /[^0-9]/g;

/** The library's `matchesEntirely` regexp, compiled once: same source text, same (absent) flags. */
function wholeMatch(pattern: string): RegExp {
  return new RegExp("^(?:" + pattern + ")$");
}

/** A number type matches when its length list (if any) has the number's length and its pattern matches (isNumberTypeEqualTo). */
function anyTypeMatches(types: readonly TypeCheck[], nationalNumber: string): boolean {
  for (const type of types) {
    if (type.lengths !== undefined && !type.lengths.includes(nationalNumber.length)) continue;
    if (type.pattern.test(nationalNumber)) return true;
  }
  return false;
}

/**
 * checkNumberLength without a number type: how `length` compares with a plan's possible lengths
 * (sorted ascending in the metadata; the library trusts that, and so do we).
 */
function checkNumberLength(length: number, possibleLengths: readonly number[] | undefined): "IS_POSSIBLE" | "TOO_SHORT" | "TOO_LONG" | "INVALID_LENGTH" {
  if (!possibleLengths) return "IS_POSSIBLE";
  const shortest = possibleLengths[0];
  const longest = possibleLengths[possibleLengths.length - 1];
  if (shortest === undefined || longest === undefined) return "INVALID_LENGTH"; // [] (never in the metadata): nothing is possible
  if (shortest === length) return "IS_POSSIBLE";
  if (shortest > length) return "TOO_SHORT";
  if (longest < length) return "TOO_LONG";
  return possibleLengths.indexOf(length, 1) >= 0 ? "IS_POSSIBLE" : "INVALID_LENGTH";
}

/** Parsing and validation over one libphonenumber metadata object, each plan compiled on first use. */
export class CompiledPhoneMetadata {
  readonly #json: MetadataJson;
  /** For calling-code look-ups only; never has a plan selected, so it holds no per-call state. */
  readonly #lookup: MetadataView;
  /** By region or calling code: a few hundred plans at most, so the cache needs no bound. */
  readonly #plans = new Map<string, CompiledPlan>();

  constructor(json: MetadataJson) {
    this.#json = json;
    this.#lookup = new Metadata(json) as unknown as MetadataView;
  }

  /**
   * Same answer as libphonenumber's `PhoneNumber#isValid()` (isValid.js, helpers/getNumberType.js):
   * the national number matches its plan's pattern and, when the plan lists number types, one of them.
   * Which type matches only changes the name getNumberType returns, so types are tried mobile first.
   */
  isValid(phone: ParsedPhone): boolean {
    // isValid.js selects the plan by region when the parse found one, else by calling code.
    const plan = this.#plan(phone.country || phone.countryCallingCode);
    if (!plan.nationalNumber.test(phone.nationalNumber)) return false;
    return plan.types === undefined || anyTypeMatches(plan.types, phone.nationalNumber);
  }

  /**
   * What `parsePhoneNumberFromString(text, { defaultCountry, extract: false })` returns, for the
   * shapes it can derive without the library's regexp rebuilding; `undefined` means "ask the
   * library", never "unparseable". The steps the library takes only for unusual input (a carrier
   * code, an international prefix followed by "0", an empty remainder…) are left to it.
   *
   * Only text made of an optional leading "+", ASCII digits and " -./()" is taken: in such text
   * parse.js finds no RFC 3966 context and no extension, and its viability check passes whenever
   * there are at least three digits. Anything else goes to the library.
   */
  parseCommon(text: string, defaultRegion: string | undefined): ParsedPhone | undefined {
    if (!PLAIN_NUMBER.test(text)) return undefined;
    // parseIncompletePhoneNumber: digits only ("+" can only be the first character here).
    const digits = text.replace(NON_DIGITS, "");
    if (digits.length < 3) return undefined;
    if (text.charCodeAt(0) === 0x2b /* "+" */) return this.#international(digits);
    // parsePhoneNumber_.js drops an unsupported default country; with none, national digits do not parse.
    if (defaultRegion === undefined || !isSupportedCountry(defaultRegion as CountryCode, this.#json)) return undefined;
    const plan = this.#plan(defaultRegion);
    // stripIddPrefix: an international call prefix ("00" in CN) makes the rest a "+" number, unless a "0" follows.
    const idd = plan.iddPrefix.exec(digits);
    if (idd !== null && idd.index === 0) {
      const rest = digits.slice(idd[0].length);
      if (idd[0].length === 0 || rest.length === 0 || rest.charCodeAt(0) === 0x30 /* "0" */) return undefined;
      return this.#international(rest);
    }
    // extractCountryCallingCodeFromInternationalNumberWithoutPlusSign: "8613800138000" in CN may be "+86…" without its "+".
    if (digits.startsWith(plan.callingCode)) return this.#withoutPlusSign(digits, plan, defaultRegion);
    return this.#resolve(plan.callingCode, digits, defaultRegion);
  }

  /** extractCountryCallingCode for a "+" number: the first 1–3 digit prefix that is a known calling code. */
  #international(digits: string): ParsedPhone | undefined {
    if (digits.charCodeAt(0) === 0x30 /* "0" */) return undefined; // no calling code starts with 0: the library rejects it
    for (let length = 1; length <= MAX_CALLING_CODE_DIGITS && length <= digits.length; length++) {
      const callingCode = digits.slice(0, length);
      if (this.#lookup.hasCallingCode(callingCode)) return this.#resolve(callingCode, digits.slice(length), undefined);
    }
    return undefined;
  }

  /**
   * extractCountryCallingCodeFromInternationalNumberWithoutPlusSign: national digits that begin with
   * the region's own calling code are read as "+" digits when that makes a valid-looking national
   * number out of an invalid one, or when the whole is too long for the region.
   */
  #withoutPlusSign(digits: string, plan: CompiledPlan, region: string): ParsedPhone | undefined {
    const shorter = digits.slice(plan.callingCode.length);
    if (shorter.length === 0) return undefined;
    const shorterNational = this.#extractNationalNumber(shorter, plan);
    const national = this.#extractNationalNumber(digits, plan);
    if (shorterNational === undefined || national === undefined) return undefined;
    const readAsInternational =
      (!plan.nationalNumber.test(national) && plan.nationalNumber.test(shorterNational)) ||
      checkNumberLength(national.length, plan.possibleLengths) === "TOO_LONG";
    // Read as "+": parse.js then selects the plan by calling code, as for any "+" number.
    return readAsInternational ? this.#resolve(plan.callingCode, shorter, undefined) : this.#resolve(plan.callingCode, digits, region);
  }

  /**
   * parse.js after the calling code is known: extractNationalNumber, the length checks, then
   * getCountryByCallingCode; `region` is the default region a national number was read in.
   */
  #resolve(callingCode: string, number: string, region: string | undefined): ParsedPhone | undefined {
    if (number.length === 0) return undefined;
    // parse.js selected the default region's plan for a national number, the calling code's for a "+" number.
    const nationalNumber = this.#extractNationalNumber(number, this.#plan(region ?? callingCode));
    if (nationalNumber === undefined) return undefined;
    if (nationalNumber.length < MIN_NATIONAL_DIGITS || nationalNumber.length > MAX_NATIONAL_DIGITS) return undefined;
    const country = this.#countryByCallingCode(callingCode, nationalNumber) ?? (region as CountryCode | undefined);
    return { country, countryCallingCode: callingCode, nationalNumber, number: "+" + callingCode + nationalNumber };
  }

  /**
   * extractNationalNumber (with extractNationalNumberFromPossiblyIncompleteNumber): strips a national
   * prefix ("0" in "010…") unless the number only looked valid with it, or is too short without it.
   * `undefined` when the prefix pattern captured a carrier code or rewrites the number: the library decides.
   */
  #extractNationalNumber(number: string, plan: CompiledPlan): string | undefined {
    if (plan.nationalPrefix === undefined) return number;
    const prefix = plan.nationalPrefix.exec(number);
    if (prefix === null) return number;
    // The library looks only at the last group to tell whether the pattern captured anything.
    const lastGroup = prefix.length - 1;
    if (lastGroup > 0 && prefix[lastGroup]) return undefined;
    const nationalNumber = number.slice(prefix[0].length);
    if (nationalNumber === number) return number;
    if (nationalNumber.length === 0) return undefined;
    // shouldHaveExtractedNationalPrefix: keep the prefix when it is what made the number match.
    if (plan.nationalNumber.test(number) && !plan.nationalNumber.test(nationalNumber)) return number;
    if (plan.possibleLengths) {
      const country = this.#countryByCallingCode(plan.callingCode, nationalNumber);
      const lengths = country ? this.#plan(country).possibleLengths : plan.possibleLengths;
      const length = checkNumberLength(nationalNumber.length, lengths);
      if (length === "TOO_SHORT" || length === "INVALID_LENGTH") return number;
    }
    return nationalNumber;
  }

  /**
   * getCountryByCallingCode / getCountryByNationalNumber: the only region of a calling code, or the
   * first of several whose leading digits or number types match; undefined for non-geographic codes.
   */
  #countryByCallingCode(callingCode: string, nationalNumber: string): CountryCode | undefined {
    const regions = this.#lookup.getCountryCodesForCallingCode(callingCode);
    if (regions === undefined) return undefined;
    if (regions.length === 1) return regions[0];
    for (const region of regions) {
      const plan = this.#plan(region);
      if (plan.leadingDigits !== undefined) {
        if (nationalNumber.search(plan.leadingDigits) === 0) return region;
      } else if (this.#hasNumberType(plan, nationalNumber)) {
        return region;
      }
    }
    return undefined;
  }

  /** `getNumberType(...) !== undefined`: unlike isValid, a plan without types has no type to match. */
  #hasNumberType(plan: CompiledPlan, nationalNumber: string): boolean {
    return plan.nationalNumber.test(nationalNumber) && plan.types !== undefined && anyTypeMatches(plan.types, nationalNumber);
  }

  /** The compiled plan `selectNumberingPlan(planKey)` selects; `planKey` is a region or a calling code. */
  #plan(planKey: string): CompiledPlan {
    let plan = this.#plans.get(planKey);
    if (plan === undefined) this.#plans.set(planKey, (plan = this.#compile(planKey)));
    return plan;
  }

  #compile(planKey: string): CompiledPlan {
    const metadata = new Metadata(this.#json) as unknown as MetadataView;
    metadata.selectNumberingPlan(planKey);
    const plan = metadata.numberingPlan!;
    const nationalPrefix = plan.nationalPrefixForParsing();
    const leadingDigits = plan.leadingDigits();
    let types: TypeCheck[] | undefined;
    if (plan.hasTypes()) {
      types = [];
      for (const name of NUMBER_TYPES) {
        const type = plan.type(name);
        // isNumberTypeEqualTo: an absent type or an empty pattern (a de-duplicated mobile pattern) never matches.
        if (type === undefined || !type.pattern()) continue;
        types.push({ pattern: wholeMatch(type.pattern()), lengths: type.possibleLengths() || undefined });
      }
    }
    return {
      callingCode: plan.callingCode(),
      iddPrefix: new RegExp(plan.IDDPrefix()),
      nationalPrefix: nationalPrefix ? new RegExp("^(?:" + nationalPrefix + ")") : undefined,
      leadingDigits: leadingDigits ? new RegExp(leadingDigits) : undefined,
      possibleLengths: plan.possibleLengths(),
      nationalNumber: wholeMatch(plan.nationalNumberPattern()),
      types,
    };
  }
}
