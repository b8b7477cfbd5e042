/**
 * This member's list store as the `list` commands open it: with the chain's active categories and,
 * for commands that hash identifiers, the hasher of the consortium's current pepper.
 */
import { join } from "node:path";
import { DATA_DIR_LAYOUT, KeyStore } from "../node/config/index.ts";
import { RiskshareError } from "../node/errors.ts";
import { assertPhoneRegion, DEFAULT_NORMALISE_OPTIONS, Hasher, normalise } from "../node/identity/index.ts";
import { Store, type StoreTuning } from "../node/store/index.ts";
import { loadView, openChain, type ChainFlags } from "./chain.ts";
import type { CliContext } from "./context.ts";

/** An open list store, the pepper's hasher (when asked for) and the phone region of the config. */
export interface OpenStore {
  store: Store;
  hasher: Hasher | undefined;
  region: string;
  close(): Promise<void>;
}

/** Opens the data dir's store with the chain's active categories and (when `withPepper`) the current pepper's hasher. */
export async function openStore(ctx: CliContext, flags: ChainFlags, withPepper: boolean, tuning?: StoreTuning): Promise<OpenStore> {
  const session = await openChain(ctx, flags, false);
  try {
    const view = await loadView(session, ctx);
    const region = session.config?.identity.defaultRegion ?? DEFAULT_NORMALISE_OPTIONS.defaultRegion;
    let hasher: Hasher | undefined;
    if (withPepper) {
      // The chain no longer names a pepper epoch (protocol v2); until the store is rewired onto the
      // OPRF keys (integration), the latest pepper the key store holds is the one in use.
      const keys = new KeyStore({ dataDir: ctx.dataDir });
      const epoch = (await keys.pepperEpochs()).at(-1) ?? 1;
      const pepper = await keys.pepper(epoch);
      if (!pepper) throw new RiskshareError("E_PEPPER_MISSING", `this node does not hold the consortium pepper of epoch ${epoch}`, { epoch });
      hasher = Hasher.fromPepper({ epoch, pepper });
    }
    // Store.open() closes what it opened when it fails.
    const store = new Store({ location: join(ctx.dataDir, DATA_DIR_LAYOUT.dbDir), categories: view.activeCategoryMap(), tuning }, { logger: ctx.logger });
    await store.open();
    return { store, hasher, region, close: async () => store.close() };
  } finally {
    session.close();
  }
}

/** The salted hash of one identifier as the list stores it (normalised in `region` first). */
export function hashOf(hasher: Hasher, type: string, value: string, region: string): Uint8Array {
  assertPhoneRegion(region);
  return hasher.hash(type, normalise(type, value, { defaultRegion: region }));
}
