/**
 * Warninglists: identifiers that must never be listed — test card numbers, documentation e-mail
 * domains, fictional telephone numbers — shipped as data files (./warninglists/*.json), each entry
 * with its public source. An import refuses a row whose identifier is on one (`warninglisted`), and
 * a check neither asks anyone about such an identifier nor reports a hit for it. (Service short codes
 * such as 95588 are refused by the phone normaliser already: they are no subscriber number.)
 *
 * Matching is on the normalised identifier: `exact` (equal), `domain` (an e-mail address whose
 * domain is the entry or under it), `pattern` (an anchored regular expression).
 */
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { RiskshareError } from "../errors.ts";

const entrySchema = z.strictObject({
  value: z.string().min(1).max(200),
  note: z.string().min(1).max(300),
  source: z.url({ protocol: /^https$/, error: "must be an https URL: every entry names its public source" }),
});

/** One warninglist file. */
export const warninglistSchema = z.strictObject({
  name: z.string().regex(/^[a-z0-9-]{1,64}$/, "must be 1-64 characters of a-z 0-9 -"),
  description: z.string().min(1).max(500),
  type: z.string().min(1).max(32),
  match: z.enum(["exact", "domain", "pattern"]),
  entries: z.array(entrySchema).min(1).max(100_000),
});

/** A warninglist as its file states it. */
export type Warninglist = z.output<typeof warninglistSchema>;

/** Why an identifier may not be listed: the list and the entry it matched (never the identifier). */
export interface WarninglistMatch {
  readonly list: string;
  readonly note: string;
  readonly source: string;
}

/** The warninglists of one identifier type, compiled for matching. */
interface Compiled {
  readonly exact: Map<string, WarninglistMatch>;
  readonly domains: Map<string, WarninglistMatch>;
  readonly patterns: { readonly pattern: RegExp; readonly match: WarninglistMatch }[];
}

/** A set of warninglists, matched against normalised identifiers. */
export class Warninglists {
  readonly lists: readonly Warninglist[];
  /** SHA-256 over the lists in name order, each as its canonical JSON: what a consortium can pin. */
  readonly hash: string;
  readonly #byType = new Map<string, Compiled>();

  constructor(lists: readonly Warninglist[]) {
    const names = new Set<string>();
    for (const list of lists) {
      if (names.has(list.name)) throw new RiskshareError("E_CONFIG", `two warninglists are named ${list.name}`);
      names.add(list.name);
    }
    this.lists = [...lists].sort((a, b) => a.name.localeCompare(b.name));
    const digest = createHash("sha256");
    for (const list of this.lists) digest.update(`${JSON.stringify(list)}\n`);
    this.hash = `0x${digest.digest("hex")}`;
    for (const list of this.lists) {
      let compiled = this.#byType.get(list.type);
      if (compiled === undefined) {
        compiled = { exact: new Map(), domains: new Map(), patterns: [] };
        this.#byType.set(list.type, compiled);
      }
      for (const entry of list.entries) {
        const match = { list: list.name, note: entry.note, source: entry.source };
        if (list.match === "exact") compiled.exact.set(entry.value, match);
        else if (list.match === "domain") compiled.domains.set(entry.value.toLowerCase(), match);
        else {
          let pattern: RegExp;
          try {
            pattern = new RegExp(entry.value, "u");
          } catch (err) {
            throw new RiskshareError("E_CONFIG", `warninglist ${list.name} holds a pattern that is not a regular expression`, { list: list.name }, { cause: err });
          }
          if (!entry.value.startsWith("^") || !entry.value.endsWith("$")) throw new RiskshareError("E_CONFIG", `warninglist ${list.name} holds a pattern that is not anchored with ^…$`, { list: list.name });
          compiled.patterns.push({ pattern, match });
        }
      }
    }
  }

  /** The entry a normalised identifier of `type` matches, if any. */
  match(type: string, normalised: string): WarninglistMatch | undefined {
    const compiled = this.#byType.get(type);
    if (compiled === undefined) return undefined;
    const exact = compiled.exact.get(normalised);
    if (exact !== undefined) return exact;
    if (compiled.domains.size > 0) {
      const at = normalised.lastIndexOf("@");
      const labels = normalised.slice(at + 1).toLowerCase().split(".");
      // The domain and each domain it is under: mail.example.com → mail.example.com, example.com, com.
      for (let i = 0; i < labels.length; i++) {
        const found = compiled.domains.get(labels.slice(i).join("."));
        if (found !== undefined) return found;
      }
    }
    return compiled.patterns.find((p) => p.pattern.test(normalised))?.match;
  }
}

/** The folder of the shipped warninglists. */
const SHIPPED_DIR = fileURLToPath(new URL("./warninglists/", import.meta.url));

let shipped: Warninglists | undefined;

/** The warninglists riskshare ships (read and checked once per process). */
export function shippedWarninglists(): Warninglists {
  shipped ??= new Warninglists(readdirSync(SHIPPED_DIR).filter((file) => file.endsWith(".json")).sort().map((file) => {
    const parsed = warninglistSchema.safeParse(JSON.parse(readFileSync(`${SHIPPED_DIR}${file}`, "utf8")));
    if (!parsed.success) throw new RiskshareError("E_CONFIG", `the shipped warninglist ${file} is malformed: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
    return parsed.data;
  }));
  return shipped;
}
