/**
 * What the p2p layer needs from the rest of the node, each as the smallest interface that does.
 * The node wires real parts behind them (registry cache, store, ledger outbox, wallet); tests
 * wire small fakes.
 */
import type { Connection, DialTarget, AbortOptions, StreamHandler, StreamHandlerOptions } from "@libp2p/interface";
import type { TypedDataDomain, TypedDataField } from "ethers";

/** A peer as the p2p layer knows it once its connection is authenticated. */
export interface PeerIdentity {
  /** The PeerId bytes (multihash) the registry stores. */
  peerIdBytes: Uint8Array;
  /** The EVM address the PeerId's key stands for (checksummed). */
  address: string;
}

/** The node's view of the registry: who is an Active member right now (I-1). */
export interface MembershipView {
  /** True when an Active member's record binds this address to this PeerId. */
  isActivePeer(peer: PeerIdentity): boolean;
}

/** Unix time, injectable so deadlines can be tested. */
export interface Clock {
  /** Whole unix seconds. */
  nowSec(): number;
}

/** Signs EIP-712 typed data with the member's key (an ethers Wallet fits). */
export interface TypedDataSigner {
  /** The checksummed address of the key. */
  readonly address: string;
  signTypedData(domain: TypedDataDomain, types: Record<string, TypedDataField[]>, value: Record<string, unknown>): Promise<string>;
}

/** Signs 32-byte digests with the member's key, held in this process (see `digestSignerFromEvmKey`). */
export interface DigestSigner {
  /** The checksummed address of the key. */
  readonly address: string;
  /** 0x-hex r‖s‖v of `digest`: 65 bytes, low s, v 27 or 28 (what ethers' SigningKey.sign gives). */
  signDigest(digest: Uint8Array): string;
}

/**
 * What signs the node's lookup requests and answers. A {@link DigestSigner} signs at once; an
 * ethers Wallet is turned into one (its key stays in this process either way); any other
 * {@link TypedDataSigner} (a remote or hardware signer) is asked for each EIP-712 signature.
 */
export type LookupSigner = DigestSigner | TypedDataSigner;

/** Registers protocol handlers (a libp2p node or its registrar fits). */
export interface StreamRegistrar {
  handle(protocol: string, handler: StreamHandler, options?: StreamHandlerOptions): Promise<void>;
  unhandle(protocol: string, options?: AbortOptions): Promise<void>;
}

/** Opens connections to peers (a libp2p node fits). */
export interface PeerDialer {
  dial(peer: DialTarget, options?: AbortOptions): Promise<Connection>;
}

