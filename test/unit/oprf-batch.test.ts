import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { expect } from "chai";
import { isRiskshareError } from "../../node/errors.ts";
import { createVoprf, INLINE_EVALUATE_MAX, OffThreadBatchEvaluator, oprfInput, type BlindEvaluation, type Voprf } from "../../node/identity/index.ts";

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString("hex");

/**
 * Runs `start` and counts the event loop's turns (setImmediate) until its promise settles. A batch
 * evaluated in place blocks the loop, so it settles after at most one turn; one evaluated on another
 * thread lets the loop turn many times meanwhile.
 */
async function turnsWhile<T>(start: () => Promise<T>): Promise<{ turns: number; result: T }> {
  let turns = 0;
  let settled = false;
  const spin = (): void => {
    if (settled) return;
    turns += 1;
    setImmediate(spin);
  };
  setImmediate(spin);
  const result = await start().finally(() => (settled = true));
  return { turns, result };
}

async function expectRejects(promise: Promise<unknown>, code: string, message?: RegExp): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    expect(isRiskshareError(err), `a RiskshareError (${String(err)})`).to.equal(true);
    expect((err as { code: string }).code).to.equal(code);
    if (message) expect((err as Error).message).to.match(message);
    return err as Error;
  }
  return expect.fail(`expected ${code}, it resolved`);
}

