/**
 * The associated data an entry's sealed metadata is bound to (spec section 3):
 *   "riskshare/metadata/v1" ‖ chainId (u64) ‖ provider (20 B) ‖ keyEpoch (u32) ‖ type ‖ 0x00 ‖ version (u32) ‖ tag (8 B)
 *
 * STAND-IN: the store branch defines it next to sealMetadata/openMetadata.
 * TODO(integrator): replace metadataAssociatedData with the store's (or identity's) function of the same bytes.
 */
const LABEL = new TextEncoder().encode("riskshare/metadata/v1");

/** What the associated data binds. */
export interface MetadataContext {
  chainId: bigint;
  providerAddress: string;
  keyEpoch: number;
  type: string;
  version: number;
  tag: Uint8Array;
}

/** The associated data of one entry's metadata. */
export function metadataAssociatedData(context: MetadataContext): Uint8Array {
  const type = new TextEncoder().encode(context.type);
  const out = new Uint8Array(LABEL.length + 8 + 20 + 4 + type.length + 1 + 4 + 8);
  const view = new DataView(out.buffer);
  let at = 0;
  out.set(LABEL, at);
  at += LABEL.length;
  view.setBigUint64(at, context.chainId);
  at += 8;
  out.set(Buffer.from(context.providerAddress.slice(2), "hex"), at);
  at += 20;
  view.setUint32(at, context.keyEpoch);
  at += 4;
  out.set(type, at);
  at += type.length + 1; // 0x00 ends the type
  view.setUint32(at, context.version);
  at += 4;
  out.set(context.tag.subarray(0, 8), at);
  return out;
}
