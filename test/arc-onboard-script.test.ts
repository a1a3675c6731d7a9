import { spawn } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { Plan } from "../tools/plan/engine";
import { mockSubscriptionId } from "../tools/plan/mocks";
import { readStackConfig } from "../tools/plan/stack-file";
import { watchCmdlines } from "./support/cmdline-watch";
import { planProgram, resource, root, withConfig } from "./support/harness";
import { describeHere, runAsRoot } from "./support/namespace";

// Runs the exact create/delete command strings the plan holds for an ssh server (the heredoc-wrapped
// onboard-linux.sh) and the machine-resource cleanup with bash, stdin = the credential, against fakes
// of sudo, azcmagent, gpasswd and az that record what they were given, while every process's command
// line is watched. Proves for both onboarding methods: the credential reaches azcmagent only inside an
// owner-only --config file (never in any argv), the file is gone afterwards, users join himds, the
// identity variables are written, a re-run of a machine connected as the same resource does not
// onboard again while one connected as another stops with the reason, destroy works with an expired
// token, and every disconnect removes the identity variables it wrote.

const secret = 'S3cr3t~with"quote\\and.more_-';
const token = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJodHRwczovL21hbmFnZW1lbnQuYXp1cmUuY29tLyJ9.c2lnbmF0dXJl";
const spId = "3f2b8c1d-6e4a-4b7c-9d0e-1a2b3c4d5e6f";
let dir: string;
let tokenPlan: Plan;
let spPlan: Plan;
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
    const p = spawn("bash", ["--norc", "-c", command], { env: { HOME: dir, PATH: `${join(dir, "bin")}:${process.env.PATH}`, ARC_ETC_DIR: join(dir, "etc"), LOG: join(dir, "log"), TMPDIR: join(dir, "tmp"), STATE: join(dir, "state"), ...env } });
    let stdout = "";
    let stderr = "";
    p.stdout.on("data", (d) => (stdout += String(d)));
    p.stderr.on("data", (d) => (stderr += String(d)));
    p.on("error", reject);
    p.on("close", (status) => resolve({ status, stdout, stderr }));
    // A command that never reads stdin (the destroy path) may exit before it is written: EPIPE is no failure.
    p.stdin.on("error", (err: NodeJS.ErrnoException) => {
      if (err.code !== "EPIPE") reject(err);
    });
    p.stdin.end(stdin);
  });
}

/** What the fake `azcmagent show` names as the resource the machine is connected as. */
const connectedAs = (name: string, group = "rg-keyless-arc-arc", subscription = mockSubscriptionId) => ({ SHOW_NAME: name, SHOW_GROUP: group, SHOW_SUBSCRIPTION: subscription });
const otherSubscription = "0f1e2d3c-4b5a-4697-8877-665544332211";

const log = () => (existsSync(join(dir, "log")) ? readFileSync(join(dir, "log"), "utf8").trim().split("\n") : []);
const reset = (connected = false) => {
  rmSync(join(dir, "log"), { force: true });
  if (connected) writeFileSync(join(dir, "state"), "Connected");
  else rmSync(join(dir, "state"), { force: true });
};

