import { inspect } from "node:util";
import { expect } from "chai";
import { concat, getAddress, hexlify, keccak256, recoverAddress, Signature, toBeHex, TypedDataEncoder, verifyTypedData, Wallet } from "ethers";
import fc from "fast-check";
import {
  checksumAddress, isDigestSignedBy, LOOKUP_ANSWER_TYPE_STRING, LOOKUP_ANSWER_TYPES, LOOKUP_REQUEST_TYPES, lookupAnswerDigest, lookupAnswerDigestBytes,
  lookupDomain, lookupRequestDigest, lookupRequestDigestBytes, mutable, recoverDigestSigner, recoverLookupAnswerSigner, recoverLookupRequestSigner,
  signDigest, type LookupAnswer, type LookupRequest,
} from "../../node/chain/eip712.ts";
import { evaluateAnswerDigest, evaluateCommitment, fetchAnswerDigest, fetchCommitment } from "../../node/chain/digests.ts";
import { isRiskshareError } from "../../node/errors.ts";
import { digestSignerFromEvmKey } from "../../node/p2p/index.ts";
import { secp256k1 } from "@noble/curves/secp256k1.js";

/** secp256k1's group order. */
const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
const UINT64_MAX = (1n << 64n) - 1n;
const ZERO32 = `0x${"00".repeat(32)}`;
const FF32 = `0x${"ff".repeat(32)}`;

// ── what ethers says: the reference every fast path must match ───────────────────────────────

function ethersRequestDigest(chainId: bigint, ledger: string, request: LookupRequest): string {
  return TypedDataEncoder.hash(lookupDomain(chainId, ledger), mutable(LOOKUP_REQUEST_TYPES), request);
}
function ethersAnswerDigest(chainId: bigint, ledger: string, answer: LookupAnswer): string {
  return TypedDataEncoder.hash(lookupDomain(chainId, ledger), mutable(LOOKUP_ANSWER_TYPES), answer);
}

/** The value a call returns, or the message of what it throws (so both must fail alike). */
function outcome(fn: () => string): { value: string } | { error: string } {
  try {
    return { value: fn() };
  } catch (err) {
    return { error: (err as Error).message };
  }
}

// ── generators ──────────────────────────────────────────────────────────────────────────────

const bytes = (length: number) => fc.uint8Array({ minLength: length, maxLength: length });
const hex32 = fc.oneof(
  { weight: 6, arbitrary: bytes(32).map((b) => hexlify(b)) },
  { weight: 2, arbitrary: bytes(32).map((b) => hexlify(b).toUpperCase().replace("0X", "0x")) },
  { weight: 1, arbitrary: fc.constant(ZERO32) },
  { weight: 1, arbitrary: fc.constant(FF32) },
);
/** Addresses as peers send them: lower case, upper case, checksummed; and the extremes. */
const address = fc.oneof(
  bytes(20).map((b) => hexlify(b)),
  bytes(20).map((b) => getAddress(hexlify(b))),
  bytes(20).map((b) => `0x${hexlify(b).slice(2).toUpperCase()}`),
  fc.constantFrom(`0x${"00".repeat(20)}`, `0x${"ff".repeat(20)}`, `0x${"FF".repeat(20)}`),
);
const uint64 = fc.oneof(fc.bigInt({ min: 0n, max: UINT64_MAX }), fc.constantFrom(0n, 1n, UINT64_MAX, UINT64_MAX - 1n, 1n << 63n));
const uint32 = fc.oneof(fc.integer({ min: 0, max: 0xffff_ffff }), fc.constantFrom(0, 1, 1_000, 0xffff_ffff));
const uint8 = fc.oneof(fc.constantFrom(0, 1), fc.integer({ min: 0, max: 255 }));
const chainId = fc.oneof(fc.constantFrom(1n, 31_337n, 0n, (1n << 256n) - 1n), fc.bigInt({ min: 0n, max: (1n << 256n) - 1n }));

const request: fc.Arbitrary<LookupRequest> = fc.record({
  querier: address, provider: address, kind: uint8, categoryMask: uint64, itemCount: uint32, itemsCommitment: hex32, nonce: hex32, deadline: uint64,
});
const answer: fc.Arbitrary<LookupAnswer> = fc.record({ queryId: hex32, provider: address, keyEpoch: uint32, itemCount: uint32, answerDigest: hex32 });

