import { createHash, hkdfSync } from "node:crypto";
import { expect } from "chai";
import fc from "fast-check";
import { ristretto255_oprf } from "@noble/curves/ed25519.js";
import { expand_message_xmd } from "@noble/curves/abstract/hash-to-curve.js";
import { sha512 } from "@noble/hashes/sha2.js";
import { isRiskshareError } from "../../node/errors.ts";
import {
  ENTRY_KEYS_LABEL,
  createVoprf,
  entryKeyInfo,
  expandXmdSha512,
  readySodium,
  entryTag,
  expandEntryKeys,
  oprfInput,
  type EntryKeyContext,
  type RandomBytes,
  type Voprf,
} from "../../node/identity/index.ts";

const hex = (text: string): Uint8Array => Uint8Array.from(Buffer.from(text, "hex"));
const toHex = (bytes: Uint8Array): string => Buffer.from(bytes).toString("hex");
const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);

/**
 * An rng that makes the next scalars sampled (noble's rule, shared by both backends: 48 random
 * bytes, little-endian, x mod (ℓ-1) + 1) equal `scalars`, in order: it returns LE48(scalar - 1).
 */
function rngYielding(...scalars: Uint8Array[]): RandomBytes {
  const queue = [...scalars];
  return (length) => {
    expect(length, "a scalar is sampled from 48 bytes").to.equal(48);
    const scalar = queue.shift();
    if (scalar === undefined) throw new Error("rngYielding: no scalar left");
    let value = BigInt(`0x${toHex(Uint8Array.from(scalar).reverse())}`) - 1n;
    const out = new Uint8Array(48);
    for (let i = 0; i < 48; i++, value >>= 8n) out[i] = Number(value & 0xffn);
    return out;
  };
}

/** A deterministic rng for random tests: SHA-512 of a seed and a counter. */
function seededRng(seed: Uint8Array): RandomBytes {
  let counter = 0;
  return (length) => {
    const out = new Uint8Array(length);
    for (let at = 0; at < length; at += 64) out.set(createHash("sha512").update(seed).update(String(counter++)).digest().subarray(0, length - at), at);
    return out;
  };
}

/**
 * RFC 9497 Appendix A.1.2, ristretto255-SHA512, VOPRF mode (mode 0x01). Copied from the RFC's
 * source, draft-irtf-cfrg-voprf.md in the CFRG's draft repository (the text published as
 * RFC 9497, test vector section unchanged).
 */
