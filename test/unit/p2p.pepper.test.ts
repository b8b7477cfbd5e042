import { lpStream } from "@libp2p/utils";
import { expect } from "chai";
import { hexlify, randomBytes, Wallet } from "ethers";
import { isRiskshareError, type RiskshareError } from "../../node/errors.ts";
import { keyAgreementFromEvmKey, openPepper, PEPPER_PROTOCOL, sealPepper } from "../../node/p2p/index.ts";
import { FakeMembership, startNode, stopAll, type Member } from "./p2p.fixtures.ts";

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    if (isRiskshareError(err)) return err.code;
    throw err;
  }
  return "resolved";
}

describe("p2p: pepper distribution", function () {
  this.timeout(20_000);
  const membership = new FakeMembership();
  let holder: Member, newcomer: Member, outsider: Member;
  const epoch = 3;
  const secret = randomBytes(32);

  before(async () => {
    [holder, newcomer] = await Promise.all([startNode(membership), startNode(membership)]);
    outsider = await startNode(membership, { member: false });
    holder.peppers.set(epoch, secret);
  });
  after(async () => {
    await stopAll([holder, newcomer, outsider]);
  });
  afterEach(() => {
    membership.add(newcomer.address);
  });

  it("gives an Active member the epoch's pepper, sealed to its key", async () => {
    const pepper = await newcomer.pepper.fetchPepper(holder.host.getMultiaddrs(), epoch);
    expect(hexlify(pepper)).to.equal(hexlify(secret));
  });

  it("answers E_PEPPER_MISSING for an epoch it does not hold", async () => {
    expect(await codeOf(newcomer.pepper.fetchPepper(holder.host.getMultiaddrs(), epoch + 1))).to.equal("E_PEPPER_MISSING");
  });

  it("gives a non-member nothing: its connection is refused", async () => {
    expect(await codeOf(outsider.pepper.fetchPepper(holder.host.getMultiaddrs(), epoch))).to.equal("E_PEER_UNREACHABLE");
  });

  it("gives a member suspended mid-connection an E_NOT_MEMBER frame and nothing else", async () => {
    await newcomer.pepper.fetchPepper(holder.host.getMultiaddrs(), epoch); // connection open
    membership.remove(newcomer.address);
    // raw exchange, to see every byte the provider sends back
    const connection = newcomer.host.libp2p.getConnections(holder.host.peerId)[0]!;
    const stream = await connection.newStream(PEPPER_PROTOCOL);
    const lp = lpStream(stream);
    await lp.write(new TextEncoder().encode(JSON.stringify({ epoch })));
    await stream.close();
    const reply = JSON.parse(new TextDecoder().decode((await lp.read({ signal: AbortSignal.timeout(5_000) })).subarray()));
    expect(reply).to.deep.equal({ ok: false, error: { code: "E_NOT_MEMBER", message: "the peer is not an Active member" } });
    expect(await codeOf(newcomer.pepper.fetchPepper(holder.host.getMultiaddrs(), epoch))).to.equal("E_NOT_MEMBER");
  });

  it("seals so that a leaked frame opens for nobody else, and not in another context", () => {
    const requester = Wallet.createRandom();
    const thief = Wallet.createRandom();
    const requesterKeys = keyAgreementFromEvmKey(requester.privateKey);
    const context = { epoch, requesterAddress: requester.address, providerAddress: holder.address };
    const sealed = sealPepper(secret, requesterKeys.publicKey, context);
    expect(hexlify(openPepper(sealed, requesterKeys, context))).to.equal(hexlify(secret));
    expect(sealed.ciphertext).not.to.contain(hexlify(secret).slice(2));

    const attempts: [string, () => Uint8Array][] = [
      ["another key", () => openPepper(sealed, keyAgreementFromEvmKey(thief.privateKey), { ...context, requesterAddress: thief.address })],
      ["another epoch", () => openPepper(sealed, requesterKeys, { ...context, epoch: epoch + 1 })],
      ["another provider", () => openPepper(sealed, requesterKeys, { ...context, providerAddress: thief.address })],
      ["a flipped bit", () => openPepper({ ...sealed, ciphertext: `${sealed.ciphertext.slice(0, -1)}${sealed.ciphertext.endsWith("0") ? "1" : "0"}` }, requesterKeys, context)],
    ];
    for (const [name, attempt] of attempts) {
      let code: string | undefined;
      try {
        attempt();
      } catch (err) {
        code = (err as RiskshareError).code;
      }
      expect(code, name).to.equal("E_PROTOCOL");
    }
  });

  it("seals every time with a fresh ephemeral key", () => {
    const keys = keyAgreementFromEvmKey(Wallet.createRandom().privateKey);
    const context = { epoch, requesterAddress: holder.address, providerAddress: holder.address };
    const first = sealPepper(secret, keys.publicKey, context);
    const second = sealPepper(secret, keys.publicKey, context);
    expect(first.ephemeralPublicKey).not.to.equal(second.ephemeralPublicKey);
    expect(first.ciphertext).not.to.equal(second.ciphertext);
  });
});