describe("eip712: fixed-layout hashing, signing and recovery, against ethers", function () {
  this.timeout(120_000);

  describe("digests", () => {
    it("hashes random requests to ethers' TypedDataEncoder.hash (edge values included)", () => {
      fc.assert(fc.property(chainId, address, request, (id, ledger, value) => {
        const expected = ethersRequestDigest(id, ledger, value);
        expect(lookupRequestDigest(id, ledger, value), "hex").to.equal(expected);
        expect(hexlify(lookupRequestDigestBytes(id, ledger, value)), "bytes").to.equal(expected);
      }), { numRuns: 2_000 });
    });

    it("hashes random answers to ethers' TypedDataEncoder.hash (edge values included)", () => {
      fc.assert(fc.property(chainId, address, answer, (id, ledger, value) => {
        const expected = ethersAnswerDigest(id, ledger, value);
        expect(lookupAnswerDigest(id, ledger, value), "hex").to.equal(expected);
        expect(hexlify(lookupAnswerDigestBytes(id, ledger, value)), "bytes").to.equal(expected);
      }), { numRuns: 2_000 });
    });

    it("hashes the extremes: all-zero and all-ff words, max uint64 deadline and mask, max uint32 count, max uint8 kind", () => {
      const ledger = getAddress(`0x${"ab".repeat(20)}`);
      const rows: LookupRequest[] = [
        { querier: `0x${"00".repeat(20)}`, provider: `0x${"00".repeat(20)}`, kind: 0, categoryMask: 0n, itemCount: 0, itemsCommitment: ZERO32, nonce: ZERO32, deadline: 0n },
        { querier: `0x${"ff".repeat(20)}`, provider: `0x${"FF".repeat(20)}`, kind: 255, categoryMask: UINT64_MAX, itemCount: 0xffff_ffff, itemsCommitment: FF32, nonce: FF32, deadline: UINT64_MAX },
      ];
      for (const row of rows) expect(lookupRequestDigest(31_337n, ledger, row), JSON.stringify(row, (_, v) => (typeof v === "bigint" ? `${v}` : v))).to.equal(ethersRequestDigest(31_337n, ledger, row));
    });

    it("leaves every value the fixed layout does not take to ethers: same digest or same error", () => {
      const ledger = getAddress(`0x${"12".repeat(20)}`);
      const valid: LookupRequest = {
        querier: getAddress(`0x${"34".repeat(20)}`), provider: getAddress(`0x${"5a".repeat(20)}`), kind: 1, categoryMask: 6n, itemCount: 1, itemsCommitment: ZERO32, nonce: FF32, deadline: 1_800_000_000n,
      };
      const checksummed = getAddress(`0x${"5abcdef0".repeat(5)}`);
      const badChecksum = checksummed.slice(0, 2) + [...checksummed.slice(2)].map((c) => (c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase())).join("");
      const variants: Record<string, Partial<Record<keyof LookupRequest, unknown>>> = {
        "querier with a bad checksum": { querier: badChecksum },
        "provider without 0x": { provider: `5a`.repeat(20) },
        "querier too short": { querier: `0x${"34".repeat(19)}` },
        "kind above uint8": { kind: 256 },
        "negative kind": { kind: -1 },
        "kind as a string": { kind: "1" },
        "mask above uint64": { categoryMask: UINT64_MAX + 1n },
        "negative mask": { categoryMask: -1n },
        "mask as a decimal string": { categoryMask: "6" },
        "mask as a number": { categoryMask: 6 },
        "count above uint32": { itemCount: 0x1_0000_0000 },
        "fractional count": { itemCount: 1.5 },
        "count as a bigint": { itemCount: 7n },
        "deadline as a hex string": { deadline: "0x6b49d200" },
        "deadline above uint64": { deadline: UINT64_MAX + 1n },
        "commitment of 31 bytes": { itemsCommitment: `0x${"00".repeat(31)}` },
        "commitment as bytes": { itemsCommitment: new Uint8Array(32).fill(7) },
        "nonce without 0x": { nonce: "ff".repeat(32) },
        "nonce with a non-hex digit first": { nonce: `0xg${"f".repeat(63)}` },
        "nonce with a non-hex digit last": { nonce: `0x${"f".repeat(63)}g` },
        "commitment of 33 bytes": { itemsCommitment: `0x${"00".repeat(33)}` },
        "nonce missing": { nonce: undefined },
      };
      for (const [name, change] of Object.entries(variants)) {
        const value = { ...valid, ...change } as LookupRequest;
        expect(outcome(() => lookupRequestDigest(31_337n, ledger, value)), name).to.deep.equal(outcome(() => ethersRequestDigest(31_337n, ledger, value)));
      }
      expect(outcome(() => lookupRequestDigest(31_337n, badChecksum, valid)), "ledger with a bad checksum").to.deep.equal(outcome(() => ethersRequestDigest(31_337n, badChecksum, valid)));
      const answers: Record<string, LookupAnswer> = {
        "provider with a bad checksum": { queryId: ZERO32, provider: badChecksum, keyEpoch: 1, itemCount: 0, answerDigest: FF32 },
        "key epoch above uint32": { queryId: ZERO32, provider: valid.provider, keyEpoch: 0x1_0000_0000, itemCount: 0, answerDigest: FF32 },
        "fractional count": { queryId: ZERO32, provider: valid.provider, keyEpoch: 1, itemCount: 0.5, answerDigest: FF32 },
        "digest of 31 bytes": { queryId: ZERO32, provider: valid.provider, keyEpoch: 1, itemCount: 1, answerDigest: `0x${"00".repeat(31)}` },
      };
      for (const [name, value] of Object.entries(answers)) {
        expect(outcome(() => lookupAnswerDigest(31_337n, ledger, value)), name).to.deep.equal(outcome(() => ethersAnswerDigest(31_337n, ledger, value)));
      }
    });

    it("uses the answer type string ethers encodes", () => {
      expect(TypedDataEncoder.from(mutable(LOOKUP_ANSWER_TYPES)).encodeType("LookupAnswer")).to.equal(LOOKUP_ANSWER_TYPE_STRING);
    });

    it("uses the request type string ethers encodes", () => {
      expect(TypedDataEncoder.from(mutable(LOOKUP_REQUEST_TYPES)).encodeType("LookupRequest")).to.equal(
        "LookupRequest(address querier,address provider,uint8 kind,uint64 categoryMask,uint32 itemCount,bytes32 itemsCommitment,bytes32 nonce,uint64 deadline)",
      );
    });
  });

  describe("commitments and answer digests", () => {
    const elements = fc.array(bytes(32), { minLength: 0, maxLength: 40 });
    const prefix = fc.record({ bits: fc.integer({ min: 0, max: 64 }), value: uint64 });

    it("commits to an Evaluate's blinded elements as keccak256 of their concatenation", () => {
      fc.assert(fc.property(elements, (blinded) => {
        expect(evaluateCommitment(blinded)).to.equal(keccak256(concat(blinded)));
      }), { numRuns: 300 });
    });

    it("commits to a Fetch's prefixes as keccak256 of the 32-byte salt then uint8 bits ‖ uint64 big-endian value each", () => {
      fc.assert(fc.property(fc.array(prefix, { minLength: 0, maxLength: 4 }), bytes(32), (prefixes, salt) => {
        const packed = concat([salt, ...prefixes.map((p) => concat([toBeHex(p.bits, 1), toBeHex(p.value, 8)]))]);
        expect(fetchCommitment(prefixes, salt)).to.equal(keccak256(packed));
      }), { numRuns: 300 });
      expect(fetchCommitment([{ bits: 12, value: 0xabcn }], new Uint8Array(32))).to.equal(keccak256(`0x${"00".repeat(32)}0c0000000000000abc`));
      expect(fetchCommitment([{ bits: 12, value: 0xabcn }], new Uint8Array(32).fill(1)), "the salt hides the prefix").to.not.equal(keccak256(`0x${"00".repeat(32)}0c0000000000000abc`));
      expect(() => fetchCommitment([], new Uint8Array(31)), "a short salt").to.throw(/salt/);
    });

    it("digests an Evaluate answer as keccak256(evaluated ‖ proof) and a Fetch answer as the uint32 bucket sizes", () => {
      fc.assert(fc.property(elements, bytes(64), (evaluated, proof) => {
        expect(evaluateAnswerDigest(evaluated, proof)).to.equal(keccak256(concat([...evaluated, proof])));
      }), { numRuns: 200 });
      fc.assert(fc.property(fc.array(uint32, { maxLength: 4 }), (counts) => {
        expect(fetchAnswerDigest(counts)).to.equal(keccak256(concat(counts.map((n) => toBeHex(n, 4)))));
      }), { numRuns: 200 });
      expect(fetchAnswerDigest([]), "no bucket").to.equal(keccak256("0x"));
    });

    it("refuses elements, proofs, prefixes and counts of the wrong shape with E_BAD_INPUT", () => {
      const bad: Array<[string, () => unknown]> = [
        ["31-byte element", () => evaluateCommitment([new Uint8Array(31)])],
        ["33-byte evaluated element", () => evaluateAnswerDigest([new Uint8Array(33)], new Uint8Array(64))],
        ["63-byte proof", () => evaluateAnswerDigest([], new Uint8Array(63))],
        ["65 prefix bits", () => fetchCommitment([{ bits: 65, value: 0n }], new Uint8Array(32))],
        ["negative prefix value", () => fetchCommitment([{ bits: 1, value: -1n }], new Uint8Array(32))],
        ["prefix value above uint64", () => fetchCommitment([{ bits: 64, value: UINT64_MAX + 1n }], new Uint8Array(32))],
        ["count above uint32", () => fetchAnswerDigest([0x1_0000_0000])],
        ["fractional count", () => fetchAnswerDigest([1.5])],
      ];
      for (const [name, fn] of bad) {
        let thrown: unknown;
        try {
          fn();
        } catch (err) {
          thrown = err;
        }
        expect(isRiskshareError(thrown, "E_BAD_INPUT"), name).to.equal(true);
      }
    });

    it("checksums addresses as getAddress does, and refuses what it refuses", () => {
      fc.assert(fc.property(address, (value) => {
        expect(checksumAddress(value)).to.equal(getAddress(value));
      }), { numRuns: 500 });
      const checksummed = getAddress(`0x${"5abcdef0".repeat(5)}`);
      for (const value of [checksummed.toLowerCase().replace("a", "A"), `0x${"5a".repeat(19)}`, "5a".repeat(20), "0X" + "5a".repeat(20)]) {
        expect(outcome(() => checksumAddress(value)), value).to.deep.equal(outcome(() => getAddress(value)));
      }
    });
  });

  describe("signatures", () => {
    const wallets = Array.from({ length: 8 }, () => Wallet.createRandom());

    it("signs requests and answers to the very bytes of Wallet.signTypedData", async () => {
      await fc.assert(fc.asyncProperty(fc.nat(wallets.length - 1), address, request, answer, async (index, ledger, req, ans) => {
        const wallet = wallets[index]!;
        const secretKey = Uint8Array.from(Buffer.from(wallet.privateKey.slice(2), "hex"));
        const domain = lookupDomain(31_337n, ledger);
        expect(signDigest(secretKey, lookupRequestDigestBytes(31_337n, ledger, req)), "request").to.equal(await wallet.signTypedData(domain, mutable(LOOKUP_REQUEST_TYPES), req));
        expect(signDigest(secretKey, lookupAnswerDigestBytes(31_337n, ledger, ans)), "answer").to.equal(await wallet.signTypedData(domain, mutable(LOOKUP_ANSWER_TYPES), ans));
      }), { numRuns: 150 });
    });

    it("recovers the signer verifyTypedData recovers, from 65-byte and 64-byte (EIP-2098) signatures", async () => {
      await fc.assert(fc.asyncProperty(fc.nat(wallets.length - 1), address, request, answer, async (index, ledger, req, ans) => {
        const wallet = wallets[index]!;
        const domain = lookupDomain(31_337n, ledger);
        const requestSignature = await wallet.signTypedData(domain, mutable(LOOKUP_REQUEST_TYPES), req);
        const answerSignature = await wallet.signTypedData(domain, mutable(LOOKUP_ANSWER_TYPES), ans);
        for (const signature of [requestSignature, Signature.from(requestSignature).compactSerialized]) {
          expect(recoverLookupRequestSigner(31_337n, ledger, req, signature), signature).to.equal(verifyTypedData(domain, mutable(LOOKUP_REQUEST_TYPES), req, signature)).and.equal(wallet.address);
        }
        for (const signature of [answerSignature, Signature.from(answerSignature).compactSerialized]) {
          expect(recoverLookupAnswerSigner(31_337n, ledger, ans, signature), signature).to.equal(verifyTypedData(domain, mutable(LOOKUP_ANSWER_TYPES), ans, signature)).and.equal(wallet.address);
        }
      }), { numRuns: 100 });
    });

    /** Every way to spoil a signature we could think of, each compared with ethers' recoverAddress. */
    function spoiled(signature: string): Record<string, string> {
      const raw = Buffer.from(signature.slice(2), "hex");
      const r = BigInt(`0x${raw.subarray(0, 32).toString("hex")}`);
      const s = BigInt(`0x${raw.subarray(32, 64).toString("hex")}`);
      const v = raw[64]!;
      const word = (n: bigint) => n.toString(16).padStart(64, "0");
      const hex = (rr: bigint, ss: bigint, vv: number) => `0x${word(rr)}${word(ss)}${vv.toString(16).padStart(2, "0")}`;
      const cases: Record<string, string> = {
        "as signed": signature,
        "upper-case hex": `0x${signature.slice(2).toUpperCase()}`,
        "high s (n - s), same v": hex(r, N - s, v),
        "high s (n - s), flipped v": hex(r, N - s, v ^ 1),
        "s with its top bit set": hex(r, s | (1n << 255n), v),
        "r = 0": hex(0n, s, v),
        "s = 0": hex(r, 0n, v),
        "r = n": hex(N, s, v),
        "s = n": hex(r, N, v),
        "r = n + 1": hex(N + 1n, s, v),
        "r = 2^256 - 1": hex((1n << 256n) - 1n, s, v),
        "r not an x coordinate": hex(5n, s, v),
        "64 bytes": signature.slice(0, 130),
        "64 bytes, top bit of s set": `0x${word(r)}${word(s | (1n << 255n))}`,
        "63 bytes": signature.slice(0, 128),
        "66 bytes": `${signature}00`,
        "odd length": signature.slice(0, 131),
        "no 0x": signature.slice(2),
        "empty": "",
        "0x only": "0x",
        "not hex": `0x${"zz".repeat(65)}`,
      };
      for (let vv = 0; vv <= 255; vv++) cases[`v = ${vv}`] = hex(r, s, vv);
      return cases;
    }

    it("accepts and refuses spoiled signatures exactly as ethers does (same address or same error)", async () => {
      await fc.assert(fc.asyncProperty(fc.nat(wallets.length - 1), address, request, async (index, ledger, req) => {
        const wallet = wallets[index]!;
        const digest = lookupRequestDigestBytes(31_337n, ledger, req);
        const signature = await wallet.signTypedData(lookupDomain(31_337n, ledger), mutable(LOOKUP_REQUEST_TYPES), req);
        for (const [name, candidate] of Object.entries(spoiled(signature))) {
          const ours = outcome(() => recoverDigestSigner(digest, candidate));
          expect(ours, name).to.deep.equal(outcome(() => recoverAddress(hexlify(digest), candidate)));
          expect(outcome(() => recoverLookupRequestSigner(31_337n, ledger, req, candidate)), name).to.deep.equal(ours);
        }
      }), { numRuns: 6 });
    });

    it("says a key signed a digest exactly when ethers' recovery gives that key's address", async () => {
      const keys = wallets.map((wallet) => {
        const secretKey = Uint8Array.from(Buffer.from(wallet.privateKey.slice(2), "hex"));
        return { address: wallet.address, compressed: secp256k1.getPublicKey(secretKey, true), uncompressed: secp256k1.getPublicKey(secretKey, false) };
      });
      await fc.assert(fc.asyncProperty(fc.nat(wallets.length - 1), fc.nat(wallets.length - 1), address, request, async (index, otherIndex, ledger, req) => {
        const wallet = wallets[index]!;
        const digest = lookupRequestDigestBytes(31_337n, ledger, req);
        const signature = await wallet.signTypedData(lookupDomain(31_337n, ledger), mutable(LOOKUP_REQUEST_TYPES), req);
        for (const [name, candidate] of Object.entries(spoiled(signature))) {
          const recovered = outcome(() => recoverAddress(hexlify(digest), candidate));
          for (const key of [keys[index]!, keys[otherIndex]!]) {
            const expected = "value" in recovered && recovered.value === key.address;
            expect(isDigestSignedBy(digest, candidate, key.compressed), `${name}, compressed key`).to.equal(expected);
            expect(isDigestSignedBy(digest, candidate, key.uncompressed), `${name}, uncompressed key`).to.equal(expected);
          }
        }
      }), { numRuns: 6 });
      const digest = new Uint8Array(32).fill(1);
      const signature = signDigest(Uint8Array.from(Buffer.from(wallets[0]!.privateKey.slice(2), "hex")), digest);
      expect(isDigestSignedBy(digest, signature, keys[0]!.compressed), "as signed").to.equal(true);
      expect(isDigestSignedBy(digest, signature, new Uint8Array(33)), "not a key").to.equal(false);
      expect(isDigestSignedBy(digest.subarray(0, 31), signature, keys[0]!.compressed), "short digest").to.equal(false);
    });

    it("agrees with ethers' recovery on random bytes posing as signatures, for the key checks too", () => {
      const key = secp256k1.getPublicKey(Uint8Array.from(Buffer.from(wallets[0]!.privateKey.slice(2), "hex")), true);
      fc.assert(fc.property(bytes(32), fc.oneof(bytes(65), bytes(64)), (digest, raw) => {
        const candidate = hexlify(raw);
        const recovered = outcome(() => recoverAddress(hexlify(digest), candidate));
        expect(isDigestSignedBy(digest, candidate, key)).to.equal("value" in recovered && recovered.value === wallets[0]!.address);
      }), { numRuns: 300 });
    });

    it("agrees with ethers on random bytes posing as signatures", () => {
      fc.assert(fc.property(bytes(32), fc.oneof(bytes(65), bytes(64)), (digest, raw) => {
        const candidate = hexlify(raw);
        expect(outcome(() => recoverDigestSigner(digest, candidate))).to.deep.equal(outcome(() => recoverAddress(hexlify(digest), candidate)));
      }), { numRuns: 500 });
    });
  });

  describe("the member key signer", () => {
    it("has the wallet's address and signs as the wallet does", async () => {
      const wallet = Wallet.createRandom();
      const signer = digestSignerFromEvmKey(wallet.privateKey);
      expect(signer.address).to.equal(wallet.address);
      const req: LookupRequest = {
        querier: wallet.address, provider: getAddress(`0x${"77".repeat(20)}`), kind: 0, categoryMask: 2n, itemCount: 3, itemsCommitment: FF32, nonce: ZERO32, deadline: UINT64_MAX,
      };
      const ledger = getAddress(`0x${"88".repeat(20)}`);
      expect(signer.signDigest(lookupRequestDigestBytes(1n, ledger, req))).to.equal(await wallet.signTypedData(lookupDomain(1n, ledger), mutable(LOOKUP_REQUEST_TYPES), req));
    });

    it("never shows its key when logged or inspected", () => {
      const wallet = Wallet.createRandom();
      const signer = digestSignerFromEvmKey(wallet.privateKey);
      const key = wallet.privateKey.slice(2).toLowerCase();
      for (const shown of [JSON.stringify(signer), inspect(signer, { depth: 10, showHidden: true }), String(signer)]) {
        expect(shown.toLowerCase()).not.to.include(key);
      }
    });

    it("refuses a malformed key with E_BAD_INPUT", () => {
      expect(() => digestSignerFromEvmKey("0x1234")).to.throw().with.property("code", "E_BAD_INPUT");
    });
  });
});
