/**
 * Suite oprf: the RFC 9497 VOPRF primitives private lookups will be measured against, on the
 * fast path (libsodium, through node/identity/oprf) with noble's rate of the same operation as the
 * baseline (ratio = speed-up over the reference). Single-threaded, one core.
 *
 * - oprf.primitive_per_s: the library's hash-to-group (64 uniform bytes → element) + one scalar
 *   multiplication: the "raw throughput" the import and lookup targets are ratios of.
 * - oprf.scalarmult_per_s: raw scalar multiplications.
 * - oprf.evaluate_per_s: the provider's own evaluation of an input (RFC 9497 Evaluate; the import path).
 * - oprf.blind_per_s: the querier's blinding of an input.
 * - oprf.blind_evaluate_items_per_s: a 1,000-item batch evaluated with one proof, per item.
 * - oprf.finalize_items_per_s: the querier's verification of that proof and unblinding, per item.
 * - oprf.finalize_padded_ms: the querier's finalize of one provider's answer to a 5-identifier check
 *   (padded to 8 elements, the fan-out suite's check): the proof over all 8, the 5 items unblinded;
 *   baseline: the same with the 3 padding elements unblinded too.
 * - oprf.batch_model_ratio: what a batch evaluation through libsodium's public API can reach, in
 *   scalar multiplications, predicted from its operation counts: per element RFC 9497 needs the
 *   evaluation (one multiplication) and its term of the composite M = Σ dᵢ·Cᵢ (HashToScalar, one
 *   multiplication, one point addition; libsodium has no multi-scalar multiplication, and its
 *   addition decodes two points and encodes one). Model = 1 / (2 + scalarmult/add +
 *   scalarmult/HashToScalar), from those three rates measured here; baseline: what
 *   blindEvaluateBatch reaches (oprf.blind_evaluate_items_per_s ÷ oprf.scalarmult_per_s).
 *   lookup.primitive_ratio is the same quotient with the network, frames, signatures and the
 *   ledger outbox added.
 */
import { createHash } from "node:crypto";
import { ristretto255, ristretto255_hasher } from "@noble/curves/ed25519.js";
import { NobleVoprf, createVoprf, expandXmdSha512, OPRF_CONTEXT_STRING, oprfInput, readySodium, type Voprf } from "../../node/identity/index.ts";
import { evaluateShape } from "../../node/p2p/index.ts";
import { result, type ReportedResult } from "./report.ts";
import { perSecond } from "./stats.ts";
import type { Suite } from "./suite.ts";

const BATCH_ITEMS = 1_000;
/** Identifiers of the fan-out suite's check, and the shape they travel as (evaluateShape). */
const PADDED_ITEMS = 5;
const PADDED_SHAPE = evaluateShape(PADDED_ITEMS)!;
/** RFC 9497's HashToScalar domain separation tag for ristretto255-SHA512, verifiable mode. */
const HASH_TO_SCALAR_DST = Uint8Array.from([...new TextEncoder().encode("HashToScalar-"), ...OPRF_CONTEXT_STRING]);

/** Operations per second of `op`, run for at least `minMs` after `warmup` calls (one op = `items`). */
export function rate(op: (i: number) => void, minMs: number, warmup: number, items = 1): number {
  for (let i = 0; i < warmup; i++) op(i);
  let calls = 0;
  const started = performance.now();
  let elapsed = 0;
  do {
    op(calls++);
    elapsed = performance.now() - started;
  } while (elapsed < minMs);
  return perSecond(calls * items, elapsed);
}

/**
 * Raw libsodium scalar multiplications (crypto_scalarmult_ristretto255) a second on this thread:
 * the primitive other suites divide their rates by (lookup.primitive_ratio).
 */
export async function sodiumScalarmultPerSecond(minMs: number): Promise<number> {
  const sodium = await readySodium();
  const scalar = sodium.crypto_core_ristretto255_scalar_random();
  const element = sodium.crypto_core_ristretto255_from_hash(new Uint8Array(createHash("sha512").update("riskshare bench element").digest()));
  return rate(() => sodium.crypto_scalarmult_ristretto255(scalar, element), minMs, 200);
}

/** `count` deterministic byte strings of `length` from the run's seed. */
function seededBytes(seed: number, label: string, count: number, length: number): Uint8Array[] {
  return Array.from({ length: count }, (_, i) => new Uint8Array(createHash("sha512").update(`${seed}/${label}/${i}`).digest().subarray(0, length)));
}