describe("OffThreadBatchEvaluator: large VOPRF batches off the thread that answers lookups", function () {
  this.timeout(60_000);
  let voprf: Voprf;
  let key: { secretKey: Uint8Array; publicKey: Uint8Array };
  const inputs = Array.from({ length: 256 }, (_, i) => oprfInput("phone", `+86138${String(10_000_000 + i)}`));
  let blinds: Uint8Array[];
  let elements: Uint8Array[];
  const evaluators: OffThreadBatchEvaluator[] = [];
  const evaluator = (opts?: ConstructorParameters<typeof OffThreadBatchEvaluator>[1]): OffThreadBatchEvaluator => {
    const made = new OffThreadBatchEvaluator(voprf, opts);
    evaluators.push(made);
    return made;
  };

  before(async () => {
    voprf = await createVoprf();
    key = voprf.generateKeyPair();
    const blinded = inputs.map((input) => voprf.blind(input));
    blinds = blinded.map((b) => b.blind);
    elements = blinded.map((b) => b.blindedElement);
  });
  after(async () => {
    await Promise.all(evaluators.map((e) => e.close()));
  });

  /** The outputs a querier finalizes from `answer` (the proof checked), against the provider's own evaluation. */
  function expectVerifies(answer: BlindEvaluation, count: number): void {
    const outputs = voprf.finalizeBatch(inputs.slice(0, count), blinds.slice(0, count), answer.evaluatedElements, elements.slice(0, count), answer.proof, key.publicKey);
    expect(outputs.map(hex)).to.deep.equal(voprf.evaluateBatch(key.secretKey, inputs.slice(0, count)).map(hex));
  }

  it(`evaluates a batch of more than ${INLINE_EVALUATE_MAX} elements on a worker thread: the event loop turns meanwhile, and the answer's proof verifies`, async () => {
    const batches = evaluator();
    const { turns, result: answer } = await turnsWhile(() => batches.evaluate(key.secretKey, key.publicKey, elements));
    expect(batches.workersStarted).to.equal(1);
    expect(turns, "event loop turns while 256 elements were evaluated").to.be.greaterThan(10);
    expect(answer.evaluatedElements.map(hex), "the same elements as in place").to.deep.equal(voprf.blindEvaluateBatch(key.secretKey, key.publicKey, elements).evaluatedElements.map(hex));
    expectVerifies(answer, elements.length);
    // The worker stays for the next batches, which it evaluates in order.
    const [a, b] = await Promise.all([batches.evaluate(key.secretKey, key.publicKey, elements.slice(0, 100)), batches.evaluate(key.secretKey, key.publicKey, elements.slice(0, 200))]);
    expectVerifies(a, 100);
    expectVerifies(b, 200);
    expect(batches.workersStarted).to.equal(1);
  });

  it("finalizes a large batch on the worker thread too: the same outputs, the event loop turning, a false proof refused", async () => {
    const batches = evaluator();
    const answer = voprf.blindEvaluateBatch(key.secretKey, key.publicKey, elements);
    const job = { inputs, blinds, evaluatedElements: answer.evaluatedElements, blindedElements: elements, proof: answer.proof, providerPublicKey: key.publicKey, outputs: 200 };
    const { turns, result: outputs } = await turnsWhile(() => batches.finalize(job));
    expect(turns, "event loop turns while 256 elements were finalized").to.be.greaterThan(10);
    expect(outputs.map(hex)).to.deep.equal(voprf.evaluateBatch(key.secretKey, inputs.slice(0, 200)).map(hex));
    const other = voprf.generateKeyPair();
    await expectRejects(batches.finalize({ ...job, providerPublicKey: other.publicKey }), "E_OPRF_PROOF");
    // A small one stays in place.
    const small = voprf.blindEvaluateBatch(key.secretKey, key.publicKey, elements.slice(0, 8));
    const { turns: smallTurns } = await turnsWhile(() => batches.finalize({ inputs: inputs.slice(0, 8), blinds: blinds.slice(0, 8), evaluatedElements: small.evaluatedElements, blindedElements: elements.slice(0, 8), proof: small.proof, providerPublicKey: key.publicKey }));
    expect(smallTurns).to.be.at.most(1);
    expect(batches.workersStarted).to.equal(1);
  });

  it(`evaluates a batch of at most ${INLINE_EVALUATE_MAX} elements in place, with no worker`, async () => {
    const batches = evaluator();
    const { turns, result: answer } = await turnsWhile(() => batches.evaluate(key.secretKey, key.publicKey, elements.slice(0, INLINE_EVALUATE_MAX)));
    expect(turns, "the loop was held for the whole batch").to.be.at.most(1);
    expect(batches.workersStarted).to.equal(0);
    expectVerifies(answer, INLINE_EVALUATE_MAX);
  });

  it("passes the VOPRF's input errors back with their code and index; the worker goes on", async () => {
    const batches = evaluator({ inlineMax: 0 });
    const bad = [...elements.slice(0, 8)];
    bad[5] = new Uint8Array(32).fill(0xff);
    const err = await expectRejects(batches.evaluate(key.secretKey, key.publicKey, bad), "E_OPRF_ELEMENT", /5/);
    expect(err.message).to.not.match(/ff{8}/);
    await expectRejects(batches.evaluate(key.secretKey, voprf.generateKeyPair().publicKey, elements.slice(0, 8)), "E_OPRF_KEY");
    expectVerifies(await batches.evaluate(key.secretKey, key.publicKey, elements.slice(0, 8)), 8);
    expect(batches.workersStarted).to.equal(1);
  });

  it("fails the batches of a worker that dies with E_INTERNAL, and starts a new worker for the next", async () => {
    const batches = evaluator({ workerUrl: new URL("../fixtures/dying-batch-worker.ts", import.meta.url) });
    await expectRejects(batches.evaluate(key.secretKey, key.publicKey, elements), "E_INTERNAL", /worker stopped/);
    expect(batches.workersStarted).to.equal(1);
    await expectRejects(batches.evaluate(key.secretKey, key.publicKey, elements), "E_INTERNAL", /worker stopped/);
    expect(batches.workersStarted, "a new worker each time").to.equal(2);
  });

  it("keeps a process alive while a batch is out, and not once the worker is idle", async () => {
    const child = fileURLToPath(new URL("../fixtures/batchChild.ts", import.meta.url));
    const { stdout } = await promisify(execFile)(process.execPath, ["--import", "tsx", child], { timeout: 30_000 });
    expect(stdout).to.equal("evaluated 100\n");
  });

  it("close() fails what is pending and refuses what comes after", async () => {
    const batches = evaluator();
    const pending = batches.evaluate(key.secretKey, key.publicKey, elements);
    pending.catch(() => undefined); // awaited below, after close()
    await batches.close();
    await expectRejects(pending, "E_INTERNAL", /stopped before the batch was evaluated/);
    await expectRejects(batches.evaluate(key.secretKey, key.publicKey, elements.slice(0, 1)), "E_INTERNAL", /closed/);
    expect(() => new OffThreadBatchEvaluator(voprf, { inlineMax: -1 })).to.throw(/inlineMax/);
  });
});