const RFC = {
  seed: "a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3",
  keyInfo: "74657374206b6579",
  skSm: "e6f73f344b79b379f1a0dd37e07ff62e38d9f71345ce62ae3a9bc60b04ccd909",
  pkSm: "c803e2cc6b05fc15064549b5920659ca4a77b2cca6f04f6b357009335476ad4e",
  vectors: [
    {
      name: "Test Vector 1, Batch Size 1",
      input: ["00"],
      blind: ["64d37aed22a27f5191de1c1d69fadb899d8862b58eb4220029e036ec4c1f6706"],
      blindedElement: ["863f330cc1a1259ed5a5998a23acfd37fb4351a793a5b3c090b642ddc439b945"],
      evaluationElement: ["aa8fa048764d5623868679402ff6108d2521884fa138cd7f9c7669a9a014267e"],
      proof: "ddef93772692e535d1a53903db24367355cc2cc78de93b3be5a8ffcc6985dd066d4346421d17bf5117a2a1ff0fcb2a759f58a539dfbe857a40bce4cf49ec600d",
      proofRandomScalar: "222a5e897cf59db8145db8d16e597e8facb80ae7d4e26d9881aa6f61d645fc0e",
      output: ["b58cfbe118e0cb94d79b5fd6a6dafb98764dff49c14e1770b566e42402da1a7da4d8527693914139caee5bd03903af43a491351d23b430948dd50cde10d32b3c"],
    },
    {
      name: "Test Vector 2, Batch Size 1",
      input: ["5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a"],
      blind: ["64d37aed22a27f5191de1c1d69fadb899d8862b58eb4220029e036ec4c1f6706"],
      blindedElement: ["cc0b2a350101881d8a4cba4c80241d74fb7dcbfde4a61fde2f91443c2bf9ef0c"],
      evaluationElement: ["60a59a57208d48aca71e9e850d22674b611f752bed48b36f7a91b372bd7ad468"],
      proof: "401a0da6264f8cf45bb2f5264bc31e109155600babb3cd4e5af7d181a2c9dc0a67154fabf031fd936051dec80b0b6ae29c9503493dde7393b722eafdf5a50b02",
      proofRandomScalar: "222a5e897cf59db8145db8d16e597e8facb80ae7d4e26d9881aa6f61d645fc0e",
      output: ["8a9a2f3c7f085b65933594309041fc1898d42d0858e59f90814ae90571a6df60356f4610bf816f27afdd84f47719e480906d27ecd994985890e5f539e7ea74b6"],
    },
    {
      name: "Test Vector 3, Batch Size 2",
      input: ["00", "5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a"],
      blind: ["64d37aed22a27f5191de1c1d69fadb899d8862b58eb4220029e036ec4c1f6706", "222a5e897cf59db8145db8d16e597e8facb80ae7d4e26d9881aa6f61d645fc0e"],
      blindedElement: ["863f330cc1a1259ed5a5998a23acfd37fb4351a793a5b3c090b642ddc439b945", "90a0145ea9da29254c3a56be4fe185465ebb3bf2a1801f7124bbbadac751e654"],
      evaluationElement: ["aa8fa048764d5623868679402ff6108d2521884fa138cd7f9c7669a9a014267e", "cc5ac221950a49ceaa73c8db41b82c20372a4c8d63e5dded2db920b7eee36a2a"],
      proof: "cc203910175d786927eeb44ea847328047892ddf8590e723c37205cb74600b0a5ab5337c8eb4ceae0494c2cf89529dcf94572ed267473d567aeed6ab873dee08",
      proofRandomScalar: "419c4f4f5052c53c45f3da494d2b67b220d02118e0857cdbcf037f9ea84bbe0c",
      output: [
        "b58cfbe118e0cb94d79b5fd6a6dafb98764dff49c14e1770b566e42402da1a7da4d8527693914139caee5bd03903af43a491351d23b430948dd50cde10d32b3c",
        "8a9a2f3c7f085b65933594309041fc1898d42d0858e59f90814ae90571a6df60356f4610bf816f27afdd84f47719e480906d27ecd994985890e5f539e7ea74b6",
      ],
    },
  ],
} as const;

/** Expects `fn` to throw a RiskshareError with `code`. */
function expectCode(fn: () => unknown, code: string, message?: string): void {
  try {
    fn();
  } catch (err) {
    expect(isRiskshareError(err), `${message ?? ""} threw a RiskshareError (${String(err)})`).to.equal(true);
    expect((err as { code: string }).code, message).to.equal(code);
    return;
  }
  expect.fail(`${message ?? ""} expected ${code}, nothing thrown`);
}

