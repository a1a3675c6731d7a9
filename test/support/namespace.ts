import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";

// Tests that need root or the Connected Machine agent's real paths (/var/opt/azcmagent/tokens, where
// MSAL insists the HIMDS key file lives; scripts that check they run as root) run:
//   - as is, when the test process is root (CI, or already inside the namespace below);
//   - otherwise in a private user and mount namespace (unshare --user --map-root-user --mount): the
//     test file is run again there by its own vitest, as a root that exists only inside, with an empty
//     tmpfs over /var/opt, so nothing on the machine is touched and no privilege is needed;
//   - or skipped, with the reason, when the kernel does not allow unprivileged user namespaces
//     (kernel.unprivileged_userns_clone=0, user.max_user_namespaces=0, or an AppArmor restriction).

const root = resolve(__dirname, "../..");

/** Whether this process is root (real, or root of a user namespace). */
export const isRoot = process.getuid?.() === 0;

/**
 * Whether this process is root of the machine's own user namespace (its uid map is the identity map),
 * not only of a private one: switching to another account (setpriv) needs that.
 */
export const isRealRoot = isRoot && readUidMap() === "0 0 4294967295";

function readUidMap(): string | undefined {
  try {
    return readFileSync("/proc/self/uid_map", "utf8").trim().split(/\s+/).join(" ");
  } catch {
    return undefined;
  }
}

/** The shell run inside the namespace before the command ("$@"): an empty /var/opt of its own. */
export const inside = 'if [ -d /var/opt ]; then mount -t tmpfs -o mode=0755 keyless-var-opt /var/opt; else mount -t tmpfs -o mode=0755 keyless-var /var && mkdir -p /var/opt /var/tmp; fi && exec "$@"';

/** Why a private user and mount namespace cannot be made here, or undefined when it can. */
export function namespaceUnavailable(): string | undefined {
  const r = spawnSync("unshare", ["--user", "--map-root-user", "--mount", "sh", "-c", inside.replace('exec "$@"', "touch /var/opt/probe")], { encoding: "utf8" });
  if (r.error) return `unshare is not available (${r.error.message}); it comes with util-linux`;
  if (r.status !== 0) return `this kernel does not let an ordinary user create a user and mount namespace (${r.stderr.trim() || `exit ${r.status}`})`;
  return undefined;
}

/**
 * Call at the top of a test file that needs root. Returns true when the file's tests should run in
 * this process (wrap them in `describeHere(here)(...)` and make top-level hooks return early when false).
 * When false, the file has registered one test instead: the same file run as root in a private
 * namespace, which passes only if every test in it passes (its output is shown when one fails).
 */
export function runAsRoot(testFile: string): boolean {
  if (isRoot) return true;
  const file = relative(root, testFile);
  const why = namespaceUnavailable();
  if (why) {
    it.skip(`${file} needs root: ${why}; run it as root (CI does)`, () => {});
    return false;
  }
  it(`runs as root in a private user and mount namespace (unshare; /var/opt is a private tmpfs)`, () => {
    const vitest = resolve(root, "node_modules/vitest/vitest.mjs");
    expect(existsSync(vitest)).toBe(true);
    const r = spawnSync("unshare", ["--user", "--map-root-user", "--mount", "sh", "-c", inside, "sh", process.execPath, vitest, "run", file], {
      cwd: root,
      encoding: "utf8",
      // The outer run's VITEST_* variables describe its own worker, not the inner run.
      env: { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("VITEST"))), CI: "true", FORCE_COLOR: "0", NO_COLOR: "1" },
    });
    const out = `${r.stdout}${r.stderr}`;
    // The whole inner report when anything failed; the counts line otherwise.
    expect(r.status, out).toBe(0);
    expect(out).toMatch(/Tests\s+\d+ passed/);
  }, 300_000);
  return false;
}

/**
 * `describe` when the tests run in this process, else nothing at all: the tests then run (and are
 * counted) inside the namespace only, not also reported here as skipped.
 */
export function describeHere(here: boolean): typeof describe {
  return here ? describe : ((() => undefined) as unknown as typeof describe);
}
