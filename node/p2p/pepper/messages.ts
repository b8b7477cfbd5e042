/**
 * The frames of `/riskshare/pepper/1`, checked on every message in both directions.
 */
import { z } from "zod";
import { errorFrame } from "../frames.ts";
import { PEPPER_BYTES } from "./constants.ts";

const hexBytes = (bytes: number) => z.string().regex(new RegExp(`^0x[0-9a-fA-F]{${bytes * 2}}$`), `must be ${bytes} bytes of 0x-hex`);
const epoch = z.number().int().min(0).max(0xffff_ffff);

/** The requester's frame: which epoch's pepper it wants. */
export const pepperRequestFrame = z.strictObject({ epoch });

/** The pepper sealed to the requester (ECIES: ephemeral secp256k1 key, HKDF-SHA256, AES-256-GCM). */
export const sealedPepperFrame = z.strictObject({
  ok: z.literal(true),
  epoch,
  /** Compressed ephemeral public key. */
  ephemeralPublicKey: hexBytes(33),
  iv: hexBytes(12),
  /** AES-256-GCM ciphertext followed by its 16-byte tag. */
  ciphertext: hexBytes(PEPPER_BYTES + 16),
});

/** The provider's frame. */
export const pepperResponseFrame = z.discriminatedUnion("ok", [sealedPepperFrame, errorFrame]);

export type PepperRequestFrame = z.infer<typeof pepperRequestFrame>;
export type SealedPepperFrame = z.infer<typeof sealedPepperFrame>;
export type PepperResponseFrame = z.infer<typeof pepperResponseFrame>;
