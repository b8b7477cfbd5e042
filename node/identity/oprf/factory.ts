/**
 * Building a {@link Voprf}: libsodium needs its WebAssembly instantiated once (asynchronously)
 * before first use, so the fast backend comes from an async factory; noble needs nothing.
 */
import { NobleVoprf } from "./noble.ts";
import { SodiumVoprf, type Sodium } from "./sodium.ts";
import type { Voprf, VoprfBackend } from "./voprf.ts";

/** Options of {@link createVoprf}. */
export interface VoprfOptions {
  /** "sodium" (fast, the default) or "noble" (the reference). */
  readonly backend?: VoprfBackend | undefined;
}

/** The default backend: libsodium, proven byte-identical to noble by the tests. */
export const DEFAULT_VOPRF_OPTIONS = { backend: "sodium" } as const satisfies VoprfOptions;

let sodiumReady: Promise<Sodium> | undefined;

/** Loads and initialises libsodium once per process; later calls share the same promise. */
export function readySodium(): Promise<Sodium> {
  sodiumReady ??= import("libsodium-wrappers-sumo").then(async (module) => {
    const sodium = module.default;
    await sodium.ready;
    return sodium;
  });
  return sodiumReady;
}

/** A ready VOPRF of the chosen backend (libsodium by default). */
export async function createVoprf(opts: VoprfOptions = {}): Promise<Voprf> {
  const backend = opts.backend ?? DEFAULT_VOPRF_OPTIONS.backend;
  if (backend === "noble") return new NobleVoprf();
  return new SodiumVoprf({ sodium: await readySodium() });
}