/** A batch round: inputs, their blinding, the provider's answer. */
function round(voprf: Voprf, keys: { secretKey: Uint8Array; publicKey: Uint8Array }, inputs: Uint8Array[]) {
  const blinded = inputs.map((input) => voprf.blind(input));
  const blindedElements = blinded.map((b) => b.blindedElement);
  const answer = voprf.blindEvaluateBatch(keys.secretKey, keys.publicKey, blindedElements);
  return { blinds: blinded.map((b) => b.blind), blindedElements, ...answer };
}

/** The oprf suite. */
export const oprfSuite: Suite = {
  name: "oprf",
  async run(ctx) {
    const minMs = ctx.quick ? 700 : 3_000;
    const rounds = ctx.quick ? 2 : 3;
    const sodium = await readySodium();
    const fast = await createVoprf({ backend: "sodium" });
    const noble = new NobleVoprf();
    const keys = fast.deriveKeyPair(seededBytes(ctx.seed, "key", 1, 32)[0]!, new TextEncoder().encode("bench"));
    const skBig = ristretto255.Point.Fn.fromBytes(keys.secretKey);
    const uniform = seededBytes(ctx.seed, "uniform", 256, 64);
    const inputs = seededBytes(ctx.seed, "phone", BATCH_ITEMS, 6).map((b) => oprfInput("phone", `+86138${Buffer.from(b).readUIntBE(0, 6) % 100_000_000}`));
    const input = (i: number) => inputs[i % inputs.length]!;
    const element = sodium.crypto_core_ristretto255_from_hash(uniform[0]!);
    const nobleElement = ristretto255.Point.fromBytes(element);

    // 1,000-item batches (one request, blinded beforehand): noble's take seconds each, so it runs
    // one timed batch after one warm-up.
    const batch = round(fast, keys, inputs);
    // A 5-identifier check to one provider: 8 elements on the wire (evaluateShape(5)).
    const padded = round(fast, keys, inputs.slice(0, PADDED_SHAPE));
    const finalizeOfPadded = (outputs?: number) => () => fast.finalizeBatch(inputs.slice(0, PADDED_SHAPE), padded.blinds, padded.evaluatedElements, padded.blindedElements, padded.proof, keys.publicKey, outputs);
    const ops = {
      primitive: () => rate((i) => sodium.crypto_scalarmult_ristretto255(keys.secretKey, sodium.crypto_core_ristretto255_from_hash(uniform[i % 256]!)), minMs, 200),
      primitiveNoble: () => rate((i) => ristretto255_hasher.deriveToCurve!(uniform[i % 256]!).multiply(skBig).toBytes(), minMs, 20),
      scalarmult: () => rate(() => sodium.crypto_scalarmult_ristretto255(keys.secretKey, element), minMs, 200),
      add: () => rate((i) => sodium.crypto_core_ristretto255_add(element, batch.blindedElements[i % BATCH_ITEMS]!), minMs, 200),
      hashToScalar: () => rate((i) => sodium.crypto_core_ristretto255_scalar_reduce(expandXmdSha512(sodium, [uniform[i % 256]!], HASH_TO_SCALAR_DST, 64)), minMs, 200),
      scalarmultNoble: () => rate(() => nobleElement.multiply(skBig).toBytes(), minMs, 20),
      evaluate: () => rate((i) => fast.evaluateBatch(keys.secretKey, [input(i)]), minMs, 200),
      evaluateNoble: () => rate((i) => noble.evaluate(keys.secretKey, input(i)), minMs, 20),
      blind: () => rate((i) => fast.blind(input(i)), minMs, 200),
      blindNoble: () => rate((i) => noble.blind(input(i)), minMs, 20),
      blindEvaluate: () => rate(() => fast.blindEvaluateBatch(keys.secretKey, keys.publicKey, batch.blindedElements), minMs, 1, BATCH_ITEMS),
      blindEvaluateNoble: () => rate(() => noble.blindEvaluateBatch(keys.secretKey, keys.publicKey, batch.blindedElements), 1, 1, BATCH_ITEMS),
      finalize: () => rate(() => fast.finalizeBatch(inputs, batch.blinds, batch.evaluatedElements, batch.blindedElements, batch.proof, keys.publicKey), minMs, 1, BATCH_ITEMS),
      finalizePadded: () => rate(finalizeOfPadded(PADDED_ITEMS), minMs, 20),
      finalizePaddedAll: () => rate(finalizeOfPadded(), minMs, 20),
      finalizeNoble: () => rate(() => noble.finalizeBatch(inputs, batch.blinds, batch.evaluatedElements, batch.blindedElements, batch.proof, keys.publicKey), 1, 1, BATCH_ITEMS),
    };
    // Other work on the machine skews single figures: every figure is measured in each of a few
    // interleaved rounds and the best round kept, so ratios compare like with like.
    const best = Object.fromEntries(Object.keys(ops).map((name) => [name, 0])) as Record<keyof typeof ops, number>;
    for (let r = 0; r < rounds && !ctx.signal.aborted; r++) {
      for (const [name, op] of Object.entries(ops) as [keyof typeof ops, () => number][]) best[name] = Math.max(best[name], op());
    }
    const { primitive, primitiveNoble, scalarmult, scalarmultNoble, add, hashToScalar, evaluate, evaluateNoble, blind, blindNoble, blindEvaluate, blindEvaluateNoble, finalize, finalizeNoble, finalizePadded, finalizePaddedAll } = best;
    const model = 1 / (2 + scalarmult / add + scalarmult / hashToScalar);
    ctx.log(`oprf: hash-to-group + scalarmult ${primitive.toFixed(0)}/s (libsodium), ${primitiveNoble.toFixed(0)}/s (noble); scalarmult ${scalarmult.toFixed(0)}/s, ${scalarmultNoble.toFixed(0)}/s`);
    ctx.log(`oprf: evaluate ${evaluate.toFixed(0)}/s (libsodium), ${evaluateNoble.toFixed(0)}/s (noble); ${(evaluate / primitive).toFixed(2)} of the primitive`);
    ctx.log(`oprf: blind ${blind.toFixed(0)}/s (libsodium), ${blindNoble.toFixed(0)}/s (noble)`);
    ctx.log(`oprf: blindEvaluate, 1,000 items + one proof: ${blindEvaluate.toFixed(0)} items/s (libsodium), ${blindEvaluateNoble.toFixed(0)} items/s (noble); ${(blindEvaluate / primitive).toFixed(2)} of the primitive`);
    ctx.log(`oprf: point addition ${add.toFixed(0)}/s (${(scalarmult / add).toFixed(2)} scalarmult), HashToScalar ${hashToScalar.toFixed(0)}/s (${(scalarmult / hashToScalar).toFixed(2)} scalarmult): a batch element costs ${(1 / model).toFixed(2)} scalarmult, a ratio of ${model.toFixed(3)}; blindEvaluateBatch reaches ${(blindEvaluate / scalarmult).toFixed(3)}`);
    ctx.log(`oprf: finalize, 1,000 items (proof checked): ${finalize.toFixed(0)} items/s (libsodium), ${finalizeNoble.toFixed(0)} items/s (noble)`);

    const nobleIs = (what: string) => `noble (@noble/curves) ${what}, same core`;
    const results: ReportedResult[] = [
      result({ name: "oprf.primitive_per_s", value: primitive, unit: "ops/s", baseline: primitiveNoble, baselineIs: nobleIs("hash-to-group + scalarmult") }),
      result({ name: "oprf.scalarmult_per_s", value: scalarmult, unit: "ops/s", baseline: scalarmultNoble, baselineIs: nobleIs("scalarmult") }),
      result({ name: "oprf.evaluate_per_s", value: evaluate, unit: "ops/s", baseline: evaluateNoble, baselineIs: nobleIs("RFC 9497 Evaluate") }),
      result({ name: "oprf.blind_per_s", value: blind, unit: "ops/s", baseline: blindNoble, baselineIs: nobleIs("blind") }),
      result({ name: "oprf.blind_evaluate_items_per_s", value: blindEvaluate, unit: "items/s", baseline: blindEvaluateNoble, baselineIs: nobleIs("blindEvaluateBatch, 1,000 items, one proof") }),
      result({
        name: "oprf.batch_model_ratio", value: model, unit: "×", baseline: blindEvaluate / scalarmult,
        baselineIs: "blindEvaluateBatch items/s ÷ scalarmult/s, same run (model: 1 / (2 + scalarmult/add + scalarmult/HashToScalar))",
      }),
      result({ name: "oprf.finalize_items_per_s", value: finalize, unit: "items/s", baseline: finalizeNoble, baselineIs: nobleIs("finalizeBatch, 1,000 items, proof checked") }),
      result({
        name: "oprf.finalize_padded_ms", value: 1000 / finalizePadded, unit: "ms", baseline: 1000 / finalizePaddedAll,
        baselineIs: `the same finalize unblinding the ${PADDED_SHAPE - PADDED_ITEMS} padding elements too (${PADDED_ITEMS} identifiers as ${PADDED_SHAPE} elements, proof checked over all)`,
      }),
    ];
    return results;
  },
};
