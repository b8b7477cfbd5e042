import { inspect } from "node:util";
import { expect } from "chai";
import fc from "fast-check";
import {
  BUILTIN_IDENTIFIER_TYPES,
  EntryKeyEvaluator,
  createVoprf,
  expandEntryKeys,
  oprfInput,
  IDENTIFIER_TYPES,
  IdentifierRegistry,
  defaultIdentifierRegistry,
  luhnValid,
  nationalIdCheckChar,
  normalise,
  tryNormalise,
  type IdentifierRejectReason,
  type NormaliseOptions,
} from "../../node/identity/index.ts";
import { isRiskshareError } from "../../node/errors.ts";

/** Birth dates are checked against "now"; pinning it keeps the tables stable. */
const NOW_MS = Date.UTC(2025, 5, 1);
const CN: NormaliseOptions = { defaultRegion: "CN", nowMs: NOW_MS };
const voprf = await createVoprf();
const SECRET_KEY = voprf.deriveKeyPair(Uint8Array.from({ length: 32 }, (_, i) => i + 1), new TextEncoder().encode("identity test")).secretKey;
const evaluator = await EntryKeyEvaluator.create({ secretKey: SECRET_KEY, context: { chainId: 31337n, providerAddress: "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266", keyEpoch: 1 } });

type Valid = readonly [type: string, raw: string, normal: string];
type Invalid = readonly [type: string, raw: string, reason: IdentifierRejectReason];

const VALID: readonly Valid[] = [
  // phone: one CN mobile in every spelling people use
  ["phone", "138 0013 8000", "+8613800138000"],
  ["phone", "13800138000", "+8613800138000"],
  ["phone", "+86-138-0013-8000", "+8613800138000"],
  ["phone", "+86 (138) 0013 8000", "+8613800138000"],
  ["phone", "008613800138000", "+8613800138000"],
  ["phone", "0086 138 0013 8000", "+8613800138000"],
  ["phone", "  +8613800138000  ", "+8613800138000"],
  ["phone", "１３８００１３８０００", "+8613800138000"], // full-width digits (CJK input methods)
  ["phone", "+86 199 1234 5678", "+8619912345678"],
  // phone: CN landlines keep their area code, without the trunk 0
  ["phone", "010 1234 5678", "+861012345678"],
  ["phone", "(010) 1234-5678", "+861012345678"],
  ["phone", "0086 10 1234 5678", "+861012345678"],
  ["phone", "021-6888-8888", "+862168888888"],
  // phone: other regions, international format and "00" prefix
  ["phone", "+1 202 555 0100", "+12025550100"],
  ["phone", "+44 20 7946 0958", "+442079460958"],
  ["phone", "0044 20 7946 0958", "+442079460958"],

  ["national_id", "11010519491231002X", "11010519491231002X"],
  ["national_id", "11010519491231002x", "11010519491231002X"], // lower-case x becomes X
  ["national_id", " 440524198001010013 ", "440524198001010013"],
  ["national_id", "310115198002291235", "310115198002291235"], // 29 Feb of a leap year
  ["national_id", "610101200002290016", "610101200002290016"], // 2000 is a leap year
  ["national_id", "810000199001010019", "810000199001010019"], // Hong Kong residence permit

  ["bank_card", "4111 1111 1111 1111", "4111111111111111"],
  ["bank_card", "4111-1111-1111-1111", "4111111111111111"],
  ["bank_card", "6222021234567890128", "6222021234567890128"], // 19 digits
  ["bank_card", "500000000009", "500000000009"], // 12 digits
  ["bank_card", "3714 496353 98431", "371449635398431"], // 15 digits (Amex grouping)

  ["email", "  Alice.Smith@Example.COM ", "alice.smith@example.com"],
  ["email", "a+tag@sub.example.cn", "a+tag@sub.example.cn"], // tags are kept: not every provider folds them
  ["email", "用户@例子.中国", "用户@xn--fsqu00a.xn--fiqs8s"], // IDN domain in ASCII form
  ["email", "Ａ＠ＥＸＡＭＰＬＥ．ＣＯＭ", "a@example.com"],

  ["device_id", "  AbC-123_x  ", "AbC-123_x"],
  ["device_id", "4f3c2a1e-9b8d-4c7a-8e6f-5d4c3b2a1f0e", "4f3c2a1e-9b8d-4c7a-8e6f-5d4c3b2a1f0e"],

  ["ip", "192.0.2.1", "192.0.2.1"],
  ["ip", " 0.0.0.0 ", "0.0.0.0"],
  ["ip", "255.255.255.255", "255.255.255.255"],
  ["ip", "2001:0DB8:0000:0000:0000:0000:0000:0001", "2001:db8::1"],
  ["ip", "2001:db8::0:1", "2001:db8::1"],
  ["ip", "2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"], // equal runs: the first one is compressed
  ["ip", "1:0:0:2:0:0:0:3", "1:0:0:2::3"], // the longest run is compressed
  ["ip", "2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"], // a single zero group is never "::"
  ["ip", "1::2:3:4:5:6:7", "1:0:2:3:4:5:6:7"],
  ["ip", "::", "::"],
  ["ip", "::1", "::1"],
  ["ip", "::ffff:192.0.2.1", "192.0.2.1"], // IPv4-mapped IPv6 is the IPv4 host
  ["ip", "::FFFF:c000:0201", "192.0.2.1"],
  ["ip", "64:ff9b::192.0.2.33", "64:ff9b::c000:221"], // other embedded IPv4 in hex groups

  ["merchant_id", "  MCH-0042 ", "MCH-0042"],
  ["merchant_id", "商户123", "商户123"],
  ["account", "Acct-0001", "Acct-0001"],
  ["account", "acct-0001", "acct-0001"], // case is kept: a different account
];

