import { spawnSync } from "node:child_process";
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { parse } from "yaml";

// The shell the project ships: every scripts/**/*.sh, and the shell cloud-init runs from
// scripts/**/*.yaml (write_files entries with a sh/bash shebang, string runcmd/bootcmd entries).

/** One shell source to check. */
export interface ShellSource {
  /** Path relative to the repository root, plus where in the file for embedded scripts. */
  readonly name: string;
  /** sh or bash. */
  readonly dialect: "sh" | "bash";
  /** The script. */
  readonly script: string;
}

type CloudConfig = { write_files?: { path?: string; content?: string }[]; runcmd?: unknown[]; bootcmd?: unknown[] };

/** The shell embedded in one cloud-init document. */
export function cloudInitShell(name: string, content: string): ShellSource[] {
  const doc = (parse(content) ?? {}) as CloudConfig;
  const out: ShellSource[] = [];
  for (const f of doc.write_files ?? []) {
    const m = /^#!\s*(?:\/usr\/bin\/env\s+)?\S*?\b(bash|sh)\b/.exec(f.content ?? "");
    if (m) out.push({ name: `${name} (write_files ${f.path})`, dialect: m[1] as "sh" | "bash", script: f.content as string });
  }
  // A string entry is run by /bin/sh; a list entry is exec'd as is (cloud-init docs, runcmd).
  for (const key of ["bootcmd", "runcmd"] as const) {
    const lines = (doc[key] ?? []).filter((c): c is string => typeof c === "string");
    if (lines.length > 0) out.push({ name: `${name} (${key})`, dialect: "sh", script: `#!/bin/sh\n${lines.join("\n")}\n` });
  }
  return out;
}

function walk(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((f) => {
      const p = join(dir, f);
      return statSync(p).isDirectory() ? walk(p) : [p];
    });
}

/** Every shell source under scripts/. */
export function shellSources(root: string): { files: string[]; embedded: ShellSource[] } {
  const all = walk(join(root, "scripts"));
  const files = all.filter((f) => f.endsWith(".sh")).map((f) => relative(root, f));
  const embedded = all
    .filter((f) => /\.ya?ml$/.test(f))
    .flatMap((f) => {
      const text = readFileSync(f, "utf8");
      return text.startsWith("#cloud-config") ? cloudInitShell(relative(root, f), text) : [];
    });
  return { files, embedded };
}

/** Whether shellcheck is on PATH. */
export function haveShellcheck(): boolean {
  return spawnSync("shellcheck", ["--version"], { stdio: "ignore" }).status === 0;
}

/** shellcheck one file (relative to root) or one script on stdin; its gcc-style lines, empty when clean. */
export function shellcheck(root: string, target: { file: string } | { script: string; dialect: "sh" | "bash"; exclude?: string[] }): string[] {
  const args = ["--format=gcc", "--external-sources"];
  const r =
    "file" in target
      ? spawnSync("shellcheck", [...args, target.file], { cwd: root, encoding: "utf8" })
      : spawnSync("shellcheck", [...args, `--shell=${target.dialect}`, ...(target.exclude?.length ? [`--exclude=${target.exclude.join(",")}`] : []), "-"], { cwd: root, encoding: "utf8", input: target.script });
  if (r.error) throw r.error;
  return `${r.stdout}${r.stderr}`.split("\n").filter((l) => l.trim() !== "");
}
