/**
 * Pure parts of the filter protocol: the canonical encoding of a filter state (what the provider
 * signs), the net effect of a delta log, and applying it to a held copy.
 *
 * Encoding (big-endian): "riskshare/filter-state/v1" ‖ provider (20 B) ‖ uint8 category ‖
 * uint32 epoch ‖ baseHash (32 B) ‖ uint64 baseCount ‖ uint64 fromSeq ‖ uint64 seq ‖
 * uint32 n ‖ n adds (8 B each) ‖ uint32 m ‖ m removes (8 B each) ‖ when the state has notices:
 * uint32 k ‖ k × (tag (8 B) ‖ uint16 length ‖ sealed notice). A state without notices encodes as
 * before notices existed.
 */
import { keccak_256 } from "@noble/hashes/sha3.js";
import { hexToBytes } from "@noble/hashes/utils.js";
import { FILTER_STATE_LABEL } from "./constants.ts";
import type { FilterState } from "./messages.ts";
import { filterCommitment } from "../../chain/index.ts";

const LABEL = new TextEncoder().encode(FILTER_STATE_LABEL);

/** The canonical bytes of a state. */
export function encodeFilterState(state: FilterState): Uint8Array {
  const notices = state.notices?.map((notice) => ({ tag: hexToBytes(notice.tag.slice(2)), sealed: new Uint8Array(Buffer.from(notice.sealed, "base64")) }));
  const noticeBytes = notices === undefined ? 0 : 4 + notices.reduce((sum, n) => sum + 8 + 2 + n.sealed.length, 0);
  const out = new Uint8Array(LABEL.length + 20 + 1 + 4 + 32 + 8 * 3 + 4 + 8 * state.adds.length + 4 + 8 * state.removes.length + noticeBytes);
  const view = new DataView(out.buffer);
  let at = 0;
  out.set(LABEL, at);
  at += LABEL.length;
  out.set(hexToBytes(state.provider.slice(2)), at);
  at += 20;
  out[at] = state.category;
  at += 1;
  view.setUint32(at, state.epoch);
  at += 4;
  out.set(hexToBytes(state.baseHash.slice(2)), at);
  at += 32;
  for (const n of [state.baseCount, state.fromSeq, state.seq]) {
    view.setBigUint64(at, BigInt(n));
    at += 8;
  }
  for (const tags of [state.adds, state.removes]) {
    view.setUint32(at, tags.length);
    at += 4;
    for (const tag of tags) {
      out.set(hexToBytes(tag.slice(2)), at);
      at += 8;
    }
  }
  if (notices !== undefined) {
    view.setUint32(at, notices.length);
    at += 4;
    for (const notice of notices) {
      out.set(notice.tag, at);
      view.setUint16(at + 8, notice.sealed.length);
      out.set(notice.sealed, at + 10);
      at += 10 + notice.sealed.length;
    }
  }
  return out;
}

/** keccak256 of {@link encodeFilterState}: the digest the provider signs. */
export function filterStateDigest(state: FilterState): Uint8Array {
  return keccak_256(encodeFilterState(state));
}

/** One entry of a provider's delta log. */
export interface FilterDelta {
  seq: number;
  adds: readonly Uint8Array[];
  removes: readonly Uint8Array[];
  /** Sealed delisting notices of removed tags (node/store/delisting.ts). */
  notices?: readonly { tag: Uint8Array; sealed: Uint8Array }[];
}

/** A sealed delisting notice as the wire carries it. */
export interface WireNotice {
  tag: string;
  sealed: string;
}

/**
 * Net adds and removes (lower-case 0x-hex tags) of a delta log applied in order: the later change of
 * a tag wins; the notices (base64) of tags whose net change is a removal, in tag order.
 */
export function netDeltas(deltas: readonly FilterDelta[]): { adds: string[]; removes: string[]; notices: WireNotice[] } {
  const adds = new Set<string>();
  const removes = new Set<string>();
  const notices = new Map<string, string>();
  for (const delta of [...deltas].sort((a, b) => a.seq - b.seq)) {
    for (const tag of delta.adds) {
      applyTag(adds, removes, tagHex(tag), true);
      notices.delete(tagHex(tag));
    }
    for (const tag of delta.removes) {
      applyTag(adds, removes, tagHex(tag), false);
      notices.delete(tagHex(tag));
    }
    for (const notice of delta.notices ?? []) notices.set(tagHex(notice.tag), Buffer.from(notice.sealed).toString("base64"));
  }
  const kept = [...notices].filter(([tag]) => removes.has(tag)).sort(([a], [b]) => (a < b ? -1 : 1));
  return { adds: [...adds].sort(), removes: [...removes].sort(), notices: kept.map(([tag, sealed]) => ({ tag, sealed })) };
}

/** Applies one tag change to a held copy's add and remove sets. */
export function applyTag(adds: Set<string>, removes: Set<string>, tag: string, added: boolean): void {
  if (added) {
    adds.add(tag);
    removes.delete(tag);
  } else {
    removes.add(tag);
    adds.delete(tag);
  }
}

/** A tag as lower-case 0x-hex. */
export function tagHex(tag: Uint8Array): string {
  return `0x${Buffer.from(tag.buffer, tag.byteOffset, 8).toString("hex")}`;
}

/** The commitment to base filter bytes, as the chain's `filterHash` (0x-hex, lower case; node/chain/filter-commitment.ts). */
export function baseFilterHash(bytes: Uint8Array): string {
  return filterCommitment(bytes);
}