const INVALID: readonly Invalid[] = [
  ["phone", "", "empty"],
  ["phone", "   ", "empty"],
  ["phone", "12345678", "invalid_number"], // a CN landline without area code
  ["phone", "1380013800", "invalid_number"], // 10-digit "mobile"
  ["phone", "+86 138 0013 800", "invalid_number"],
  ["phone", "138 0013 8000 ext. 123", "extension"],
  ["phone", "+86 10 8888 8888 x12", "extension"],
  ["phone", "13800138000#123", "extension"],
  ["phone", "tel:+8613800138000", "characters"],
  ["phone", "138O0138000", "characters"], // letter O for zero
  ["phone", "+()", "format"],
  ["phone", "1".repeat(41), "too_long"],

  ["national_id", "110105194912310021", "check_digit"],
  ["national_id", "11010519491231002Y", "characters"],
  ["national_id", "110105194902300020", "birth_date"], // 30 February
  ["national_id", "440524188001010014", "birth_date"], // born 1880: before 1900, implausible
  ["national_id", "110105203001010010", "birth_date"], // born in the future
  ["national_id", "991234199001010010", "region_code"],
  ["national_id", "110105491231002", "length"], // old 15-digit form
  ["national_id", "1101051949123100212", "length"],
  ["national_id", "110105 19491231002X", "characters"],
  ["national_id", "", "empty"],

  ["bank_card", "4111 1111 1111 1112", "check_digit"], // Luhn fails
  ["bank_card", "41111111111", "length"], // 11 digits
  ["bank_card", "41111111111111111113", "length"], // 20 digits
  ["bank_card", "4111.1111.1111.1111", "characters"],
  ["bank_card", "", "empty"],

  ["email", "a@b@c.com", "at_sign"], // two @
  ["email", "alice.example.com", "at_sign"],
  ["email", "a b@c.com", "characters"],
  ["email", "a@exa mple.com", "characters"],
  ["email", "@example.com", "format"],
  ["email", "a@localhost", "domain"], // a domain needs a dot
  ["email", "a@c..com", "domain"],
  ["email", "a@-x.com", "domain"],
  ["email", "a@1.2.3.4", "domain"],
  ["email", ".a@c.com", "characters"],
  ["email", "", "empty"],

  ["device_id", "", "empty"],
  ["device_id", "abc\u0000def", "characters"],
  ["device_id", "abc\u200bdef", "characters"], // zero-width space (format character)
  ["device_id", "x".repeat(257), "too_long"],

  ["ip", "010.1.1.1", "leading_zero"],
  ["ip", "1.2.3.04", "leading_zero"],
  ["ip", "256.1.1.1", "format"],
  ["ip", "1.2.3", "format"],
  ["ip", "1.2.3.4.5", "format"],
  ["ip", "1:2:3:4:5:6:7:8:9", "format"],
  ["ip", "2001:db8::1::2", "format"],
  ["ip", "::ffff:01.2.3.4", "format"],
  ["ip", "fe80::1%eth0", "zone"],
  ["ip", "example.com", "format"],
  ["ip", "", "empty"],

  ["merchant_id", "", "empty"],
  ["merchant_id", "m".repeat(129), "too_long"],
  ["account", "   ", "empty"],
  ["account", "line\nbreak", "characters"],
  ["account", "a".repeat(513), "too_long"], // beyond MAX_RAW_CHARS: refused before parsing
];

