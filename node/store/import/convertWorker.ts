/**
 * A worker thread of the import's conversion pool (see convert.ts): rebuilds the conversion
 * context from `workerData`, then converts each batch it receives and sends the result back.
 * Kept free of TypeScript-only syntax beyond types, so Node's own type stripping can load it too.
 */
import { parentPort, workerData } from "node:worker_threads";
import { Hasher, defaultIdentifierRegistry } from "../../identity/index.ts";
import { entryProblem } from "../entry.ts";
import { convertRows, rowsOfRequest, toResponse, type WorkerRequest, type WorkerSetup } from "./convert.ts";
import type { RowContext } from "./rows.ts";

const setup = workerData as WorkerSetup;
const activeIds = new Set(setup.activeCategoryIds);
const ctx: RowContext = {
  identifiers: defaultIdentifierRegistry,
  categoryIds: new Map(setup.categoryIds),
  defaultType: setup.defaultType,
  defaultCategoryId: setup.defaultCategoryId,
  normalise: setup.normalise,
  hasher: Hasher.fromPepper(setup.pepper),
  nowSec: setup.nowSec,
  entryProblem: (entry, at) => entryProblem(entry, activeIds, at, setup.maxClockSkewSec),
  timestampCache: new Map(),
};

parentPort!.on("message", (request: WorkerRequest) => {
  const response = toResponse(request.id, convertRows(rowsOfRequest(request), ctx));
  parentPort!.postMessage(response, [response.hashes.buffer as ArrayBuffer]);
});
