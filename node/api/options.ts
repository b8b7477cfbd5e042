/** Defaults of the local HTTP API (host and port come from node config). */
export const API_DEFAULTS = {
  /** Largest request body accepted, in bytes (1,000 items of 512 characters fit). */
  bodyLimitBytes: 1_048_576,
  /** Most identifiers one /v1/check call may carry (the lookup protocol's per-request cap). */
  maxItemsPerCheck: 1_000,
  /** Longest identifier value accepted, in characters. */
  maxValueLength: 512,
  /** How long a request may take in all, fan-out included. */
  requestTimeoutMs: 30_000,
} as const;

/** Content types a list may be sent in to POST /v1/entries, and the format each means. */
export const IMPORT_CONTENT_TYPES: Readonly<Record<string, "csv" | "jsonl">> = {
  "text/csv": "csv", "application/x-ndjson": "jsonl", "application/jsonl": "jsonl", "application/x-jsonlines": "jsonl",
};