describe("identifier normalisation", () => {
  describe("accepts each spelling and returns the normal form", () => {
    for (const [type, raw, normal] of VALID) {
      it(`${type} ${JSON.stringify(raw)} → ${normal}`, () => {
        expect(normalise(type, raw, CN)).to.equal(normal);
      });
    }
  });

  describe("rejects invalid input with a reason code, never the value", () => {
    for (const [type, raw, reason] of INVALID) {
      it(`${type} ${JSON.stringify(raw.length > 40 ? `${raw.slice(0, 20)}…` : raw)} → ${reason}`, () => {
        expect(tryNormalise(type, raw, CN)).to.deep.equal({ ok: false, reason });
        let thrown: unknown;
        try {
          normalise(type, raw, CN);
        } catch (err) {
          thrown = err;
        }
        expect(isRiskshareError(thrown, "E_IDENTIFIER_INVALID"), "throws E_IDENTIFIER_INVALID").to.equal(true);
        const error = thrown as Error & { meta: Record<string, unknown> };
        expect(error.meta).to.deep.equal({ type, reason });
        if (raw.trim().length > 2) expect(error.message).not.to.contain(raw.trim());
      });
    }
  });

  it("reads national phone numbers in the configured region, and refuses them without one", () => {
    expect(normalise("phone", "(202) 555-0100", { defaultRegion: "US" })).to.equal("+12025550100");
    expect(normalise("phone", "011 86 138 0013 8000", { defaultRegion: "US" })).to.equal("+8613800138000"); // US international prefix
    expect(tryNormalise("phone", "138 0013 8000", { defaultRegion: undefined })).to.deep.equal({ ok: false, reason: "format" });
    expect(normalise("phone", "+86 138 0013 8000", { defaultRegion: undefined })).to.equal("+8613800138000");
  });

  it("rejects unknown types with E_IDENTIFIER_TYPE listing the known ones", () => {
    expect(() => normalise("passport", "E12345678")).to.throw().that.satisfies((err: unknown) => {
      return isRiskshareError(err, "E_IDENTIFIER_TYPE") && (err.meta.known as string[]).includes("phone");
    });
  });

  it("computes GB 11643 check characters and Luhn checks", () => {
    expect(nationalIdCheckChar("11010519491231002")).to.equal("X");
    expect(nationalIdCheckChar("44052419800101001")).to.equal("3");
    expect(luhnValid("4111111111111111")).to.equal(true);
    expect(luhnValid("4111111111111112")).to.equal(false);
    expect(luhnValid("6011000990139424")).to.equal(true);
  });
});

describe("identifier registry", () => {
  it("knows the eight built-in types with permanent one-byte codes", () => {
    expect(defaultIdentifierRegistry.names()).to.deep.equal([...IDENTIFIER_TYPES]);
    expect(BUILTIN_IDENTIFIER_TYPES.map((spec) => [spec.name, spec.code])).to.deep.equal([
      ["phone", 1], ["national_id", 2], ["bank_card", 3], ["email", 4], ["device_id", 5], ["ip", 6], ["merchant_id", 7], ["account", 8],
    ]);
  });

  it("is extended by building a new registry; the default one is sealed", () => {
    const passport = { name: "passport", code: 9, normalise: (raw: string) => ({ ok: true as const, value: raw.trim().toUpperCase() }) };
    const registry = new IdentifierRegistry([...BUILTIN_IDENTIFIER_TYPES, passport]);
    expect(registry.normalise("passport", " e1234567 ")).to.equal("E1234567");
    expect(registry.byCode(9)?.name).to.equal("passport");
    expect(() => defaultIdentifierRegistry.register(passport)).to.throw(/sealed/);
    expect(() => registry.register({ ...passport, name: "visa" })).to.throw(/already used/);
    expect(() => new IdentifierRegistry([{ ...passport, name: "Bad Name" }])).to.throw(/spec.name/);
  });
});

