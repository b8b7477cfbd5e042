/**
 * The architecture, checked: the module graph of node/, cli/, scripts/ and bin/ has no cycle; only
 * a node/<folder>/'s index.ts is imported from outside that folder; and a CLI command never imports
 * another command (shared pieces live in helper modules under cli/).
 *
 * Imports are read by the TypeScript compiler the project already type-checks with (TypeScript 7's
 * API), not by regular expressions: a source file's `imports` lists every module specifier it
 * names — static `import`, `import type`, `export … from`, `import("…")` calls and `import("…")`
 * types — and nothing in a comment or a string. Type-only imports count too: a cycle through types
 * still means two modules cannot be understood (or moved) one without the other.
 *
 * The API is `typescript/unstable/sync` (TypeScript 7 spawns its own compiler, the one `npm run
 * typecheck` runs). Should a later TypeScript change it, this file fails loudly: the graph is
 * compared with the files on disk and must show imports of every kind the reader is meant to see.
 */
import { expect } from "chai";
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, posix, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { API } from "typescript/unstable/sync";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** The folders whose modules the rules are about. */
const CHECKED_ROOTS = ["node", "cli", "scripts", "bin"] as const;

/** A module graph: each project file (a path relative to the repository, with `/`) → the project files it imports. */
type ModuleGraph = ReadonlyMap<string, readonly string[]>;

/** One broken rule, as the failure message shows it. */
interface Violation {
  rule: "cycle" | "folder-boundary" | "command-imports-command";
  detail: string;
}

// ---------------------------------------------------------------------------------------------
// The checker: pure functions of a graph, so the self-test below can plant what it must find.
// ---------------------------------------------------------------------------------------------

/**
 * Every import cycle, one per strongly connected component (Tarjan), each shown as the shortest
 * path from the component's first file (in sorted order) back to itself.
 */
function findCycles(graph: ModuleGraph): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const components: string[][] = [];
  let counter = 0;
  // Iterative, so a long import chain cannot overflow the call stack.
  for (const start of [...graph.keys()].sort()) {
    if (index.has(start)) continue;
    const work: Array<{ node: string; next: number }> = [{ node: start, next: 0 }];
    index.set(start, counter);
    low.set(start, counter++);
    stack.push(start);
    onStack.add(start);
    while (work.length > 0) {
      const frame = work.at(-1)!;
      const targets = graph.get(frame.node) ?? [];
      if (frame.next < targets.length) {
        const target = targets[frame.next++]!;
        if (!index.has(target)) {
          index.set(target, counter);
          low.set(target, counter++);
          stack.push(target);
          onStack.add(target);
          work.push({ node: target, next: 0 });
        } else if (onStack.has(target)) {
          low.set(frame.node, Math.min(low.get(frame.node)!, index.get(target)!));
        }
        continue;
      }
      work.pop();
      const parent = work.at(-1);
      if (parent) low.set(parent.node, Math.min(low.get(parent.node)!, low.get(frame.node)!));
      if (low.get(frame.node) === index.get(frame.node)) {
        const component: string[] = [];
        let member: string;
        do {
          member = stack.pop()!;
          onStack.delete(member);
          component.push(member);
        } while (member !== frame.node);
        const selfLoop = component.length === 1 && (graph.get(frame.node) ?? []).includes(frame.node);
        if (component.length > 1 || selfLoop) components.push(component.sort());
      }
    }
  }
  return components.map((component) => shortestCycle(graph, component)).sort((a, b) => a[0]!.localeCompare(b[0]!));
}

/** The shortest path from the component's first file back to itself, staying inside the component. */
function shortestCycle(graph: ModuleGraph, component: readonly string[]): string[] {
  const inside = new Set(component);
  const start = component[0]!;
  const previous = new Map<string, string>();
  const queue = [start];
  for (let at = 0; at < queue.length; at++) {
    const node = queue[at]!;
    for (const target of graph.get(node) ?? []) {
      if (!inside.has(target)) continue;
      if (target === start) {
        const path = [node];
        while (path[0] !== start) path.unshift(previous.get(path[0]!)!);
        return [...path, start];
      }
      if (!previous.has(target)) {
        previous.set(target, node);
        queue.push(target);
      }
    }
  }
  throw new Error(`no cycle through ${start} in its own component`); // Tarjan guarantees one
}

/** The node/<folder> a file lies in (undefined for top-level node/*.ts and files outside node/). */
function nodeFolderOf(file: string): string | undefined {
  const match = /^node\/([^/]+)\//.exec(file);
  return match ? `node/${match[1]}` : undefined;
}

/** Imports of a node/<folder>/ file other than its index.ts from outside that folder (tests exempt). */
function folderBoundaryViolations(graph: ModuleGraph): string[] {
  const found: string[] = [];
  for (const [from, targets] of graph) {
    if (from.startsWith("test/")) continue;
    for (const target of targets) {
      const folder = nodeFolderOf(target);
      if (folder === undefined || from.startsWith(`${folder}/`) || target === `${folder}/index.ts`) continue;
      found.push(`${from} -> ${target}`);
    }
  }
  return found.sort();
}

