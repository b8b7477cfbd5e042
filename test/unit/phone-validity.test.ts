/**
 * normalisePhone parses and validates with libphonenumber-js's metadata through regexps compiled
 * once (node/identity/normalisers/phoneMetadata.ts), instead of the library's own calls, which
 * rebuild them every time. Hashes of phone numbers are shared across the consortium, so the result
 * must be exactly what the library's own path gives: this file keeps that path as the oracle and
 * compares the two on inputs of every shape, for every calling code and region in the metadata.
 */
import { expect } from "chai";
import fc from "fast-check";
import { Metadata, getCountries, getCountryCallingCode, parsePhoneNumberFromString, type CountryCode } from "libphonenumber-js/max";
import maxMetadata from "libphonenumber-js/metadata.max.json";
import mobileExamples from "libphonenumber-js/mobile/examples";
import { tryNormalise, type IdentifierRejectReason, type NormaliseOptions, type NormaliseResult } from "../../node/identity/index.ts";
import { Prng } from "../../scripts/bench/data.ts";

const reject = (reason: IdentifierRejectReason): NormaliseResult => ({ ok: false, reason });

/** normalisePhone as it was before the compiled path: the library's parse, then `isValid()`. */
function libraryNormalisePhone(raw: string, opts: NormaliseOptions): NormaliseResult {
  const text = raw.normalize("NFKC").trim();
  if (text.length === 0) return reject("empty");
  if (text.length > 40) return reject("too_long");
  if (/(?:ext|x|#|;|,)/i.test(text)) return reject("extension");
  if (!/^\+?[0-9 \-./()]+$/.test(text)) return reject("characters");
  const parsed = parsePhoneNumberFromString(text, { defaultCountry: opts.defaultRegion, extract: false });
  if (parsed === undefined) return reject("format");
  if (parsed.ext !== undefined) return reject("extension");
  if (!parsed.isValid()) return reject("invalid_number");
  return { ok: true, value: parsed.number };
}

/** Small deterministic PRNG (mulberry32): the same inputs on every run. */
function prng(seed: number): () => number {
  const rng = new Prng(seed);
  return () => rng.next();
}

/** The plan accessors the generator reads (the library's Metadata class; its typings omit them). */
interface PlanView {
  type(name: (typeof NUMBER_TYPES)[number]): { pattern(): string } | undefined;
  nationalPrefix(): string | undefined;
  defaultIDDPrefix(): string | undefined;
  IDDPrefix(): string;
}

type Case = readonly [raw: string, defaultRegion: CountryCode | undefined];

/** The number types a plan may list (the names libphonenumber's `type()` accepts). */
const NUMBER_TYPES = ["MOBILE", "FIXED_LINE", "PREMIUM_RATE", "TOLL_FREE", "SHARED_COST", "VOIP", "PERSONAL_NUMBER", "PAGER", "UAN", "VOICEMAIL"] as const;
/** Common international call prefixes, besides each region's own, to write numbers the way callers dial them. */
const IDD_PREFIXES = ["00", "011", "010", "001", "0011", "002", "009", "810", "119", "000"];
const SEPARATORS = [" ", "-", ".", "/", " - "];
/** The phone rows of identity.test.ts, and shapes near the edges of what parses. */
const FIXTURES = [
  "138 0013 8000", "13800138000", "+86-138-0013-8000", "+86 (138) 0013 8000", "008613800138000", "0086 138 0013 8000",
  "  +8613800138000  ", "１３８００１３８０００", "+86 199 1234 5678", "010 1234 5678", "(010) 1234-5678", "0086 10 1234 5678",
  "021-6888-8888", "+1 202 555 0100", "+44 20 7946 0958", "0044 20 7946 0958", "(202) 555-0100", "011 86 138 0013 8000",
  "", "   ", "12345678", "1380013800", "+86 138 0013 800", "138 0013 8000 ext. 123", "+86 10 8888 8888 x12",
  "13800138000#123", "tel:+8613800138000", "138O0138000", "+()", "1".repeat(41),
  "+", "++86", "+0", "+01234567", "0", "00", "000", "1", "12", "(12)", "1-2", "123", "+12", "+123", "+1234", "(1)2", "+8", "86", "8613800138000",
  "86 138 0013 8000", "17951 138 0013 8000", "1795113800138000", "+86 0 10 1234 5678", "+44 (0)20 7946 0958", "+800 1234 5678",
  "+1 604 555 0123", "+1 268 464 1234", "+7 701 123 4567", "+44 7700 900123", "+44 1534 123456", "+39 06 698 12345", "+262 269 12 34 56",
];

/** Every region and calling code, in every way people write numbers, each read in a few default regions. */
function generateCases(): Case[] {
  const random = prng(0x5eed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const digits = (count: number) => Array.from({ length: count }, () => Math.floor(random() * 10)).join("");
  /** Random separators between digits, sometimes brackets round the first group. */
  const punctuate = (number: string): string => {
    if (random() < 0.5) return number;
    const plus = number.startsWith("+") ? "+" : "";
    const body = number.slice(plus.length);
    let out = "";
    for (let i = 0; i < body.length; i++) out += (i > 0 && random() < 0.25 ? pick(SEPARATORS) : "") + body[i];
    if (random() < 0.2) {
      const cut = 1 + Math.floor(random() * Math.min(4, body.length));
      out = `(${body.slice(0, cut)}) ${body.slice(cut)}`;
    }
    return plus + out;
  };

  // "ZZ" is no region: the library then reads national numbers as if no default region were given.
  const cases: Case[] = FIXTURES.flatMap((raw) => [[raw, "CN"], [raw, "US"], [raw, undefined], [raw, "ZZ" as CountryCode]] as const);
  const metadata = new Metadata();
  const someRegions: readonly (CountryCode | undefined)[] = ["CN", "US", "GB", "DE", "AR", undefined];
  for (const region of getCountries()) {
    metadata.selectNumberingPlan(region);
    const plan = metadata.numberingPlan as unknown as PlanView;
    const callingCode = getCountryCallingCode(region);
    const nationalPrefix = plan.nationalPrefix() || "";
    const idd = [plan.defaultIDDPrefix(), plan.IDDPrefix(), ...IDD_PREFIXES].filter((p): p is string => typeof p === "string" && /^\d+$/.test(p));
    // Numbers of every type the region lists, drawn from the metadata's own patterns: mostly valid ones.
    const typed = NUMBER_TYPES.flatMap((name) => {
      const pattern = plan.type(name)?.pattern();
      return pattern ? fc.sample(fc.stringMatching(new RegExp(`^(?:${pattern})$`)), { numRuns: 12, seed: random() * 2 ** 31 }) : [];
    });
    const example = mobileExamples[region] as string | undefined;

    // Edges: nothing but the calling code and/or the national prefix.
    for (const edge of [callingCode, nationalPrefix + callingCode, callingCode + nationalPrefix, `+${callingCode}${nationalPrefix}`]) cases.push([edge, region]);
    // The library's own national, international and dial-from-abroad spellings (e.g. AR mobiles as "011 15-2345-6789").
    for (const national of typed) {
      const phone = parsePhoneNumberFromString(`+${callingCode}${national}`);
      if (phone === undefined) continue;
      cases.push([phone.formatNational(), region], [phone.formatInternational(), pick(someRegions)]);
      const from = pick(getCountries());
      const dialled = phone.format("IDD", { fromCountry: from }) as string | undefined; // undefined when `from` has no default prefix
      if (dialled !== undefined) cases.push([dialled, from]);
    }
    for (let i = 0; i < 200; i++) {
      // A typed number, a mobile example with its tail replaced (sometimes a digit more or fewer), or any digits.
      let body: string;
      const source = random();
      if (source < 0.35 && typed.length > 0) {
        body = pick(typed);
      } else if (source < 0.7 && example !== undefined) {
        const tail = 1 + Math.floor(random() * 5);
        const resize = random() < 0.15 ? Math.floor(random() * 3) - 1 : 0;
        body = example.slice(0, Math.max(1, example.length - tail)) + digits(Math.max(0, tail + resize));
      } else {
        body = digits(4 + Math.floor(random() * 14));
      }
      const shape = Math.floor(random() * 9);
      if (shape === 0) cases.push([punctuate(body), region]);
      else if (shape === 1) cases.push([punctuate(nationalPrefix + body), region]);
      else if (shape === 2) cases.push([punctuate(`+${callingCode}${body}`), pick(someRegions)]);
      else if (shape === 3) cases.push([punctuate(`+${callingCode}${nationalPrefix}${body}`), region]);
      else if (shape === 4) cases.push([punctuate(`${callingCode}${body}`), region]);
      else if (shape === 5) cases.push([punctuate(`${callingCode}${nationalPrefix}${body}`), region]);
      else if (shape === 6) cases.push([punctuate(`${pick(idd)}${callingCode}${body}`), region]);
      else if (shape === 7) cases.push([punctuate(body.slice(Math.floor(random() * 4))), region]); // local dialling: area code left off
      else cases.push([punctuate(body), pick(someRegions)]);
    }
  }
  // Non-geographic calling codes (+800, +882…), which have no region.
  for (const callingCode of Object.keys(maxMetadata.nonGeographic)) {
    for (let i = 0; i < 300; i++) cases.push([punctuate(`+${callingCode}${digits(4 + Math.floor(random() * 12))}`), pick(someRegions)]);
  }
  return cases;
}

describe("phone normalisation through compiled metadata", () => {
  it("gives exactly the library's result for every calling code, region and written shape", function () {
    this.timeout(60_000);
    const cases = generateCases();
    const mismatches: string[] = [];
    const reasons = new Map<string, number>();
    for (const [raw, defaultRegion] of cases) {
      const opts = { defaultRegion };
      const expected = libraryNormalisePhone(raw, opts);
      const actual = tryNormalise("phone", raw, opts);
      const outcome = expected.ok ? "ok" : expected.reason;
      reasons.set(outcome, (reasons.get(outcome) ?? 0) + 1);
      if (JSON.stringify(actual) !== JSON.stringify(expected) && mismatches.length < 20) {
        mismatches.push(`${JSON.stringify(raw)} in ${defaultRegion}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
      }
    }
    expect(mismatches, mismatches.join("\n")).to.deep.equal([]);
    // The comparison only means something if the inputs reach every outcome, valid numbers included.
    expect(cases.length).to.be.at.least(80_000);
    expect(reasons.get("ok") ?? 0, "accepted numbers").to.be.at.least(15_000);
    expect(reasons.get("invalid_number") ?? 0, "invalid numbers").to.be.at.least(15_000);
    expect(reasons.get("format") ?? 0, "unparseable numbers").to.be.at.least(500);
  });
});
