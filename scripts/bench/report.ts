/**
 * What a suite reports, the machine it ran on, and the two outputs: a table for people and JSON
 * for tools. Every figure carries the baseline measured in the same run and value ÷ baseline.
 */
import { cpus, totalmem } from "node:os";

/** One figure of a suite. `ratio` is always value ÷ baseline (above 1: larger than the baseline). */
export interface BenchResult {
  name: string;
  value: number;
  unit: string;
  baseline: number;
  ratio: number;
}

/** A result plus what the table shows beside it (never in the JSON). */
export interface ReportedResult extends BenchResult {
  /** What the baseline is, in a few words. */
  baselineIs: string;
  /** The target, when the issue sets one ("≥ 100,000"). */
  target?: string;
  /** Whether the target was met, when there is one. */
  met?: boolean;
  /** The value is already a quotient of rates with the baseline as divisor: the table shows no ratio (the JSON keeps it). */
  valueIsRatio?: boolean;
}

/** Options of {@link result}. */
export interface ResultInput {
  name: string;
  value: number;
  unit: string;
  baseline: number;
  baselineIs: string;
  target?: { text: string; met: (value: number) => boolean };
  /** See {@link ReportedResult.valueIsRatio}. */
  valueIsRatio?: boolean;
}

/** Builds a result; the ratio is computed here so that every suite defines it the same way. */
export function result(input: ResultInput): ReportedResult {
  const ratio = input.baseline === 0 ? Number.NaN : input.value / input.baseline;
  return {
    name: input.name, value: input.value, unit: input.unit, baseline: input.baseline, ratio, baselineIs: input.baselineIs,
    ...(input.target ? { target: input.target.text, met: input.target.met(input.value) } : {}),
    ...(input.valueIsRatio === true ? { valueIsRatio: true } : {}),
  };
}

/** Where the figures came from. */
export interface MachineInfo {
  cpus: number;
  cpuModel: string;
  memoryGiB: number;
  node: string;
  platform: string;
  arch: string;
}

/** The machine this process runs on. */
export function machineInfo(): MachineInfo {
  const list = cpus();
  return {
    cpus: list.length,
    cpuModel: list[0]?.model.trim() ?? "unknown",
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    platform: process.platform,
    arch: process.arch,
  };
}

/** The JSON document `--json` prints: machine and results, the five fields of each result only. */
export function jsonReport(machine: MachineInfo, results: readonly BenchResult[]): string {
  const round = (x: number) => (Number.isFinite(x) ? Number(x.toPrecision(6)) : null);
  return JSON.stringify({
    machine,
    results: results.map((r) => ({ name: r.name, value: round(r.value), unit: r.unit, baseline: round(r.baseline), ratio: round(r.ratio) })),
  }, null, 2);
}

/** A human-friendly number: thousands separators, 3 significant digits below 100. */
export function formatNumber(x: number): string {
  if (!Number.isFinite(x)) return "n/a";
  if (Math.abs(x) >= 100) return Math.round(x).toLocaleString("en-US");
  if (Math.abs(x) >= 10) return x.toFixed(1);
  if (Math.abs(x) >= 1) return x.toFixed(2);
  return x.toPrecision(2);
}

/** The table printed by default (also the README's table, in Markdown). */
export function tableReport(machine: MachineInfo, results: readonly ReportedResult[], opts: { markdown?: boolean } = {}): string {
  const header = ["figure", "value", "unit", "baseline", "ratio", "baseline is", "target"];
  const rows = results.map((r) => [
    r.name, formatNumber(r.value), r.unit, formatNumber(r.baseline), r.valueIsRatio === true ? "—" : `${formatNumber(r.ratio)}×`, r.baselineIs,
    r.target === undefined ? "" : `${r.target} ${r.met ? "✓" : "✗"}`,
  ]);
  const title = `${machine.cpus} × ${machine.cpuModel}, ${machine.memoryGiB} GiB, Node ${machine.node} (${machine.platform}/${machine.arch})`;
  if (opts.markdown) {
    const line = (cells: string[]) => `| ${cells.join(" | ")} |`;
    return [line(header), line(header.map((_, i) => (i === 1 || i === 3 || i === 4 ? "---:" : "---"))), ...rows.map(line)].join("\n");
  }
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const right = new Set([1, 3, 4]);
  const fmt = (cells: string[]) => cells.map((c, i) => (right.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join("  ").trimEnd();
  return [title, "", fmt(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(fmt)].join("\n");
}