/** Imports of one cli/commands/ file by another: commands share helpers, never each other. */
function commandImportViolations(graph: ModuleGraph): string[] {
  const isCommand = (file: string) => file.startsWith("cli/commands/");
  const found: string[] = [];
  for (const [from, targets] of graph) {
    if (!isCommand(from)) continue;
    for (const target of targets) if (isCommand(target) && target !== from) found.push(`${from} -> ${target}`);
  }
  return found.sort();
}

/** Every rule, over one graph. */
function checkArchitecture(graph: ModuleGraph): Violation[] {
  return [
    ...findCycles(graph).map((cycle): Violation => ({ rule: "cycle", detail: cycle.join(" -> ") })),
    ...folderBoundaryViolations(graph).map((detail): Violation => ({ rule: "folder-boundary", detail })),
    ...commandImportViolations(graph).map((detail): Violation => ({ rule: "command-imports-command", detail })),
  ];
}

// ---------------------------------------------------------------------------------------------
// Reading the project's graph through the compiler.
// ---------------------------------------------------------------------------------------------

/** Relative path with `/`, from the repository root. */
function projectPath(absolute: string): string {
  return relative(ROOT, absolute).split(sep).join("/");
}

/** A relative specifier resolved to a checked project file ("./x.js" may name "./x.ts"); undefined for packages and other folders (types/). */
function resolveSpecifier(from: string, specifier: string, files: ReadonlySet<string>): string | undefined {
  if (!specifier.startsWith(".")) return undefined; // a package (node:fs, ethers …)
  const base = posix.normalize(posix.join(posix.dirname(from), specifier));
  const candidates = [base, base.replace(/\.js$/, ".ts"), base.replace(/\.mjs$/, ".mts"), `${base}.ts`, `${base}/index.ts`];
  return candidates.find((candidate) => files.has(candidate));
}

/**
 * The module graph of node/, cli/, scripts/ and bin/ as the compiler sees it. The project's
 * tsconfig does not cover bin/'s JavaScript entry, so a throw-away tsconfig extends it with
 * `allowJs` and names the checked folders, .js files included.
 */
async function readProjectGraph(): Promise<{ graph: ModuleGraph; unresolved: string[] }> {
  const scratch = await mkdtemp(join(tmpdir(), "riskshare-architecture-"));
  const api = new API({ cwd: ROOT });
  try {
    const tsconfig = join(scratch, "tsconfig.json");
    await writeFile(tsconfig, JSON.stringify({
      extends: join(ROOT, "tsconfig.json"),
      compilerOptions: { allowJs: true, checkJs: false },
      include: CHECKED_ROOTS.flatMap((folder) => [join(ROOT, folder, "**", "*.ts"), join(ROOT, folder, "**", "*.js"), join(ROOT, folder, "**", "*.mjs")]),
    }));
    const snapshot = api.updateSnapshot({ openProjects: [tsconfig] });
    const project = snapshot.getProjects()[0];
    if (!project) throw new Error("the compiler opened no project");
    const inChecked = (file: string) => CHECKED_ROOTS.some((folder) => file.startsWith(`${folder}/`));
    const names = project.program.getSourceFileNames().filter((name) => !name.includes("/node_modules/")).map((name) => ({ name, file: projectPath(name) })).filter(({ file }) => inChecked(file));
    const files = new Set(names.map(({ file }) => file));
    const graph = new Map<string, string[]>();
    const unresolved: string[] = [];
    for (const { name, file } of names) {
      const source = project.program.getSourceFile(name);
      if (!source) throw new Error(`the compiler has no source for ${file}`);
      const targets = new Set<string>();
      for (const specifier of source.imports) {
        const text = (specifier as unknown as { text: string }).text;
        const target = resolveSpecifier(file, text, files);
        if (target !== undefined) targets.add(target);
        else if (text.startsWith(".") && inChecked(posix.normalize(posix.join(posix.dirname(file), text)))) unresolved.push(`${file}: ${text}`);
      }
      graph.set(file, [...targets].sort());
    }
    return { graph, unresolved };
  } finally {
    api.close();
    await rm(scratch, { recursive: true, force: true });
  }
}

/** Every .ts/.js/.mjs file under the checked folders, as the file system lists it. */
async function filesOnDisk(): Promise<string[]> {
  const found: string[] = [];
  for (const folder of CHECKED_ROOTS) {
    for (const entry of await readdir(join(ROOT, folder), { recursive: true })) {
      const file = `${folder}/${entry.split(sep).join("/")}`;
      if (/\.(ts|js|mjs)$/.test(file) && !file.endsWith(".d.ts")) found.push(file);
    }
  }
  return found.sort();
}

function describeViolations(violations: readonly Violation[]): string {
  return violations.map((v) => `  ${v.rule}: ${v.detail}`).join("\n");
}

