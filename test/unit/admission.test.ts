/**
 * Admission requests (node/chain/admission.ts): what a candidate signs, checked against the
 * libraries the node runs on — the PeerId is the one @libp2p/peer-id derives from the member key,
 * the signature the one ethers' signTypedData makes — and refused field by field, as the CLI does
 * before proposing, with E_ADMISSION_REQUEST naming the field.
 */
import { expect } from "chai";
import { Signature, Wallet, concat, getBytes, toBeHex } from "ethers";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import {
  ADMISSION_TYPES, admissionDomain, admissionPeerId, admitArgs, createAdmissionRequest, mutable, parseAdmissionRequest, type AdmissionRequest,
} from "../../node/chain/index.ts";
import { peerIdBytes, peerIdFromEvmKey } from "../../node/p2p/index.ts";
import { isRiskshareError } from "../../node/errors.ts";

const CHAIN_ID = 31_337n;
const REGISTRY = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
const OPRF_KEY = `0x${"5e".repeat(32)}`;

/** A request of a fresh key, and that key. */
function freshRequest(name = "Bank D"): { wallet: Wallet; request: AdmissionRequest } {
  const wallet = Wallet.createRandom() as unknown as Wallet;
  return { wallet, request: createAdmissionRequest(getBytes(wallet.privateKey), { name, oprfKey: OPRF_KEY, chainId: CHAIN_ID, registry: REGISTRY }) };
}

/** Runs `parse` and returns the E_ADMISSION_REQUEST's field; fails if it does not throw one. */
function refusedField(raw: unknown, expected = { chainId: CHAIN_ID, registry: REGISTRY }): string {
  try {
    parseAdmissionRequest(raw, expected);
  } catch (err) {
    expect(isRiskshareError(err, "E_ADMISSION_REQUEST"), String(err)).to.equal(true);
    return String((err as { meta: { field: string } }).meta.field);
  }
  expect.fail("the request was accepted");
}

describe("admission requests", () => {
  it("carry the PeerId libp2p derives from the member key, for many keys and both parities", () => {
    const parities = new Set<number>();
    for (let i = 0; i < 16; i++) {
      const { wallet, request } = freshRequest();
      expect(request.peerId, `key ${i}`).to.equal(`0x${Buffer.from(peerIdBytes(peerIdFromEvmKey(wallet.privateKey))).toString("hex")}`);
      expect(request.account, `key ${i}`).to.equal(wallet.address);
      expect(request.publicKey, `key ${i}`).to.equal(`0x${wallet.signingKey.publicKey.slice(4)}`);
      parities.add(getBytes(request.peerId)[6]!);
    }
    expect([...parities].sort(), "keys of both y parities were drawn").to.deep.equal([2, 3]);
  });

  it("are signed as ethers' signTypedData signs the Admission struct under the registry's domain", async () => {
    const { wallet, request } = freshRequest();
    const { account, name, peerId, publicKey, oprfKey } = request;
    const viaEthers = await wallet.signTypedData(admissionDomain(CHAIN_ID, REGISTRY), mutable(ADMISSION_TYPES), { account, name, peerId, publicKey, oprfKey });
    expect(request.signature).to.equal(viaEthers);
    expect(request).to.include({ chainId: CHAIN_ID.toString(), registry: REGISTRY });
  });

  it("parse back to the Admit arguments they were made with, whatever the hex case", () => {
    const { request } = freshRequest("Bank D 银行");
    const shouted = { ...request, publicKey: request.publicKey.toUpperCase().replace("0X", "0x"), account: request.account.toLowerCase() };
    const parsed = parseAdmissionRequest(JSON.parse(JSON.stringify(shouted)), { chainId: CHAIN_ID, registry: REGISTRY.toLowerCase() });
    expect(admitArgs(parsed)).to.deep.equal(admitArgs(request));
  });

  it("are refused naming the field that is wrong", () => {
    const { request } = freshRequest();
    const other = freshRequest().request;
    const x = request.publicKey.slice(2, 66);
    const y = BigInt(`0x${request.publicKey.slice(66)}`);
    const signature = Signature.from(request.signature);
    const highS = concat([signature.r, toBeHex(secp256k1.Point.Fn.ORDER - BigInt(signature.s), 32), signature.v === 27 ? "0x1c" : "0x1b"]);
    const cases: Array<[string, unknown, string]> = [
      ["not an object", "request.json", "request"],
      ["no account", { ...request, account: undefined }, "account"],
      ["a bad account", { ...request, account: "0x1234" }, "account"],
      ["an empty name", { ...request, name: "" }, "name"],
      ["a name with spaces around", { ...request, name: " Bank D" }, "name"],
      ["a name over 128 bytes", { ...request, name: "银".repeat(43) }, "name"],
      ["a short PeerId", { ...request, peerId: "0x0025" }, "peerId"],
      ["a 65-byte key", { ...request, publicKey: `0x04${request.publicKey.slice(2)}` }, "publicKey"],
      ["a zero OPRF key", { ...request, oprfKey: `0x${"00".repeat(32)}` }, "oprfKey"],
      ["a chain id as a number", { ...request, chainId: 31_337 }, "chainId"],
      ["another chain", { ...request, chainId: "1" }, "chainId"],
      ["another registry", { ...request, registry: other.account }, "registry"],
      ["a key off the curve", { ...request, publicKey: `0x${x}${toBeHex((y + 1n) % secp256k1.Point.Fp.ORDER, 32).slice(2)}` }, "publicKey"],
      ["another account's key", { ...request, publicKey: other.publicKey }, "publicKey"],
      ["another key's PeerId", { ...request, peerId: other.peerId }, "peerId"],
      ["another name than signed", { ...request, name: "Bank E" }, "signature"],
      ["another OPRF key than signed", { ...request, oprfKey: `0x${"5f".repeat(32)}` }, "signature"],
      ["another key's signature", { ...request, signature: other.signature }, "signature"],
      ["the high-s twin", { ...request, signature: highS }, "signature"],
      ["a compact signature", { ...request, signature: signature.compactSerialized }, "signature"],
    ];
    for (const [what, raw, field] of cases) expect(refusedField(raw), what).to.equal(field);
  });

  it("name the PeerId of any key form the same way", () => {
    const { wallet, request } = freshRequest();
    const uncompressed = getBytes(wallet.signingKey.publicKey);
    expect(admissionPeerId(uncompressed)).to.equal(request.peerId);
    expect(admissionPeerId(uncompressed.subarray(1))).to.equal(request.peerId);
    expect(admissionPeerId(getBytes(wallet.signingKey.compressedPublicKey))).to.equal(request.peerId);
  });
});
