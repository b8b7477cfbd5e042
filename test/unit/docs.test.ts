import { expect } from "chai";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { PassThrough } from "node:stream";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Command } from "commander";
import { buildProgram } from "../../cli/index.ts";

/**
 * The README is the door and docs/ the rooms: these checks keep them honest. The README stays
 * short, every relative link (and anchor) leads somewhere, and every `riskshare …` command shown
 * in a shell block names a real command with real flags (checked against the CLI's own commander
 * tree, built in-process).
 */

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const README = join(ROOT, "README.md");
const MAX_README_LINES = 200;
/** Fenced blocks whose lines are shell commands (an untagged block counts as one). */
const SHELL_LANGS = new Set(["", "sh", "bash", "shell", "console", "zsh"]);

function docFiles(): string[] {
  const docsDir = join(ROOT, "docs");
  const docs = existsSync(docsDir) ? readdirSync(docsDir).filter((name) => name.endsWith(".md")).map((name) => join(docsDir, name)) : [];
  return [README, ...docs];
}

/** Lines of a markdown file outside fenced code blocks, and the blocks with their language. */
function splitMarkdown(text: string): { prose: string[]; blocks: { lang: string; lines: string[]; startLine: number }[] } {
  const prose: string[] = [];
  const blocks: { lang: string; lines: string[]; startLine: number }[] = [];
  let open: { lang: string; lines: string[]; startLine: number; fence: string } | undefined;
  text.split("\n").forEach((line, index) => {
    const fence = /^(\s*)(`{3,}|~{3,})\s*([\w-]*)/.exec(line);
    if (open === undefined && fence) {
      open = { lang: (fence[3] ?? "").toLowerCase(), lines: [], startLine: index + 2, fence: fence[2]! };
    } else if (open !== undefined && fence && fence[2]!.startsWith(open.fence[0]!) && fence[2]!.length >= open.fence.length && (fence[3] ?? "") === "") {
      blocks.push(open);
      open = undefined;
    } else if (open !== undefined) {
      open.lines.push(line);
    } else {
      prose.push(line);
    }
  });
  return { prose, blocks };
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens, repeats numbered. */
function anchorsOf(text: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const line of splitMarkdown(text).prose) {
    const heading = /^#{1,6}\s+(.+?)\s*#*\s*$/.exec(line);
    if (!heading) continue;
    const plain = heading[1]!.replace(/`/g, "").replace(/\[([^\]]*)\]\([^)]*\)/g, "$1");
    const slug = plain.toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, "").replace(/ /g, "-");
    const count = seen.get(slug) ?? 0;
    seen.set(slug, count + 1);
    anchors.add(count === 0 ? slug : `${slug}-${count}`);
  }
  return anchors;
}

/** Relative link targets in a markdown file's prose (inline links and reference definitions). */
function relativeLinks(text: string): string[] {
  const prose = splitMarkdown(text).prose.join("\n").replace(/`[^`\n]*`/g, "");
  const targets: string[] = [];
  for (const match of prose.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) targets.push(match[1]!);
  for (const match of prose.matchAll(/^\s*\[[^\]]+\]:\s*(\S+)/gm)) targets.push(match[1]!);
  return targets.filter((target) => !/^[a-z][a-z0-9+.-]*:/i.test(target));
}

/** Splits one shell command line into words (single and double quotes; no expansion). */
function shellWords(line: string): string[] {
  const words: string[] = [];
  let word = "";
  let inWord = false;
  let quote: string | undefined;
  for (const char of line) {
    if (quote !== undefined) {
      if (char === quote) quote = undefined;
      else word += char;
    } else if (char === "'" || char === '"') {
      quote = char;
      inWord = true;
    } else if (/\s/.test(char)) {
      if (inWord) words.push(word);
      word = "";
      inWord = false;
    } else {
      word += char;
      inWord = true;
    }
  }
  if (inWord) words.push(word);
  return words;
}

/** Every `riskshare …` invocation in the README's shell blocks, as words after `riskshare`. */
function readmeInvocations(): { line: number; text: string; words: string[] }[] {
  const found: { line: number; text: string; words: string[] }[] = [];
  for (const block of splitMarkdown(readFileSync(README, "utf8")).blocks) {
    if (!SHELL_LANGS.has(block.lang)) continue;
    block.lines.forEach((raw, index) => {
      const code = raw.replace(/(^|\s)#.*$/, ""); // a comment is prose
      for (const segment of code.split(/&&|\|\||[;|]/)) {
        const words = shellWords(segment.replace(/\s[12]?>.*$/, "")); // drop redirections
        const at = words.indexOf("riskshare");
        if (at >= 0) found.push({ line: block.startLine + index, text: raw.trim(), words: words.slice(at + 1) });
      }
    });
  }
  return found;
}

function longFlags(command: Command): Set<string> {
  const flags = new Set<string>(["--help"]);
  for (const option of command.options) if (option.long) flags.add(option.long);
  return flags;
}

/** Walks `words` down the commander tree: the command reached and the problems found (none when valid). */
function checkInvocation(program: Command, words: string[]): { path: string; problems: string[] } {
  const globals = longFlags(program);
  const takesValue = new Set(program.options.filter((o) => o.required || o.optional).map((o) => o.long));
  let command = program;
  let i = 0;
  const problems: string[] = [];
  // global options may come before the command
  while (i < words.length && words[i]!.startsWith("--")) {
    const flag = words[i]!.split("=")[0]!;
    if (!globals.has(flag)) problems.push(`${flag} is not a global option`);
    i += takesValue.has(flag) && !words[i]!.includes("=") ? 2 : 1;
  }
  while (command.commands.length > 0) {
    const name = words[i];
    const sub = command.commands.find((c) => c.name() === name || c.aliases().includes(name ?? ""));
    // A command with an action of its own (`credits`, beside `credits settle`) may end the invocation.
    // commander has no public getter for it; its private field is read here only.
    if (sub === undefined && (name === undefined || name.startsWith("--")) && (command as unknown as { _actionHandler?: unknown })._actionHandler) break;
    if (sub === undefined) {
      problems.push(`${["riskshare", commandPath(command), name ?? "(nothing)"].filter(Boolean).join(" ")} is not a command (expected one of ${command.commands.map((c) => c.name()).join(", ")})`);
      return { path: commandPath(command), problems };
    }
    command = sub;
    i += 1;
  }
  const allowed = new Set([...longFlags(command), ...globals]);
  for (const word of words.slice(i)) {
    if (!word.startsWith("--")) continue;
    const flag = word.split("=")[0]!;
    if (flag === "--") break;
    if (!allowed.has(flag)) problems.push(`${flag} is not an option of \`riskshare ${commandPath(command)}\``);
  }
  return { path: commandPath(command), problems };
}