describe("architecture", function () {
  this.timeout(60_000);

  describe("the checker (on small graphs, so a broken checker cannot pass silently)", () => {
    const graphOf = (edges: Record<string, string[]>): ModuleGraph => new Map(Object.entries(edges));

    it("finds a planted cycle and prints its path", () => {
      const graph = graphOf({
        "cli/index.ts": ["cli/commands/devnet.ts"],
        "cli/commands/devnet.ts": ["scripts/devnet/devnet.ts"],
        "scripts/devnet/devnet.ts": ["cli/capture.ts", "node/chain/index.ts"],
        "cli/capture.ts": ["cli/index.ts"],
        "node/chain/index.ts": [],
      });
      expect(findCycles(graph)).to.deep.equal([["cli/capture.ts", "cli/index.ts", "cli/commands/devnet.ts", "scripts/devnet/devnet.ts", "cli/capture.ts"]]);
      expect(describeViolations(checkArchitecture(graph))).to.include("cycle: cli/capture.ts -> cli/index.ts -> cli/commands/devnet.ts -> scripts/devnet/devnet.ts -> cli/capture.ts");
    });

    it("finds a self-import and several separate cycles, and none in a DAG", () => {
      expect(findCycles(graphOf({ "node/a/x.ts": ["node/a/x.ts"] }))).to.deep.equal([["node/a/x.ts", "node/a/x.ts"]]);
      const two = findCycles(graphOf({ "a.ts": ["b.ts"], "b.ts": ["a.ts"], "c.ts": ["d.ts"], "d.ts": ["e.ts"], "e.ts": ["c.ts"] }));
      expect(two).to.deep.equal([["a.ts", "b.ts", "a.ts"], ["c.ts", "d.ts", "e.ts", "c.ts"]]);
      expect(findCycles(graphOf({ "a.ts": ["b.ts", "c.ts"], "b.ts": ["c.ts"], "c.ts": [] }))).to.deep.equal([]);
    });

    it("flags an import into a node folder other than its index, and nothing else", () => {
      const graph = graphOf({
        "cli/commands/audit.ts": ["node/store/journal.ts", "node/store/index.ts", "node/errors.ts", "cli/output.ts"],
        "node/store/store.ts": ["node/store/journal.ts", "node/identity/index.ts"],
        "node/p2p/lookup/handler.ts": ["node/p2p/keys.ts", "node/chain/eip712.ts"],
        "test/unit/x.test.ts": ["node/store/journal.ts"],
      });
      expect(folderBoundaryViolations(graph)).to.deep.equal(["cli/commands/audit.ts -> node/store/journal.ts", "node/p2p/lookup/handler.ts -> node/chain/eip712.ts"]);
    });

    it("flags a command importing another command", () => {
      const graph = graphOf({ "cli/commands/list.ts": ["cli/commands/member.ts", "cli/chain.ts"], "cli/commands/member.ts": ["cli/chain.ts"], "cli/index.ts": ["cli/commands/list.ts"] });
      expect(commandImportViolations(graph)).to.deep.equal(["cli/commands/list.ts -> cli/commands/member.ts"]);
    });
  });

  describe("the project", () => {
    let graph: ModuleGraph;
    let unresolved: string[];

    before(async () => {
      ({ graph, unresolved } = await readProjectGraph());
    });

    it("reads every module of node/, cli/, scripts/ and bin/, and resolves every relative import", async () => {
      expect([...graph.keys()].sort()).to.deep.equal(await filesOnDisk());
      expect(unresolved, "relative imports naming no project file").to.deep.equal([]);
      // The compiler sees static, type-only and dynamic imports alike.
      expect(graph.get("bin/riskshare.js"), "bin/riskshare.js imports the CLI dynamically").to.include("cli/main.ts");
      expect(graph.get("cli/commands/devnet.ts"), "the devnet command loads the devnet on use").to.include("scripts/devnet/devnet.ts");
      expect(graph.get("scripts/devnet/devnet.ts"), "the devnet imports the captured CLI's types only").to.include("cli/capture.ts");
      expect(graph.get("scripts/devnet/consortium.ts"), "an import spread over several lines").to.include("node/chain/index.ts");
    });

    it("has no import cycle", () => {
      const cycles = findCycles(graph);
      expect(cycles, `import cycles:\n${cycles.map((c) => `  ${c.join(" -> ")}`).join("\n")}`).to.deep.equal([]);
    });

    it("imports a node/<folder>/ only through its index.ts from outside it", () => {
      const violations = folderBoundaryViolations(graph);
      expect(violations, `imports past a folder's index.ts:\n${violations.map((v) => `  ${v}`).join("\n")}`).to.deep.equal([]);
    });

    it("has no CLI command importing another command", () => {
      const violations = commandImportViolations(graph);
      expect(violations, `commands importing commands (move the shared piece to a helper under cli/):\n${violations.map((v) => `  ${v}`).join("\n")}`).to.deep.equal([]);
    });
  });
});
