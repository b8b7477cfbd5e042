/**
 * The batch worker (see batch.ts): runs each batch it is sent with the libsodium VOPRF, in order —
 * a provider's evaluation or a querier's finalization — and answers with the result or the error's
 * code. Kept free of TypeScript-only syntax beyond types, so Node's own type stripping can load it.
 */
import { parentPort } from "node:worker_threads";
import { isRiskshareError } from "../../errors.ts";
import { isWorkerClose } from "../../workers.ts";
import type { BatchRequest, BatchResponse } from "./batch.ts";
import { createVoprf } from "./factory.ts";

const port = parentPort!;
const voprf = await createVoprf({ backend: "sodium" });

port.on("message", (request: BatchRequest) => {
  if (isWorkerClose(request)) {
    port.close(); // nothing else keeps this thread: it ends
    return;
  }
  let response: BatchResponse;
  try {
    if (request.kind === "evaluate") {
      response = { id: request.id, evaluation: voprf.blindEvaluateBatch(request.secretKey, request.publicKey, request.elements) };
    } else {
      const { inputs, blinds, evaluatedElements, blindedElements, proof, providerPublicKey, outputs } = request.job;
      response = { id: request.id, outputs: voprf.finalizeBatch(inputs, blinds, evaluatedElements, blindedElements, proof, providerPublicKey, outputs) };
    }
  } catch (err) {
    // The VOPRF's own errors name an argument and an index, or the item count; anything else goes back by name only.
    response = isRiskshareError(err) ? { id: request.id, code: err.code, message: err.message } : { id: request.id, code: err instanceof Error ? err.name : typeof err };
  }
  port.postMessage(response);
});