beforeAll(async () => {
  if (!here) return;
  dir = mkdtempSync(join(tmpdir(), "keyless-onboard-"));
  for (const d of ["bin", "bin-no-agent", "etc/profile.d", "tmp"]) mkdirSync(join(dir, d), { recursive: true });
  writeFileSync(join(dir, "etc/environment"), 'PATH="/usr/bin"\n');
  fake("sudo", '[[ "$1" == "-n" ]] && shift\nexec "$@"');
  // A host without the agent: the same sudo, no azcmagent.
  writeFileSync(join(dir, "bin-no-agent", "sudo"), readFileSync(join(dir, "bin", "sudo")), { mode: 0o755 });
  fake("gpasswd", 'echo "gpasswd $*" >>"$LOG"');
  fake("az", 'echo "az $*" >>"$LOG"');
  // `show` prints what the real agent does (label padded to 40, ": ", value); when connected, the
  // resource it is connected as comes from SHOW_NAME, SHOW_GROUP and SHOW_SUBSCRIPTION, and a line
  // whose variable is unset is left out (as a future output format might). Every other command
  // records argv, and the --config file's mode and contents while it exists; stays alive a moment so
  // the command-line watch sees it; connect marks the agent connected.
  fake(
    "azcmagent",
    [
      'if [[ "$1" == "show" ]]; then',
      '  status=$(cat "$STATE" 2>/dev/null || echo Disconnected)',
      '  for l in "Resource Name=SHOW_NAME" "Resource Group Name=SHOW_GROUP" "Subscription ID=SHOW_SUBSCRIPTION"; do',
      '    v=${l#*=}',
      '    if [[ "$status" != Connected ]]; then printf "%-40s: \\n" "${l%%=*}"; elif [[ -n "${!v:-}" ]]; then printf "%-40s: %s\\n" "${l%%=*}" "${!v}"; fi',
      "  done",
      '  printf "%-40s: %s\\n" "Agent Version" "1.58.03228.700" "Agent Status" "$status"',
      "  exit 0",
      "fi",
      'echo "argv: $*" >>"$LOG"',
      'if [[ "$2" == "--config" ]]; then echo "mode: $(stat -c %a "$3")" >>"$LOG"; echo "config: $(cat "$3")" >>"$LOG"; fi',
      "sleep 0.2",
      'if [[ "$1" == "disconnect" && -n "${REFUSE_DELETE:-}" && "$2" == "--config" ]]; then echo "AuthorizationFailed: machines/delete" >&2; exit 1; fi',
      'if [[ "$1" == "connect" ]]; then echo Connected >"$STATE"; fi',
    ].join("\n"),
  );
  const fleet = readStackConfig(`${root}/stacks/arc-fleet.yaml`);
  tokenPlan = await planProgram(fleet.values, { stack: "arc", secretKeys: fleet.secretKeys, preview: false, allowPlaceholders: true });
  const arc = JSON.parse(fleet.values["keyless:arc"]) as Record<string, unknown>;
  const secrets = JSON.parse(fleet.values["keyless:arcSecrets"]) as Record<string, unknown>;
  // An existing stack file of the service-principal era: servicePrincipalId, no method.
  const sp = withConfig(fleet.values, { "keyless:arc": { ...arc, onboarding: { servicePrincipalId: spId } }, "keyless:arcSecrets": { ...secrets, servicePrincipalSecret: "placeholder" } });
  spPlan = await planProgram(sp, { stack: "arc", secretKeys: fleet.secretKeys, preview: false, allowPlaceholders: true });
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describeHere(here)("onboard-linux.sh with the deployer's access token (default)", () => {
  it("connects with the token only in an owner-only --config file, in no process's command line", async () => {
    reset();
    const cmd = resource(tokenPlan, "command:remote:Command", "arc-arc-lnx-02-onboard").inputs.create as string;
    const watch = watchCmdlines();
    const r = await run(cmd, `${token}\n`);
    watch.stop();
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe("arc-onboard: connected as arc-lnx-02");
    const lines = log();
    expect(lines[0]).toMatch(/^argv: connect --config \S+\/arc-onboard\.\w+\/azcmagent\.json$/);
    expect(lines[1]).toBe("mode: 600");
    const config = JSON.parse(lines[2].replace(/^config: /, "")) as Record<string, string>;
    expect(config).toEqual({
      "access-token": token,
      "tenant-id": expect.stringMatching(/^[0-9a-f-]{36}$/),
      "subscription-id": mockSubscriptionId,
      "resource-group": "rg-keyless-arc-arc",
      location: "japaneast",
      "resource-name": "arc-lnx-02",
      tags: "environment=arc,managed-by=pulumi,owner=platform,workload=keyless",
      cloud: "AzureCloud",
    });
    expect(lines.slice(3)).toEqual(["gpasswd -a azureuser himds", "gpasswd -a deploy himds"]);
    expect(readdirSync(join(dir, "tmp"))).toEqual([]); // the token file is gone
    // The watch saw azcmagent run, and no command line ever held the token.
    const seen = [...watch.seen];
    expect(seen.some((c) => /azcmagent connect --config /.test(c))).toBe(true);
    expect(seen.filter((c) => c.includes(token.slice(0, 40)))).toEqual([]);
  });

  it("does not onboard again on a re-run of a machine connected as this resource (names in any case), even with an expired token", async () => {
    const cmd = resource(tokenPlan, "command:remote:Command", "arc-arc-lnx-01-onboard").inputs.create as string;
    for (const as of [connectedAs("arc-lnx-01"), connectedAs("ARC-LNX-01", "RG-Keyless-Arc-Arc", mockSubscriptionId.toUpperCase()), { SHOW_NAME: "arc-lnx-01" }]) {
      reset(true);
      const r = await run(cmd, "expired-token\n", as);
      expect(r.stderr).toBe("");
      expect(r.status).toBe(0);
      expect(r.stdout).toContain("arc-onboard: already connected, not reconnecting");
      expect(log().filter((l) => l.startsWith("argv:"))).toEqual([]);
    }
  });

  it.each([
    ["another resource name", connectedAs("arc-old-name"), `arc-old-name in resource group rg-keyless-arc-arc, subscription ${mockSubscriptionId}`],
    ["another resource group", connectedAs("arc-lnx-01", "rg-onprem"), `arc-lnx-01 in resource group rg-onprem, subscription ${mockSubscriptionId}`],
    ["another subscription", connectedAs("arc-lnx-01", "rg-keyless-arc-arc", otherSubscription), `arc-lnx-01 in resource group rg-keyless-arc-arc, subscription ${otherSubscription}`],
    ["another resource name, the rest not shown", { SHOW_NAME: "arc-old-name" }, "arc-old-name in resource group ?, subscription ?"],
  ])("stops, touching nothing, when the machine is connected as %s", async (_, as, have) => {
    reset(true);
    const cmd = resource(tokenPlan, "command:remote:Command", "arc-arc-lnx-01-onboard").inputs.create as string;
    const r = await run(cmd, "expired-token\n", as);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe(
      `arc-onboard: this machine is connected to Azure Arc as ${have}, not as arc-lnx-01 in resource group rg-keyless-arc-arc, subscription ${mockSubscriptionId}: disconnect it first (azcmagent disconnect), or list it in keyless:arc.servers as onboard: existing\n`,
    );
    expect(log()).toEqual([]); // no connect, no gpasswd
  });

  it("warns and goes on as connected when azcmagent show names no resource at all (another output format)", async () => {
    reset(true);
    const cmd = resource(tokenPlan, "command:remote:Command", "arc-arc-lnx-01-onboard").inputs.create as string;
    const r = await run(cmd, "expired-token\n");
    expect(r.status).toBe(0);
    expect(r.stderr).toBe(
      `arc-onboard: WARNING: azcmagent show names no Resource Name, Resource Group Name or Subscription ID: not checking that this machine is connected as arc-lnx-01 in resource group rg-keyless-arc-arc, subscription ${mockSubscriptionId}\n`,
    );
    expect(r.stdout).toContain("arc-onboard: already connected, not reconnecting");
    expect(log().filter((l) => l.startsWith("argv:"))).toEqual([]);
  });

  it("refuses to run without a token on stdin", async () => {
    reset();
    const cmd = resource(tokenPlan, "command:remote:Command", "arc-arc-lnx-01-onboard").inputs.create as string;
    const r = await run(cmd, "");
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toBe("arc-onboard: no access token on stdin");
  });

  it("at destroy: deletes the machine resource with az first, then disconnects the agent locally, with no token at all", async () => {
    reset(true);
    const cleanup = resource(tokenPlan, "command:local:Command", "arc-arc-lnx-01-machine").inputs.delete as string;
    expect((await run(cleanup, "")).status).toBe(0);
    const disconnect = resource(tokenPlan, "command:remote:Command", "arc-arc-lnx-01-onboard").inputs.delete as string;
    // The stored token expired long ago; the delete does not even read stdin.
    const r = await run(disconnect, "");
    expect(r.status).toBe(0);
    expect(log()).toEqual([`az resource delete --ids /subscriptions/${mockSubscriptionId}/resourceGroups/rg-keyless-arc-arc/providers/Microsoft.HybridCompute/machines/arc-lnx-01 --only-show-errors`, "argv: disconnect --force-local-only"]);
  });
});

describeHere(here)("onboard-linux.sh with a service principal (servicePrincipalId without method)", () => {
  it("keeps the service-principal command strings and connects with the secret only in the --config file", async () => {
    reset();
    const c = resource(spPlan, "command:remote:Command", "arc-arc-lnx-02-onboard");
    expect(c.inputs.create).toContain(`arc-onboard connect 'sp-id=${spId}' 'tenant-id=`);
    expect(c.inputs.delete).toMatch(new RegExp(`arc-onboard disconnect 'sp-id=${spId}'$`));
    expect(spPlan.ignoreChanges?.[c.urn]).toBeUndefined();
    const watch = watchCmdlines();
    const r = await run(c.inputs.create as string, `${secret}\n`);
    watch.stop();
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const lines = log();
    expect(lines[1]).toBe("mode: 600");
    expect(JSON.parse(lines[2].replace(/^config: /, ""))).toMatchObject({ "service-principal-id": spId, "service-principal-secret": secret, "resource-name": "arc-lnx-02" });
    expect([...watch.seen].filter((cl) => cl.includes(secret.slice(0, 6)))).toEqual([]);
    expect(readdirSync(join(dir, "tmp"))).toEqual([]);
    // No machine-resource cleanup: the principal's own disconnect deletes it.
    expect(() => resource(spPlan, "command:local:Command", "arc-arc-lnx-02-machine")).toThrow(/found 0/);
  });

  it("refuses to run without the secret on stdin", async () => {
    const cmd = resource(spPlan, "command:remote:Command", "arc-arc-lnx-01-onboard").inputs.create as string;
    const r = await run(cmd, "");
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toBe("arc-onboard: no service principal secret on stdin");
  });

  it("disconnects with the service principal, or locally when ARM refuses the delete", async () => {
    reset(true);
    const cmd = resource(spPlan, "command:remote:Command", "arc-arc-lnx-01-onboard").inputs.delete as string;
    expect((await run(cmd, `${secret}\n`)).status).toBe(0);
    let lines = log();
    expect(lines[0]).toMatch(/^argv: disconnect --config \S+azcmagent\.json$/);
    expect(JSON.parse(lines[2].replace(/^config: /, ""))).toEqual({ "service-principal-id": spId, "service-principal-secret": secret });
    reset(true);
    const refused = await run(cmd, `${secret}\n`, { REFUSE_DELETE: "1" });
    expect(refused.status).toBe(0);
    expect(refused.stderr).toContain("arc-onboard: WARNING: could not delete the Azure resource with the service principal; disconnecting locally only");
    lines = log();
    expect(lines.filter((l) => l.startsWith("argv:"))).toEqual([expect.stringMatching(/^argv: disconnect --config /), "argv: disconnect --force-local-only"]);
    expect(existsSync(join(dir, "tmp")) && readdirSync(join(dir, "tmp"))).toEqual([]);
  });

  it("appends the identity variables on lines of their own when /etc/environment does not end in a newline", async () => {
    reset();
    const env = join(dir, "etc/environment");
    const before = readFileSync(env, "utf8");
    writeFileSync(env, 'PATH="/usr/bin"\nLANG=C.UTF-8');
    try {
      const cmd = resource(spPlan, "command:remote:Command", "arc-arc-lnx-01-onboard").inputs.create as string;
      expect((await run(cmd, `${secret}\n`)).status).toBe(0);
      expect(readFileSync(env, "utf8")).toBe('PATH="/usr/bin"\nLANG=C.UTF-8\nIDENTITY_ENDPOINT=http://localhost:40342/metadata/identity/oauth2/token\nIMDS_ENDPOINT=http://localhost:40342\n');
    } finally {
      writeFileSync(env, before);
    }
  });

  it("sets the identity variables once, however often it runs", async () => {
    reset();
    const cmd = resource(spPlan, "command:remote:Command", "arc-arc-lnx-01-onboard").inputs.create as string;
    await run(cmd, `${secret}\n`, connectedAs("arc-lnx-01"));
    await run(cmd, `${secret}\n`, connectedAs("arc-lnx-01"));
    expect(readFileSync(join(dir, "etc/profile.d/azure-arc-identity.sh"), "utf8")).toBe("export IDENTITY_ENDPOINT=http://localhost:40342/metadata/identity/oauth2/token\nexport IMDS_ENDPOINT=http://localhost:40342\n");
    expect(readFileSync(join(dir, "etc/environment"), "utf8")).toBe('PATH="/usr/bin"\nIDENTITY_ENDPOINT=http://localhost:40342/metadata/identity/oauth2/token\nIMDS_ENDPOINT=http://localhost:40342\n');
  });
});

describeHere(here)("onboard-linux.sh at disconnect: removes the identity variables it wrote", () => {
  const identity = "IDENTITY_ENDPOINT=http://localhost:40342/metadata/identity/oauth2/token";
  const imds = "IMDS_ENDPOINT=http://localhost:40342";
  // Look-alikes that are not the script's lines stay, and so does a last line without a newline.
  const others = ['PATH="/usr/bin"', "LANG=C.UTF-8", `# ${imds}`, `export ${imds}`, `${imds}/other`, ` ${identity}`];
  const before = [others[0], identity, others[1], others[2], imds, others[3], others[4], others[5], "TZ=UTC"].join("\n");
  const after = [...others, "TZ=UTC"].join("\n");

  it.each([
    ["the access-token method", "token", "", "bin", ["argv: disconnect --force-local-only"]],
    ["the access-token method, agent not installed", "token", "", "bin-no-agent", []],
    ["a service principal", "sp", `${secret}\n`, "bin", [expect.stringMatching(/^argv: disconnect --config /)]],
    ["a service principal, agent not installed", "sp", `${secret}\n`, "bin-no-agent", []],
  ] as const)("with %s: deletes the profile.d file and exactly its two lines of /etc/environment", async (_, method, stdin, bin, argv) => {
    reset(true);
    writeFileSync(join(dir, "etc/profile.d/azure-arc-identity.sh"), "export IMDS_ENDPOINT=http://localhost:40342\n");
    writeFileSync(join(dir, "etc/environment"), before);
    chmodSync(join(dir, "etc/environment"), 0o640);
    const cmd = resource(method === "token" ? tokenPlan : spPlan, "command:remote:Command", "arc-arc-lnx-01-onboard").inputs.delete as string;
    const r = await run(cmd, stdin, { PATH: `${join(dir, bin)}:${process.env.PATH}` });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(log().filter((l) => l.startsWith("argv:"))).toEqual(argv);
    expect(existsSync(join(dir, "etc/profile.d/azure-arc-identity.sh"))).toBe(false);
    expect(readFileSync(join(dir, "etc/environment"), "utf8")).toBe(after);
    expect(statSync(join(dir, "etc/environment")).mode & 0o777).toBe(0o640);
  });

  it("leaves a file without those lines untouched, and creates none that is missing", async () => {
    const cmd = resource(tokenPlan, "command:remote:Command", "arc-arc-lnx-01-onboard").inputs.delete as string;
    writeFileSync(join(dir, "etc/environment"), after);
    const mtime = statSync(join(dir, "etc/environment")).mtimeMs;
    await new Promise((r) => setTimeout(r, 20));
    expect((await run(cmd, "")).status).toBe(0);
    expect(readFileSync(join(dir, "etc/environment"), "utf8")).toBe(after);
    expect(statSync(join(dir, "etc/environment")).mtimeMs).toBe(mtime);
    rmSync(join(dir, "etc/environment"));
    const r = await run(cmd, "");
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(existsSync(join(dir, "etc/environment"))).toBe(false);
    writeFileSync(join(dir, "etc/environment"), 'PATH="/usr/bin"\n');
  });
});
