import type { Writable } from "node:stream";

/** Where a command writes: stdout carries results only (one JSON document under --json); stderr carries progress and errors. */
export interface CliIo {
  stdout: Writable;
  stderr: Writable;
  /** Environment (RISKSHARE_DATA_DIR, CI …). */
  env: NodeJS.ProcessEnv;
  /** True when stderr is an interactive terminal (progress bars). */
  isTTY: boolean;
}

/** Writes a command's result as text or as one JSON document. */
export class Output {
  readonly json: boolean;
  private readonly io: CliIo;
  private emitted = false;

  constructor(io: CliIo, json: boolean) {
    this.io = io;
    this.json = json;
  }

  /** Prints the command's result: `data` as JSON under --json, otherwise the text `render` makes. */
  result<T>(data: T, render: (data: T) => string): void {
    if (this.json) {
      if (this.emitted) throw new Error("a command may print one JSON document only");
      this.emitted = true;
      this.io.stdout.write(`${JSON.stringify(data, jsonReplacer, 2)}\n`);
    } else {
      const text = render(data);
      if (text.length > 0) this.io.stdout.write(text.endsWith("\n") ? text : `${text}\n`);
    }
  }

  /** A progress or narrative line for people (stderr; silent under --json). */
  note(line: string): void {
    if (!this.json) this.io.stderr.write(`${line}\n`);
  }

  /** Narrative on stdout (the demo story); silent under --json. */
  say(line: string): void {
    if (!this.json) this.io.stdout.write(`${line}\n`);
  }
}

/** JSON.stringify replacer: bigints as decimal strings, byte arrays as 0x-hex. */
export function jsonReplacer(_key: string, value: unknown): unknown {
  if (typeof value === "bigint") return value.toString();
  if (value instanceof Uint8Array) return `0x${Buffer.from(value).toString("hex")}`;
  if (value instanceof Map) return Object.fromEntries(value);
  return value;
}

/** Formats rows as an aligned text table. */
export function table(headers: readonly string[], rows: readonly (readonly unknown[])[]): string {
  const cells = [headers, ...rows.map((row) => row.map((cell) => (cell === undefined || cell === null ? "" : String(cell))))];
  const widths = headers.map((_, col) => Math.max(...cells.map((row) => (row[col] ?? "").length)));
  return cells
    .map((row, index) => {
      const line = row.map((cell, col) => (cell ?? "").padEnd(widths[col] ?? 0)).join("  ").trimEnd();
      return index === 0 ? `${line}\n${widths.map((w) => "-".repeat(w)).join("  ")}` : line;
    })
    .join("\n");
}
