/**
 * This member's list store as the `list` commands open it: with the chain's active categories and,
 * for commands that derive entry keys from identifiers, the member's entry key evaluator.
 */
import { join } from "node:path";
import { DATA_DIR_LAYOUT, KeyStore } from "../node/config/index.ts";
import { RiskshareError } from "../node/errors.ts";
import { assertPhoneRegion, DEFAULT_NORMALISE_OPTIONS, normalise, type EntryKeyEvaluator, type EntryKeys } from "../node/identity/index.ts";
import { Store, type StoreTuning } from "../node/store/index.ts";
import { loadView, openChain, type ChainFlags } from "./chain.ts";
import type { CliContext } from "./context.ts";

/** An open list store, the entry key evaluator (when asked for) and the phone region of the config. */
export interface OpenStore {
  store: Store;
  evaluator: EntryKeyEvaluator | undefined;
  region: string;
  close(): Promise<void>;
}

/** Opens the data dir's store with the chain's active categories and (when `withKeys`) the member's entry key evaluator. */
export async function openStore(ctx: CliContext, flags: ChainFlags, withKeys: boolean, tuning?: StoreTuning): Promise<OpenStore> {
  const session = await openChain(ctx, flags, false);
  try {
    const view = await loadView(session, ctx);
    const region = session.config?.identity.defaultRegion ?? DEFAULT_NORMALISE_OPTIONS.defaultRegion;
    let evaluator: EntryKeyEvaluator | undefined;
    if (withKeys) {
      evaluator = await memberEvaluator(new KeyStore({ dataDir: ctx.dataDir, env: ctx.io.env }), ctx.dataDir, session.connection.chainId, view);
    }
    // Store.open() closes what it opened when it fails.
    const store = new Store({ location: join(ctx.dataDir, DATA_DIR_LAYOUT.dbDir), categories: view.activeCategoryMap(), tuning }, { logger: ctx.logger });
    await store.open();
    return { store, evaluator, region, close: async () => store.close() };
  } finally {
    session.close();
  }
}

/**
 * The member's entry key evaluator: its OPRF key of its current epoch on chain (before its
 * admission, the newest key this data dir holds), bound to (chain, member address, epoch).
 */
export async function memberEvaluator(keys: KeyStore, dataDir: string, chainId: bigint, view: { member(address: string): { keyEpoch: number } | undefined }): Promise<EntryKeyEvaluator> {
  const address = (await keys.nodeKey()).address;
  const onChainEpoch = view.member(address)?.keyEpoch;
  const key = await keys.memberOprfKey(chainId, address, onChainEpoch);
  if (key === undefined) throw new RiskshareError("E_OPRF_KEY_MISSING", `this data dir holds no OPRF key for key epoch ${onChainEpoch ?? "(newest)"}`, { dataDir });
  return key.evaluator;
}

/** The entry keys of one identifier as the list stores them (normalised in `region` first). */
export function keysOf(evaluator: EntryKeyEvaluator, type: string, value: string, region: string): EntryKeys {
  assertPhoneRegion(region);
  return evaluator.keysOf(type, normalise(type, value, { defaultRegion: region }));
}
