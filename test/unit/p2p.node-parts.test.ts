import { expect } from "chai";
import { Wallet, hexlify } from "ethers";
import { MemberStatus } from "../../node/chain/index.ts";
import { bucketBits, evaluateShape, isCanonicalPrefix, peerIdBytes, peerIdFromEvmKey, prefixOfTag, registryMembership, tagHasPrefix } from "../../node/p2p/index.ts";


function identity() {
  const wallet = Wallet.createRandom();
  const peerIdHex = hexlify(peerIdBytes(peerIdFromEvmKey(wallet.privateKey)));
  return { address: wallet.address, peerId: peerIdHex };
}

describe("p2p: membership read from the registry", () => {
  const alice = identity();
  const peer = { address: alice.address, peerIdBytes: Uint8Array.from(Buffer.from(alice.peerId.slice(2), "hex")) };

  it("admits only an Active record binding the address to that PeerId, and nobody while the registry is stale", () => {
    const other = identity();
    const cases = [
      { name: "Active", record: { status: MemberStatus.Active, peerId: alice.peerId }, stale: false, admitted: true },
      { name: "Suspended", record: { status: MemberStatus.Suspended, peerId: alice.peerId }, stale: false, admitted: false },
      { name: "another PeerId", record: { status: MemberStatus.Active, peerId: other.peerId }, stale: false, admitted: false },
      { name: "no record", record: undefined, stale: false, admitted: false },
      { name: "stale registry", record: { status: MemberStatus.Active, peerId: alice.peerId }, stale: true, admitted: false },
    ];
    for (const { name, record, stale, admitted } of cases) {
      const membership = registryMembership({ health: () => ({ stale }), member: (address) => (address === alice.address ? record : undefined) });
      expect(membership.isActivePeer(peer), name).to.equal(admitted);
    }
  });
});


describe("p2p: lookup/2 shapes, bucket bits and prefixes", () => {
  it("pads to the next allowed shape", () => {
    const table: [number, number | undefined][] = [[1, 1], [2, 2], [3, 4], [5, 8], [100, 128], [513, 1000], [1000, 1000], [1001, undefined]];
    for (const [items, shape] of table) expect(evaluateShape(items), `${items} items`).to.equal(shape);
  });

  it("gives max(0, floor(log2(liveCount / 256))) bucket bits", () => {
    const table: [number, number][] = [[0, 0], [255, 0], [511, 0], [512, 1], [1023, 1], [1024, 2], [1_000_000, 11], [2 ** 40, 32]];
    for (const [liveCount, bits] of table) expect(bucketBits(liveCount), `${liveCount} entries`).to.equal(bits);
  });

  it("takes left-aligned prefixes of tags", () => {
    const tag = Uint8Array.from([0xab, 0xcd, 0xef, 0x01, 0x23, 0x45, 0x67, 0x89]);
    expect(prefixOfTag(tag, 0)).to.deep.equal({ bits: 0, value: 0n });
    expect(prefixOfTag(tag, 4)).to.deep.equal({ bits: 4, value: 0xa000000000000000n });
    expect(prefixOfTag(tag, 64)).to.deep.equal({ bits: 64, value: 0xabcdef0123456789n });
    for (const bits of [0, 1, 7, 13, 64]) {
      expect(tagHasPrefix(tag, prefixOfTag(tag, bits)), `${bits} bits`).to.equal(true);
      expect(isCanonicalPrefix(prefixOfTag(tag, bits)), `${bits} bits canonical`).to.equal(true);
    }
    expect(isCanonicalPrefix({ bits: 4, value: 0xa100000000000000n })).to.equal(false);
  });
});
