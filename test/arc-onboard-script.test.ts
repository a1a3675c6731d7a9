import { spawn } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { Plan } from "../tools/plan/engine";
import { readStackConfig } from "../tools/plan/stack-file";
import { planProgram, resource, root } from "./support/harness";
import { describeHere, runAsRoot } from "./support/namespace";

// Runs the exact create/delete command strings the plan holds for an ssh server (the heredoc-wrapped
// onboard-linux.sh) with bash, stdin = a service principal secret, against fakes of sudo, azcmagent
// and gpasswd that record what they were given. Proves: the secret reaches azcmagent only inside an
// owner-only --config file (never in argv), the file is gone afterwards, users join himds, the
// identity variables are written, and a refused delete falls back to a local disconnect.

const secret = 'S3cr3t~with"quote\\and.more_-';
let dir: string;
let plan: Plan;
// The script refuses to run unless root: as root, or as root of a private namespace (test/support/namespace.ts).
const here = runAsRoot(__filename);

function fake(name: string, body: string) {
  const f = join(dir, "bin", name);
  writeFileSync(f, `#!/usr/bin/env bash\n${body}\n`);
  chmodSync(f, 0o755);
}

function run(command: string, stdin: string, env: Record<string, string> = {}): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    // --norc: Node gives children socket stdio, which bash takes for sshd and would read ~/.bashrc.
    const p = spawn("bash", ["--norc", "-c", command], { env: { HOME: dir, PATH: `${join(dir, "bin")}:${process.env.PATH}`, ARC_ETC_DIR: join(dir, "etc"), LOG: join(dir, "log"), TMPDIR: join(dir, "tmp"), ...env } });
    let stdout = "";
    let stderr = "";
    p.stdout.on("data", (d) => (stdout += String(d)));
    p.stderr.on("data", (d) => (stderr += String(d)));
    p.on("error", reject);
    p.on("close", (status) => resolve({ status, stdout, stderr }));
    p.stdin.end(stdin);
  });
}

beforeAll(async () => {
  if (!here) return;
  dir = mkdtempSync(join(tmpdir(), "keyless-onboard-"));
  for (const d of ["bin", "etc/profile.d", "tmp"]) mkdirSync(join(dir, d), { recursive: true });
  writeFileSync(join(dir, "etc/environment"), 'PATH="/usr/bin"\n');
  fake("sudo", '[[ "$1" == "-n" ]] && shift\nexec "$@"');
  fake("gpasswd", 'echo "gpasswd $*" >>"$LOG"');
  // Records argv, and the --config file's mode and contents while it exists.
  fake(
    "azcmagent",
    [
      'if [[ "$1" == "show" ]]; then echo "Agent Status : Disconnected"; exit 0; fi',
      'echo "argv: $*" >>"$LOG"',
      'if [[ "$2" == "--config" ]]; then echo "mode: $(stat -c %a "$3")" >>"$LOG"; echo "config: $(cat "$3")" >>"$LOG"; fi',
      'if [[ "$1" == "disconnect" && -n "${REFUSE_DELETE:-}" && "$2" == "--config" ]]; then echo "AuthorizationFailed: machines/delete" >&2; exit 1; fi',
    ].join("\n"),
  );
  const fleet = readStackConfig(`${root}/stacks/arc-fleet.yaml`);
  plan = await planProgram(fleet.values, { stack: "arc", secretKeys: fleet.secretKeys, preview: false, allowPlaceholders: true });
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describeHere(here)("onboard-linux.sh as the plan runs it", () => {
  it("connects with the secret only in an owner-only --config file, adds users to himds, sets the identity variables", async () => {
    const cmd = resource(plan, "command:remote:Command", "arc-arc-lnx-02-onboard").inputs.create as string;
    const r = await run(cmd, `${secret}\n`);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe("arc-onboard: connected as arc-lnx-02");
    const log = readFileSync(join(dir, "log"), "utf8").trim().split("\n");
    expect(log[0]).toMatch(/^argv: connect --config \S+\/arc-onboard\.\w+\/azcmagent\.json$/);
    expect(log[1]).toBe("mode: 600");
    const config = JSON.parse(log[2].replace(/^config: /, "")) as Record<string, string>;
    expect(config).toMatchObject({
      "service-principal-id": "3f2b8c1d-6e4a-4b7c-9d0e-1a2b3c4d5e6f",
      "service-principal-secret": secret,
      "resource-group": "rg-keyless-arc-arc",
      location: "japaneast",
      "resource-name": "arc-lnx-02",
      tags: "environment=arc,managed-by=pulumi,owner=platform,workload=keyless",
      cloud: "AzureCloud",
    });
    expect(config["tenant-id"]).toMatch(/^[0-9a-f-]{36}$/);
    expect(log.slice(3)).toEqual(["gpasswd -a azureuser himds", "gpasswd -a deploy himds"]);
    expect(log.filter((l) => l.startsWith("argv:")).join("\n")).not.toContain(secret.slice(0, 6));
    expect(readdirSync(join(dir, "tmp"))).toEqual([]); // the secret file is gone
    expect(readFileSync(join(dir, "etc/profile.d/azure-arc-identity.sh"), "utf8")).toBe(
      "export IDENTITY_ENDPOINT=http://localhost:40342/metadata/identity/oauth2/token\nexport IMDS_ENDPOINT=http://localhost:40342\n",
    );
    // Idempotent: a second run does not duplicate /etc/environment lines.
    await run(cmd, `${secret}\n`);
    expect(readFileSync(join(dir, "etc/environment"), "utf8")).toBe('PATH="/usr/bin"\nIDENTITY_ENDPOINT=http://localhost:40342/metadata/identity/oauth2/token\nIMDS_ENDPOINT=http://localhost:40342\n');
  });

  it("refuses to run without the secret on stdin", async () => {
    const cmd = resource(plan, "command:remote:Command", "arc-arc-lnx-01-onboard").inputs.create as string;
    const r = await run(cmd, "");
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toBe("arc-onboard: no service principal secret on stdin");
  });

  it("disconnects with the service principal, or locally when ARM refuses the delete", async () => {
    const cmd = resource(plan, "command:remote:Command", "arc-arc-lnx-01-onboard").inputs.delete as string;
    rmSync(join(dir, "log"), { force: true });
    expect((await run(cmd, `${secret}\n`)).status).toBe(0);
    let log = readFileSync(join(dir, "log"), "utf8").trim().split("\n");
    expect(log[0]).toMatch(/^argv: disconnect --config \S+azcmagent\.json$/);
    expect(JSON.parse(log[2].replace(/^config: /, ""))).toEqual({ "service-principal-id": "3f2b8c1d-6e4a-4b7c-9d0e-1a2b3c4d5e6f", "service-principal-secret": secret });
    rmSync(join(dir, "log"), { force: true });
    const refused = await run(cmd, `${secret}\n`, { REFUSE_DELETE: "1" });
    expect(refused.status).toBe(0);
    expect(refused.stderr).toContain("arc-onboard: WARNING: could not delete the Azure resource with the service principal; disconnecting locally only");
    log = readFileSync(join(dir, "log"), "utf8").trim().split("\n");
    expect(log.filter((l) => l.startsWith("argv:"))).toEqual([expect.stringMatching(/^argv: disconnect --config /), "argv: disconnect --force-local-only"]);
    expect(existsSync(join(dir, "tmp")) && readdirSync(join(dir, "tmp"))).toEqual([]);
  });
});