function commandPath(command: Command): string {
  const names: string[] = [];
  for (let c: Command | null = command; c?.parent; c = c.parent) names.unshift(c.name());
  return names.join(" ");
}

describe("documentation", () => {
  it(`README.md has at most ${MAX_README_LINES} lines`, () => {
    const lines = readFileSync(README, "utf8").replace(/\n$/, "").split("\n").length;
    expect(lines, `README.md has ${lines} lines; move detail into docs/`).to.be.at.most(MAX_README_LINES);
  });

  it("every relative link in README.md and docs/*.md points to a file that exists, and every anchor to a heading", () => {
    const problems: string[] = [];
    for (const file of docFiles()) {
      const text = readFileSync(file, "utf8");
      for (const target of relativeLinks(text)) {
        const [path, anchor] = target.split("#") as [string, string | undefined];
        const destination = path === "" ? file : resolve(dirname(file), decodeURIComponent(path));
        const where = `${relative(ROOT, file)} → ${target}`;
        if (!existsSync(destination)) {
          problems.push(`${where}: no such file`);
          continue;
        }
        if (anchor !== undefined && anchor !== "") {
          if (statSync(destination).isDirectory() || !destination.endsWith(".md")) problems.push(`${where}: an anchor into a file that is not markdown`);
          else if (!anchorsOf(readFileSync(destination, "utf8")).has(anchor.toLowerCase())) problems.push(`${where}: no heading has this anchor`);
        }
      }
    }
    expect(problems, problems.join("\n")).to.deep.equal([]);
  });

  it("README.md shows the commands a member, an officer and a regulator use", () => {
    const program = buildProgram({ stdout: new PassThrough(), stderr: new PassThrough(), env: {}, isTTY: false });
    const shown = new Set(readmeInvocations().map(({ words }) => checkInvocation(program, words).path));
    for (const expected of ["init", "deploy", "member request", "member admit", "member vote", "list import", "list publish", "node start", "query", "audit queries", "audit verify", "audit report"]) {
      expect(shown.has(expected), `README.md shows no \`riskshare ${expected}\``).to.equal(true);
    }
  });

  it("every `riskshare …` command in README.md's shell blocks exists in the CLI, with every flag it shows", () => {
    const sink = new PassThrough();
    const program = buildProgram({ stdout: sink, stderr: sink, env: {}, isTTY: false });
    const invocations = readmeInvocations();
    expect(invocations.length, "README.md shows no riskshare command at all").to.be.greaterThan(0);
    const problems: string[] = [];
    for (const { line, text, words } of invocations) {
      for (const problem of checkInvocation(program, words).problems) problems.push(`README.md:${line}: ${problem}\n    ${text}`);
    }
    expect(problems, problems.join("\n")).to.deep.equal([]);
  });
});