describe("OPRF (RFC 9497 VOPRF, ristretto255-SHA512)", function () {
  this.timeout(120_000);
  let noble: Voprf;
  let sodium: Voprf;
  const backends = (): Voprf[] => [noble, sodium];

  before(async () => {
    noble = await createVoprf({ backend: "noble" });
    sodium = await createVoprf({ backend: "sodium" });
    expect(noble.backend).to.equal("noble");
    expect(sodium.backend).to.equal("sodium");
  });

  describe("RFC 9497 Appendix A.1.2 vectors, on both backends", () => {
    it("DeriveKeyPair(seed, info) gives skSm and pkSm", () => {
      for (const voprf of backends()) {
        const { secretKey, publicKey } = voprf.deriveKeyPair(hex(RFC.seed), hex(RFC.keyInfo));
        expect(toHex(secretKey), voprf.backend).to.equal(RFC.skSm);
        expect(toHex(publicKey), voprf.backend).to.equal(RFC.pkSm);
        expect(toHex(voprf.publicKey(hex(RFC.skSm))), voprf.backend).to.equal(RFC.pkSm);
      }
    });

    for (const vector of RFC.vectors) {
      it(`${vector.name}: blind, blindEvaluate (with the proof), finalize and evaluate`, () => {
        const sk = hex(RFC.skSm);
        const pk = hex(RFC.pkSm);
        const inputs = vector.input.map(hex);
        for (const voprf of backends()) {
          const what = `${voprf.backend} ${vector.name}`;
          const blinded = inputs.map((input, i) => voprf.blind(input, rngYielding(hex(vector.blind[i]!))));
          expect(blinded.map((b) => toHex(b.blind)), `${what}: blind`).to.deep.equal(vector.blind);
          expect(blinded.map((b) => toHex(b.blindedElement)), `${what}: blinded element`).to.deep.equal(vector.blindedElement);

          const answer = voprf.blindEvaluateBatch(sk, pk, vector.blindedElement.map(hex), rngYielding(hex(vector.proofRandomScalar)));
          expect(answer.evaluatedElements.map(toHex), `${what}: evaluated elements`).to.deep.equal(vector.evaluationElement);
          expect(toHex(answer.proof), `${what}: proof`).to.equal(vector.proof);

          const outputs = voprf.finalizeBatch(inputs, vector.blind.map(hex), vector.evaluationElement.map(hex), vector.blindedElement.map(hex), hex(vector.proof), pk);
          expect(outputs.map(toHex), `${what}: finalize`).to.deep.equal(vector.output);
          expect(voprf.evaluateBatch(sk, inputs).map(toHex), `${what}: evaluateBatch`).to.deep.equal(vector.output);
          expect(inputs.map((input) => toHex(voprf.evaluate(sk, input))), `${what}: evaluate`).to.deep.equal(vector.output);
        }
      });
    }

    it("noble's own voprf object agrees with the vectors (the reference is the reference)", () => {
      const v = RFC.vectors[2];
      const items = v.input.map((input, i) => ({ input: hex(input), blind: hex(v.blind[i]!), evaluated: hex(v.evaluationElement[i]!), blinded: hex(v.blindedElement[i]!) }));
      expect(ristretto255_oprf.voprf.finalizeBatch(items, hex(RFC.pkSm), hex(v.proof)).map(toHex)).to.deep.equal(v.output);
    });
  });

  describe("the libsodium path is byte-identical to noble", () => {
    const RUNS = { numRuns: 300, seed: 20_261_201 };
    const runsFew = { numRuns: 60, seed: 20_261_202 };
    const arbInput = fc.uint8Array({ minLength: 0, maxLength: 200 });
    const arbSeed = fc.uint8Array({ minLength: 32, maxLength: 32 });

    it("expand_message_xmd over libsodium's SHA-512: RFC 9380 K.3's vectors, and noble's on random messages and DSTs", async () => {
      const sodiumModule = await readySodium();
      const quux = utf8("QUUX-V01-CS02-with-expander-SHA512-256");
      expect(toHex(expandXmdSha512(sodiumModule, [], quux, 32))).to.equal("6b9a7312411d92f921c6f68ca0b6380730a1a4d982c507211a90964c394179ba");
      expect(toHex(expandXmdSha512(sodiumModule, [utf8("a"), utf8("bc")], quux, 32))).to.equal("0da749f12fbe5483eb066a5f595055679b976e93abe9be6f0f6318bce7aca8dc");
      fc.assert(
        fc.property(fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 6 }), fc.uint8Array({ minLength: 1, maxLength: 255 }), fc.integer({ min: 1, max: 64 }), (parts, dst, length) => {
          const message = Uint8Array.from(parts.flatMap((part) => [...part]));
          expect(toHex(expandXmdSha512(sodiumModule, parts, dst, length))).to.equal(toHex(expand_message_xmd(message, dst, length, sha512)));
        }),
        RUNS,
      );
      expect(() => expandXmdSha512(sodiumModule, [], quux, 65)).to.throw(RangeError, /length 65/);
      expect(() => expandXmdSha512(sodiumModule, [], new Uint8Array(256), 64)).to.throw(RangeError, /DST of 256 bytes/);
    });

    it("re-derives a blinded element from its input and blind (blindWith), on both backends alike", () => {
      fc.assert(
        fc.property(arbInput, (input) => {
          for (const backend of backends()) {
            const { blind, blindedElement } = backend.blind(input);
            expect(toHex(noble.blindWith(input, blind)), `noble re-derives ${backend.backend}'s element`).to.equal(toHex(blindedElement));
            expect(toHex(sodium.blindWith(input, blind)), `sodium re-derives ${backend.backend}'s element`).to.equal(toHex(blindedElement));
          }
        }),
        runsFew,
      );
      for (const backend of backends()) expect(() => backend.blindWith(new Uint8Array(1), new Uint8Array(32)), backend.backend).to.throw(/blind/);
    });

    it("on key derivation, public keys and evaluate, for random keys and inputs", () => {
      fc.assert(
        fc.property(arbSeed, fc.uint8Array({ maxLength: 40 }), arbInput, (seed, info, input) => {
          const expected = noble.deriveKeyPair(seed, info);
          const actual = sodium.deriveKeyPair(seed, info);
          expect(toHex(actual.secretKey)).to.equal(toHex(expected.secretKey));
          expect(toHex(sodium.publicKey(expected.secretKey)), "public key").to.equal(toHex(expected.publicKey));
          expect(toHex(sodium.evaluate(expected.secretKey, input)), "evaluate").to.equal(toHex(noble.evaluate(expected.secretKey, input)));
        }),
        RUNS,
      );
    });

    it("on blind, given the same random bytes", () => {
      fc.assert(
        fc.property(arbSeed, arbInput, (seed, input) => {
          const expected = noble.blind(input, seededRng(seed));
          const actual = sodium.blind(input, seededRng(seed));
          expect(toHex(actual.blind), "blind").to.equal(toHex(expected.blind));
          expect(toHex(actual.blindedElement), "blinded element").to.equal(toHex(expected.blindedElement));
        }),
        RUNS,
      );
    });

    it("on blindEvaluateBatch (elements and proof) given the same random bytes, and each verifies the other's proof", () => {
      fc.assert(
        fc.property(arbSeed, arbSeed, fc.array(arbInput, { minLength: 1, maxLength: 5 }), (keySeed, rngSeed, inputs) => {
          const { secretKey, publicKey } = noble.deriveKeyPair(keySeed, utf8("random"));
          const rng = seededRng(rngSeed);
          const blinded = inputs.map((input) => sodium.blind(input, rng));
          const elements = blinded.map((b) => b.blindedElement);
          const fromNoble = noble.blindEvaluateBatch(secretKey, publicKey, elements, seededRng(keySeed));
          const fromSodium = sodium.blindEvaluateBatch(secretKey, publicKey, elements, seededRng(keySeed));
          expect(fromSodium.evaluatedElements.map(toHex), "evaluated").to.deep.equal(fromNoble.evaluatedElements.map(toHex));
          expect(toHex(fromSodium.proof), "proof").to.equal(toHex(fromNoble.proof));
          // cross-wise with a fresh (different) proof nonce each: sodium-made proof under noble, and back
          const sodiumFresh = sodium.blindEvaluateBatch(secretKey, publicKey, elements);
          const nobleFresh = noble.blindEvaluateBatch(secretKey, publicKey, elements);
          const blinds = blinded.map((b) => b.blind);
          const expected = inputs.map((input) => toHex(noble.evaluate(secretKey, input)));
          expect(noble.finalizeBatch(inputs, blinds, sodiumFresh.evaluatedElements, elements, sodiumFresh.proof, publicKey).map(toHex), "noble finalizes sodium's answer").to.deep.equal(expected);
          expect(sodium.finalizeBatch(inputs, blinds, nobleFresh.evaluatedElements, elements, nobleFresh.proof, publicKey).map(toHex), "sodium finalizes noble's answer").to.deep.equal(expected);
        }),
        runsFew,
      );
    });

    it("evaluate equals a full blind → blindEvaluate → finalize round of noble's own voprf", () => {
      fc.assert(
        fc.property(arbSeed, arbInput, (seed, input) => {
          const { secretKey, publicKey } = noble.deriveKeyPair(seed, new Uint8Array(0));
          const voprf = ristretto255_oprf.voprf;
          const { blind, blinded } = voprf.blind(input);
          const { evaluated, proof } = voprf.blindEvaluate(secretKey, publicKey, blinded);
          const output = voprf.finalize(input, blind, evaluated, blinded, publicKey, proof);
          expect(toHex(sodium.evaluate(secretKey, input))).to.equal(toHex(output));
        }),
        runsFew,
      );
    });
  });

  describe("the querier refuses answers that are not the provider's", () => {
    /** A querier's request of three identifiers, answered honestly by `provider`. */
    function exchange(voprf: Voprf, provider = voprf.deriveKeyPair(new Uint8Array(32).fill(7), utf8("provider"))) {
      const inputs = ["+8613800138000", "+8613900139000", "+8618600186000"].map((id) => oprfInput("phone", id));
      const blinded = inputs.map((input) => voprf.blind(input));
      const blindedElements = blinded.map((b) => b.blindedElement);
      const answer = voprf.blindEvaluateBatch(provider.secretKey, provider.publicKey, blindedElements);
      return { provider, inputs, blinds: blinded.map((b) => b.blind), blindedElements, ...answer };
    }

    it("an honest answer finalizes to the provider's own evaluation", () => {
      for (const voprf of backends()) {
        const x = exchange(voprf);
        const outputs = voprf.finalizeBatch(x.inputs, x.blinds, x.evaluatedElements, x.blindedElements, x.proof, x.provider.publicKey);
        expect(outputs.map(toHex), voprf.backend).to.deep.equal(voprf.evaluateBatch(x.provider.secretKey, x.inputs).map(toHex));
      }
    });

    it("with `outputs`, only the first outputs are unblinded, while the proof still covers the padding after them", () => {
      for (const voprf of backends()) {
        const x = exchange(voprf);
        const all = voprf.finalizeBatch(x.inputs, x.blinds, x.evaluatedElements, x.blindedElements, x.proof, x.provider.publicKey);
        for (const outputs of [1, 2, 3]) {
          const some = voprf.finalizeBatch(x.inputs, x.blinds, x.evaluatedElements, x.blindedElements, x.proof, x.provider.publicKey, outputs);
          expect(some.map(toHex), `${voprf.backend}: ${outputs} outputs`).to.deep.equal(all.slice(0, outputs).map(toHex));
        }
        // The last element is "padding" here: replaced by another valid evaluation, the proof fails.
        const replaced = [...x.evaluatedElements];
        replaced[2] = voprf.blindEvaluateBatch(x.provider.secretKey, x.provider.publicKey, [voprf.blind(utf8("other")).blindedElement]).evaluatedElements[0]!;
        expectCode(() => voprf.finalizeBatch(x.inputs, x.blinds, replaced, x.blindedElements, x.proof, x.provider.publicKey, 2), "E_OPRF_PROOF", `${voprf.backend}: tampered padding`);
        for (const outputs of [0, 4, 1.5]) {
          expectCode(() => voprf.finalizeBatch(x.inputs, x.blinds, x.evaluatedElements, x.blindedElements, x.proof, x.provider.publicKey, outputs), "E_BAD_INPUT", `${voprf.backend}: ${outputs} outputs`);
        }
      }
    });

    it("an answer under another key (with that key's valid proof) fails against the published key: E_OPRF_PROOF", () => {
      for (const voprf of backends()) {
        const published = voprf.deriveKeyPair(new Uint8Array(32).fill(1), utf8("published"));
        const other = voprf.generateKeyPair();
        const x = exchange(voprf, other);
        expectCode(() => voprf.finalizeBatch(x.inputs, x.blinds, x.evaluatedElements, x.blindedElements, x.proof, published.publicKey), "E_OPRF_PROOF", voprf.backend);
      }
    });

    it("one tampered evaluated element, a swapped pair, or a flipped proof bit: E_OPRF_PROOF", () => {
      for (const voprf of backends()) {
        const x = exchange(voprf);
        const pk = x.provider.publicKey;
        const finalize = (evaluated: Uint8Array[], proof: Uint8Array) => () => voprf.finalizeBatch(x.inputs, x.blinds, evaluated, x.blindedElements, proof, pk);
        // another valid element in place of the second answer (the provider's evaluation of something else)
        const replaced = [...x.evaluatedElements];
        replaced[1] = voprf.blindEvaluateBatch(x.provider.secretKey, pk, [voprf.blind(utf8("other")).blindedElement]).evaluatedElements[0]!;
        expectCode(finalize(replaced, x.proof), "E_OPRF_PROOF", `${voprf.backend}: replaced element`);
        expectCode(finalize([x.evaluatedElements[1]!, x.evaluatedElements[0]!, x.evaluatedElements[2]!], x.proof), "E_OPRF_PROOF", `${voprf.backend}: swapped`);
        for (const bit of [0, 100, 263, 511]) {
          const proof = Uint8Array.from(x.proof);
          proof[bit >> 3]! ^= 1 << (bit & 7);
          expectCode(finalize(x.evaluatedElements, proof), "E_OPRF_PROOF", `${voprf.backend}: proof bit ${bit}`);
        }
        expectCode(finalize(x.evaluatedElements.slice(0, 2), x.proof), "E_OPRF_PROOF", `${voprf.backend}: a short answer`);
        expectCode(finalize(x.evaluatedElements, x.proof.subarray(0, 63)), "E_OPRF_PROOF", `${voprf.backend}: a short proof`);
        const nonCanonical = Uint8Array.from(x.proof);
        nonCanonical.fill(0xff, 32, 64); // s ≥ ℓ
        expectCode(finalize(x.evaluatedElements, nonCanonical), "E_OPRF_PROOF", `${voprf.backend}: s not reduced`);
        expectCode(finalize(x.evaluatedElements, new Uint8Array(64)), "E_OPRF_PROOF", `${voprf.backend}: zero proof`);
      }
    });

    it("a malformed or identity element: E_OPRF_ELEMENT, naming where", () => {
      for (const voprf of backends()) {
        const x = exchange(voprf);
        const bad = [...x.evaluatedElements];
        bad[2] = new Uint8Array(32).fill(0xff); // not a canonical encoding
        expectCode(() => voprf.finalizeBatch(x.inputs, x.blinds, bad, x.blindedElements, x.proof, x.provider.publicKey), "E_OPRF_ELEMENT", `${voprf.backend}: evaluated`);
        bad[2] = new Uint8Array(32); // the identity
        expectCode(() => voprf.finalizeBatch(x.inputs, x.blinds, bad, x.blindedElements, x.proof, x.provider.publicKey), "E_OPRF_ELEMENT", `${voprf.backend}: identity`);
        expectCode(() => voprf.blindEvaluateBatch(x.provider.secretKey, x.provider.publicKey, [x.blindedElements[0]!, new Uint8Array(32)]), "E_OPRF_ELEMENT", `${voprf.backend}: provider gets the identity`);
        try {
          voprf.blindEvaluateBatch(x.provider.secretKey, x.provider.publicKey, [x.blindedElements[0]!, new Uint8Array(32).fill(0xff)]);
          expect.fail("should throw");
        } catch (err) {
          expect((err as { meta: object }).meta, voprf.backend).to.include({ argument: "blindedElements", index: 1 });
        }
        expectCode(() => voprf.finalizeBatch(x.inputs, x.blinds, x.evaluatedElements, x.blindedElements, x.proof, new Uint8Array(32)), "E_OPRF_ELEMENT", `${voprf.backend}: public key`);
      }
    });

    it("a provider key pair whose halves do not match, or a bad secret key: E_OPRF_KEY", () => {
      for (const voprf of backends()) {
        const a = voprf.generateKeyPair();
        const b = voprf.generateKeyPair();
        const element = voprf.blind(utf8("x")).blindedElement;
        expectCode(() => voprf.blindEvaluateBatch(a.secretKey, b.publicKey, [element]), "E_OPRF_KEY", `${voprf.backend}: mismatch`);
        expectCode(() => voprf.evaluate(new Uint8Array(32), utf8("x")), "E_OPRF_KEY", `${voprf.backend}: zero`);
        expectCode(() => voprf.evaluate(new Uint8Array(32).fill(0xff), utf8("x")), "E_OPRF_KEY", `${voprf.backend}: not reduced`);
        expectCode(() => voprf.evaluate(new Uint8Array(31).fill(1), utf8("x")), "E_OPRF_KEY", `${voprf.backend}: short`);
      }
    });

    it("two provider keys give unrelated outputs for the same input", () => {
      const input = oprfInput("phone", "+8613800138000");
      const outputs = new Set<string>();
      for (let i = 0; i < 20; i++) outputs.add(toHex(sodium.evaluate(sodium.generateKeyPair().secretKey, input)));
      expect(outputs.size).to.equal(20);
      const a = sodium.deriveKeyPair(new Uint8Array(32).fill(1), utf8("a"));
      const b = sodium.deriveKeyPair(new Uint8Array(32).fill(1), utf8("b"));
      const [x, y] = [sodium.evaluate(a.secretKey, input), sodium.evaluate(b.secretKey, input)];
      const sameBytes = x.filter((byte, i) => byte === y[i]).length;
      expect(sameBytes, "bytes in common at the same position (expect ~64/256)").to.be.below(8);
    });

    it("blinds are fresh: the same input blinds to different elements each time", () => {
      for (const voprf of backends()) {
        const input = oprfInput("phone", "+8613800138000");
        const seen = new Set(Array.from({ length: 10 }, () => toHex(voprf.blind(input).blindedElement)));
        expect(seen.size, voprf.backend).to.equal(10);
      }
    });
  });

  describe("oprfInput(type, normalisedIdentifier)", () => {
    it("lays out version, type length, type and the UTF-8 identifier", () => {
      expect(toHex(oprfInput("phone", "+86"))).to.equal(`0105${toHex(utf8("phone"))}${toHex(utf8("+86"))}`);
      expect(toHex(oprfInput("email", "é@x.cn"))).to.equal(`0105${toHex(utf8("email"))}c3a9${toHex(utf8("@x.cn"))}`);
    });

    it("is injective on tricky pairs", () => {
      const pairs: [string, string][] = [
        ["phone", "+8613800138000"],
        ["phone_x", "+8613800138000"],
        ["ph", "one+8613800138000"],
        ["p", "hone+8613800138000"],
        ["phone", "+8613800138000 "],
        ["phone", "+86138001380000"],
        ["a", "\u0005phone"],
        ["a", "b"],
        ["a_", "b"],
        ["ab", "_"],
        ["email", "\uFFFD"],
        ["email", "\u00e9"],
        ["email", "e\u0301"], // the decomposed é: a different identifier, a different input
        ["email", "x\u0000"],
        ["email", "x"],
      ];
      const encodings = pairs.map(([type, id]) => toHex(oprfInput(type, id)));
      expect(new Set(encodings).size).to.equal(pairs.length);
    });

    it("is injective on random pairs (decodes back)", () => {
      const arbType = fc.stringMatching(/^[a-z][a-z0-9_]{0,31}$/);
      const arbId = fc.string({ unit: "grapheme", minLength: 1, maxLength: 40 });
      fc.assert(
        fc.property(arbType, arbId, (type, id) => {
          const bytes = oprfInput(type, id);
          expect(bytes[0]).to.equal(1);
          const typeLength = bytes[1]!;
          expect(new TextDecoder().decode(bytes.subarray(2, 2 + typeLength))).to.equal(type);
          expect(new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(2 + typeLength))).to.equal(id);
        }),
        { numRuns: 300, seed: 20_261_203 },
      );
    });

    it("refuses what would make it ambiguous: bad type names, empty or ill-formed identifiers, overlong input", () => {
      for (const [type, id] of [
        ["Phone", "+86"],
        ["", "+86"],
        ["ph one", "+86"],
        ["a".repeat(33), "+86"],
        ["phone", ""],
        ["phone", "\uD800"], // a lone surrogate would encode as U+FFFD
        ["phone", "x".repeat(2049)],
      ] as const) {
        expectCode(() => oprfInput(type, id), "E_BAD_INPUT", `${JSON.stringify(type)}`);
      }
    });
  });

  describe("per-entry keys (one HKDF-SHA256 expansion)", () => {
    const output = Uint8Array.from({ length: 64 }, (_, i) => i);
    const context: EntryKeyContext = { chainId: 31337n, providerAddress: "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266", keyEpoch: 1 };

    it("are pinned: info layout and the four keys of a fixed output", () => {
      expect(toHex(entryKeyInfo(context))).to.equal(`${toHex(utf8("riskshare/entry-keys/v1"))}00` + "0000000000007a69" + "f39fd6e51aad88f6f4ce6ab8827279cfffb92266" + "00000001");
      const keys = expandEntryKeys(output, context);
      expect(toHex(keys.tag)).to.equal("5c6be45af1726386");
      expect(toHex(keys.metadataKey)).to.equal("092dad01a20b3602e1c8e6cc1a8d31d0804f1ae25925eef0d6ed2c605617f6e0");
      expect(toHex(keys.feedbackKey)).to.equal("231bc3fc69c05b58aa6598d7b46ab90f734b741ab8645df20fe7ac1cee5bb34f");
      expect(toHex(keys.entryId)).to.equal("e8f2d42d6106bd0ac3bc5a1ccd57448fdaca6a1136cf2bed13d7863eaba0abfd");
      expect(toHex(entryTag(output, context))).to.equal("5c6be45af1726386");
      // the same, from node:crypto directly with a hand-built info: tag || metadataKey || feedbackKey || entryId
      const info = Buffer.concat([Buffer.from(`${ENTRY_KEYS_LABEL}\0`), Buffer.from("0000000000007a69f39fd6e51aad88f6f4ce6ab8827279cfffb9226600000001", "hex")]);
      const okm = new Uint8Array(hkdfSync("sha256", output, new Uint8Array(0), info, 104));
      expect(toHex(okm)).to.equal(toHex(keys.tag) + toHex(keys.metadataKey) + toHex(keys.feedbackKey) + toHex(keys.entryId));
    });

    it("are separated by purpose, chain, provider and epoch (the address's case does not matter)", () => {
      const base = expandEntryKeys(output, context);
      expect(toHex(base.metadataKey.subarray(0, 8))).to.not.equal(toHex(base.tag));
      expect(toHex(base.metadataKey)).to.not.equal(toHex(base.feedbackKey));
      expect(toHex(base.entryId)).to.not.equal(toHex(base.metadataKey));
      const variants: EntryKeyContext[] = [
        { ...context, chainId: 1n },
        { ...context, providerAddress: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8" },
        { ...context, keyEpoch: 2 },
      ];
      const tags = new Set([toHex(base.tag), ...variants.map((v) => toHex(entryTag(output, v)))]);
      expect(tags.size).to.equal(4);
      expect(toHex(entryTag(output, { ...context, providerAddress: context.providerAddress.toLowerCase() }))).to.equal(toHex(base.tag));
    });

    it("refuses malformed context and outputs", () => {
      expectCode(() => entryTag(output.subarray(0, 32), context), "E_BAD_INPUT", "short output");
      expectCode(() => entryTag(output, { ...context, chainId: -1n }), "E_BAD_INPUT", "chainId");
      expectCode(() => entryTag(output, { ...context, providerAddress: "f39Fd6e51aad88F6F4ce6aB8827279cffFb92266" }), "E_BAD_INPUT", "address");
      expectCode(() => entryTag(output, { ...context, keyEpoch: 2 ** 32 }), "E_BAD_INPUT", "epoch");
    });
  });
});
