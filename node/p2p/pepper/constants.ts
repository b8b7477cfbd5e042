/**
 * Fixed numbers of `/riskshare/pepper/1`. Changing any of them changes the protocol: bump the id.
 */

/** The protocol id a stream negotiates. */
export const PEPPER_PROTOCOL = "/riskshare/pepper/1";

/** A pepper is 32 random bytes (the HMAC-SHA256 key of an epoch). */
export const PEPPER_BYTES = 32;

/** Frames are tiny (an epoch number; a 33-byte key, 12-byte IV and 48-byte ciphertext in hex). */
export const MAX_FRAME_BYTES = 4_096;

/** Provider side: budget of one exchange. */
export const TIMEOUT_MS = 10_000;

/** Requester side: how long a provider may take. */
export const CLIENT_TIMEOUT_MS = 5_000;

/** A member asks for a pepper once per epoch; a few concurrent streams per connection are plenty. */
export const MAX_INBOUND_STREAMS = 4;

/** Domain separation of the key derivation and the AEAD's associated data. */
export const PEPPER_CONTEXT_LABEL = "riskshare/pepper/1";

/** How often a node without the current pepper asks its peers again (a new member's first start). */
export const FETCH_RETRY_MS = 2_000;
