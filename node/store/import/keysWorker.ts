/**
 * An import keys worker (see keys.ts): builds the provider's evaluator from the secret it was
 * handed, and answers each batch of (type, normalised identifier) with their packed keys. Kept free
 * of TypeScript-only syntax beyond types, so Node's own type stripping can load it.
 */
import { parentPort, workerData } from "node:worker_threads";
import { EntryKeyEvaluator, type EntryKeySecret } from "../../identity/index.ts";
import { packKeys } from "./convert.ts";
import { isWorkerClose } from "../../workers.ts";
import type { KeysRequest, KeysResponse } from "./keys.ts";

const port = parentPort!;
const evaluator = await EntryKeyEvaluator.create(workerData as EntryKeySecret);

port.on("message", (request: KeysRequest) => {
  if (isWorkerClose(request)) {
    port.close(); // nothing else keeps this thread: it ends
    return;
  }
  let response: KeysResponse;
  try {
    response = { id: request.id, keys: packKeys(request.types, request.values, (type, value) => evaluator.keysOf(type, value)) };
  } catch (err) {
    // Only the error's name: a message could quote an identifier.
    response = { id: request.id, error: err instanceof Error ? err.name : typeof err };
  }
  port.postMessage(response, "keys" in response ? [response.keys.buffer as ArrayBuffer] : []);
});