describe("entry keys", () => {
  const context = { chainId: 31337n, providerAddress: "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266", keyEpoch: 1 };

  it("are the expansion of the provider's own RFC 9497 evaluation of the identifier's OPRF input", () => {
    for (const [type, value] of [["phone", "+8613800138000"], ["email", "a@example.com"], ["account", "账户-1"]] as const) {
      const expected = expandEntryKeys(voprf.evaluate(SECRET_KEY, oprfInput(type, value)), context);
      const keys = evaluator.keysOf(type, value);
      for (const name of ["entryId", "tag", "metadataKey", "feedbackKey"] as const) expect(Buffer.from(keys[name]).toString("hex"), `${type} ${name}`).to.equal(Buffer.from(expected[name]).toString("hex"));
    }
  });

  it("differ per provider key and per context", async () => {
    const otherKey = await EntryKeyEvaluator.create({ secretKey: voprf.generateKeyPair().secretKey, context });
    const otherEpoch = await EntryKeyEvaluator.create({ secretKey: SECRET_KEY, context: { ...context, keyEpoch: 2 } });
    const ids = [evaluator, otherKey, otherEpoch].map((e) => Buffer.from(e.keysOf("phone", "+8613800138000").entryId).toString("hex"));
    expect(new Set(ids).size).to.equal(3);
  });

  it("never shows the secret key when inspected, serialised or handed to a worker's evaluator", () => {
    const hex = Buffer.from(SECRET_KEY).toString("hex");
    expect(inspect(evaluator, { showHidden: true, depth: 5 })).not.to.contain(hex);
    expect(JSON.stringify(evaluator)).not.to.contain(hex);
    expect(Buffer.from(evaluator.secretForWorker().secretKey).toString("hex")).to.equal(hex);
  });

  it("refuses a malformed key or context", () => {
    expect(() => new EntryKeyEvaluator({ secretKey: new Uint8Array(31), context }, { voprf })).to.throw().that.satisfies((err: unknown) => isRiskshareError(err, "E_OPRF_KEY"));
    expect(() => new EntryKeyEvaluator({ secretKey: SECRET_KEY, context: { ...context, keyEpoch: -1 } }, { voprf })).to.throw().that.satisfies((err: unknown) => isRiskshareError(err, "E_BAD_INPUT"));
  });
});

/** Arbitrary CN mobile numbers as 11 national digits. */
const cnMobile = fc.tuple(fc.constantFrom("13", "15", "17", "18", "19"), fc.stringMatching(/^[0-9]{9}$/)).map(([p, rest]) => p + rest)
  .filter((digits) => tryNormalise("phone", digits, CN).ok);
/** The same number in one of the spellings people use. */
const cnMobileSpelling = (digits: string) => fc.constantFrom(
  digits,
  `${digits.slice(0, 3)} ${digits.slice(3, 7)} ${digits.slice(7)}`,
  `+86-${digits.slice(0, 3)}-${digits.slice(3, 7)}-${digits.slice(7)}`,
  `0086${digits}`,
  `+86 (${digits.slice(0, 3)}) ${digits.slice(3)}`,
  ` ${digits} `,
);
/** Valid national IDs: random region/sequence, a plausible birth date, the right check character, x or X. */
const nationalId = fc.tuple(
  fc.constantFrom("110105", "310115", "440305", "510107", "650102"),
  fc.date({ min: new Date(Date.UTC(1900, 0, 1)), max: new Date(Date.UTC(2024, 11, 31)), noInvalidDate: true }),
  fc.stringMatching(/^[0-9]{3}$/),
).map(([region, birth, seq]) => {
  const head = region + birth.toISOString().slice(0, 10).replaceAll("-", "") + seq;
  return head + nationalIdCheckChar(head);
});
/** Valid card numbers of 12–19 digits. */
const bankCard = fc.integer({ min: 11, max: 18 }).chain((n) => fc.stringMatching(new RegExp(`^[0-9]{${n}}$`))).map((body) => {
  for (let d = 0; d < 10; d++) if (luhnValid(body + d)) return body + d;
  throw new Error("unreachable: one check digit always fits");
});
/** IPv6 addresses as eight groups. */
const ipv6Groups = fc.array(fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 0xffff })), { minLength: 8, maxLength: 8 });

describe("normalisation properties", () => {
  it("is idempotent for every type on valid input", () => {
    const typed = fc.oneof(
      cnMobile.chain(cnMobileSpelling).map((raw) => ["phone", raw] as const),
      nationalId.map((raw) => ["national_id", raw] as const),
      bankCard.map((raw) => ["bank_card", raw] as const),
      fc.emailAddress().map((raw) => ["email", raw] as const),
      fc.string({ minLength: 1, maxLength: 64 }).map((raw) => ["device_id", raw] as const),
      fc.ipV4().map((raw) => ["ip", raw] as const),
      fc.ipV6().map((raw) => ["ip", raw] as const),
      fc.string({ minLength: 1, maxLength: 64 }).map((raw) => ["merchant_id", raw] as const),
      fc.string({ minLength: 1, maxLength: 64 }).map((raw) => ["account", raw] as const),
    );
    fc.assert(fc.property(typed, ([type, raw]) => {
      const first = tryNormalise(type, raw, CN);
      if (!first.ok) return; // random strings may be invalid (e.g. control characters): nothing to re-normalise
      expect(normalise(type, first.value, CN), `${type} of ${JSON.stringify(raw)}`).to.equal(first.value);
    }), { numRuns: 500 });
  });

  it("accepts every generated valid national ID, bank card and IPv4/IPv6 address", () => {
    fc.assert(fc.property(nationalId, (id) => tryNormalise("national_id", id, CN).ok));
    fc.assert(fc.property(bankCard, (card) => tryNormalise("bank_card", card, CN).ok));
    fc.assert(fc.property(fc.oneof(fc.ipV4(), fc.ipV6()), (ip) => tryNormalise("ip", ip, CN).ok));
  });

  it("rejects every single-digit change of a valid national ID or card (check digits catch them)", () => {
    const mutate = (s: string, index: number, digit: number) => s.slice(0, index) + String(digit) + s.slice(index + 1);
    fc.assert(fc.property(nationalId, fc.nat(16), fc.integer({ min: 1, max: 9 }), (id, i, delta) => {
      const changed = mutate(id, i, (Number(id[i]) + delta) % 10);
      expect(tryNormalise("national_id", changed, CN).ok, `digit ${i}`).to.equal(false);
    }));
    fc.assert(fc.property(bankCard, fc.nat(), fc.integer({ min: 1, max: 9 }), (card, at, delta) => {
      const i = at % card.length;
      expect(tryNormalise("bank_card", mutate(card, i, (Number(card[i]) + delta) % 10), CN).ok, `digit ${i}`).to.equal(false);
    }));
  });
});

describe("entry key properties", () => {
  const hashOf = (type: string, raw: string) => Buffer.from(evaluator.keysOf(type, normalise(type, raw, CN)).entryId).toString("hex");

  it("hashes equal identifiers written differently to the same value", () => {
    fc.assert(fc.property(cnMobile.chain((d) => fc.tuple(cnMobileSpelling(d), cnMobileSpelling(d))), ([a, b]) => {
      expect(hashOf("phone", a), `${a} vs ${b}`).to.equal(hashOf("phone", b));
    }));
    fc.assert(fc.property(nationalId.filter((id) => id.endsWith("X")), (id) => {
      expect(hashOf("national_id", id.toLowerCase())).to.equal(hashOf("national_id", id));
    }));
    fc.assert(fc.property(bankCard, (card) => {
      const grouped = card.replace(/(\d{4})(?=\d)/g, "$1 ");
      expect(hashOf("bank_card", grouped)).to.equal(hashOf("bank_card", card));
    }));
    fc.assert(fc.property(fc.emailAddress(), (email) => {
      expect(hashOf("email", `  ${email.toUpperCase()} `)).to.equal(hashOf("email", email));
    }));
    fc.assert(fc.property(ipv6Groups, (groups) => {
      const full = groups.map((g) => g.toString(16).toUpperCase().padStart(4, "0")).join(":");
      const plain = groups.map((g) => g.toString(16)).join(":");
      expect(hashOf("ip", full), full).to.equal(hashOf("ip", plain));
    }));
  });

  it("keys the same string under different types differently", () => {
    fc.assert(fc.property(fc.constantFrom(...IDENTIFIER_TYPES), fc.constantFrom(...IDENTIFIER_TYPES), fc.string({ minLength: 1 }), (a, b, value) => {
      fc.pre(a !== b);
      const id = (type: string) => Buffer.from(evaluator.keysOf(type, value).entryId).toString("hex");
      expect(id(a)).not.to.equal(id(b));
    }));
  });

  it("never returns the raw value: 32 bytes that do not contain it", () => {
    fc.assert(fc.property(fc.constantFrom(...IDENTIFIER_TYPES), fc.string({ minLength: 4, maxLength: 100 }), (type, value) => {
      const hash = Buffer.from(evaluator.keysOf(type, value).entryId);
      expect(hash.length).to.equal(32);
      expect(hash.includes(Buffer.from(value, "utf8"))).to.equal(false);
    }));
  });

  it("never puts the raw value in an error", () => {
    fc.assert(fc.property(fc.constantFrom(...IDENTIFIER_TYPES), fc.string({ maxLength: 60 }), (type, tail) => {
      const raw = `zq${tail}\u0000`; // always invalid (control character / bad shape), always distinctive
      try {
        normalise(type, raw, CN);
        expect.fail(`${type} accepted a control character`);
      } catch (err) {
        expect(isRiskshareError(err, "E_IDENTIFIER_INVALID")).to.equal(true);
        expect(JSON.stringify(err) + (err as Error).message).not.to.contain(`zq${tail}`);
      }
    }));
  });
});
