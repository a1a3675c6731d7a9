import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { verifyTimeoutSeconds } from "../components/container-host";
import { root } from "./support/harness";

// scripts/vm/verify-acr-pull.sh run for real, against stand-ins for az, docker and cloud-init on
// PATH. Each stand-in records its arguments (and the az/docker config dirs it was given) and fails
// when told to, the way the real tool does: a message on stderr and a non-zero exit.

const script = resolve(root, "scripts/vm/verify-acr-pull.sh");
const cloudInit = resolve(root, "scripts/vm/cloud-init.yaml");

const stub = (tool: string) => `#!/usr/bin/env bash
echo "${tool} $*" >> "$STUB_LOG"
echo "${tool}-env AZURE_CONFIG_DIR=\${AZURE_CONFIG_DIR:-} DOCKER_CONFIG=\${DOCKER_CONFIG:-}" >> "$STUB_LOG"
key="$(echo "${tool} $1 $2" | tr -c 'a-z0-9\\n' '_')"
count_file="$STUB_DIR/count_$key"
count=$(( $(cat "$count_file" 2>/dev/null || echo 0) + 1 ))
echo "$count" > "$count_file"
fail_var="FAIL_$key"
fail_times="\${!fail_var:-0}"
if [ "$fail_times" = always ] || [ "$count" -le "$fail_times" ]; then
  msg_var="MSG_$key"
  echo "\${!msg_var:-ERROR: ${tool} failed}" >&2
  exit "\${STUB_EXIT:-1}"
fi
case "${tool} $1" in
  "cloud-init status") echo "status: done" ;;
  "az acr") echo "Login Succeeded" ;;
  "docker pull") printf 'latest: Pulling from hello-world\\nDigest: sha256:abc123\\nStatus: Downloaded newer image for %s\\n' "$2" ;;
esac
`;

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "keyless-verify-"));
  for (const tool of ["az", "docker", "cloud-init"]) {
    writeFileSync(join(dir, tool), stub(tool));
    chmodSync(join(dir, tool), 0o755);
  }
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const params = {
  IDENTITY_CLIENT_ID: "043950fa-d5e3-58eb-8416-511dfaf93247",
  REGISTRY_NAME: "crkeylessdevnmkv",
  REGISTRY_LOGIN_SERVER: "crkeylessdevnmkv.azurecr.io",
  VERIFY_IMAGE: "hello-world:latest",
};

function run(env: Record<string, string | undefined> = {}) {
  const log = join(dir, "calls.log");
  const r = spawnSync("bash", [script], {
    env: { PATH: `${dir}:/usr/bin:/bin`, STUB_LOG: log, STUB_DIR: dir, VERIFY_ATTEMPTS: "2", VERIFY_RETRY_SECONDS: "0", ...params, ...env },
    encoding: "utf8",
  });
  const calls = existsSync(log) ? readFileSync(log, "utf8").trim().split("\n") : [];
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, calls: calls.filter((c) => !c.includes("-env ")), envs: calls.filter((c) => c.includes("-env ")) };
}

describe("verify-acr-pull.sh", () => {
  it("logs in with the identity's client id, logs in to the registry, pulls, and prints one OK line", () => {
    const r = run();
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`verify: OK pulled crkeylessdevnmkv.azurecr.io/hello-world:latest (sha256:abc123) with identity ${params.IDENTITY_CLIENT_ID} (no registry password)\n`);
    expect(r.calls).toEqual([
      "cloud-init status --wait",
      `az login --identity --client-id ${params.IDENTITY_CLIENT_ID} --output none`,
      "az acr login --name crkeylessdevnmkv",
      "docker pull crkeylessdevnmkv.azurecr.io/hello-world:latest",
    ]);
  });

  it("keeps the az profile and Docker credentials in a private directory it removes afterwards", () => {
    const r = run();
    const dirs = r.envs.slice(1).map((e) => /AZURE_CONFIG_DIR=(\S+) DOCKER_CONFIG=(\S+)/.exec(e)?.slice(1) ?? []);
    expect(dirs).toHaveLength(3);
    for (const [az, docker] of dirs) {
      expect(az).toMatch(/\/az$/);
      expect(docker).toMatch(/\/docker$/);
      expect(existsSync(az)).toBe(false);
    }
  });

  it.each([
    ["az login", { FAIL_az_login___identity: "always", MSG_az_login___identity: "ERROR: Identity not found" }, 5, "verify: FAILED at az login: ERROR: Identity not found (after 2 attempts)"],
    [
      "az acr login",
      { FAIL_az_acr_login: "always", MSG_az_acr_login: "ERROR: 401 Unauthorized: the identity has no AcrPull on this registry" },
      6,
      "verify: FAILED at az acr login: ERROR: 401 Unauthorized: the identity has no AcrPull on this registry (after 2 attempts)",
    ],
    [
      "docker pull",
      { FAIL_docker_pull_crkeylessdevnmkv_azurecr_io_hello_world_latest: "always", MSG_docker_pull_crkeylessdevnmkv_azurecr_io_hello_world_latest: "Error response from daemon: manifest for hello-world:latest not found" },
      7,
      "verify: FAILED at docker pull: Error response from daemon: manifest for hello-world:latest not found (after 2 attempts)",
    ],
    ["cloud-init", { FAIL_cloud_init_status___wait: "always", MSG_cloud_init_status___wait: "status: error" }, 3, "verify: FAILED at cloud-init: cloud-init status exited 1 (status: error); see /var/log/cloud-init-output.log"],
  ])("names the failing step when %s fails, with the tool's reason and its own exit code", (_, env, code, line) => {
    const r = run(env);
    expect(r.code).toBe(code);
    expect(r.stdout).toBe(`${line}\n`);
  });

  it("retries while a fresh AcrPull grant propagates, then succeeds", () => {
    const r = run({ FAIL_az_acr_login: "1", MSG_az_acr_login: "ERROR: unauthorized" });
    expect(r.code).toBe(0);
    expect(r.calls.filter((c) => c.startsWith("az acr login"))).toHaveLength(2);
    expect(r.stderr).toContain("verify: az acr login failed (attempt 1 of 2); retrying in 0s");
    expect(r.stdout).toMatch(/^verify: OK pulled /);
  });

  it("by default retries for 10 minutes (20 x 30 s), how long a new role assignment can take to apply, inside the run command's timeout", () => {
    // VERIFY_RETRY_SECONDS 0 keeps the test fast; the default attempts are what is checked.
    const r = run({ VERIFY_ATTEMPTS: undefined, FAIL_az_acr_login: "always", MSG_az_acr_login: "ERROR: unauthorized" });
    expect(r.code).toBe(6);
    expect(r.stdout).toBe("verify: FAILED at az acr login: ERROR: unauthorized (after 20 attempts)\n");
    expect(r.stderr).toContain("verify: az acr login failed (attempt 19 of 20); retrying in 0s");
    expect(20 * 30).toBeLessThan(verifyTimeoutSeconds - 15 * 60); // leaves cloud-init 15 minutes
  });

  it("goes on when cloud-init finished with recoverable errors (exit 2)", () => {
    const r = run({ FAIL_cloud_init_status___wait: "always", STUB_EXIT: "2", MSG_cloud_init_status___wait: "status: degraded done" });
    // STUB_EXIT applies to every failing stub; only cloud-init fails here.
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("cloud-init reported recoverable errors");
  });

  it("stops before any login when a tool is missing", () => {
    rmSync(join(dir, "docker"));
    const r = run();
    expect(r.code).toBe(4);
    expect(r.stdout).toBe("verify: FAILED at tools: docker is not installed; see /var/log/cloud-init-output.log\n");
    expect(r.calls.some((c) => c.startsWith("az login"))).toBe(false);
  });

  it("refuses to run without its parameters", () => {
    const r = run({ IDENTITY_CLIENT_ID: "" });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("verify: FAILED at parameters: IDENTITY_CLIENT_ID is not set (pass it as a named run command parameter)\n");
    expect(r.calls).toEqual([]);
  });
});

describe("cloud-init", () => {
  // ShellCheck runs over the installer in `npm run lint` (tools/lint/shell.ts finds it).
  it("writes the Azure CLI installer, installs Docker and runs the installer", () => {
    const doc = parse(readFileSync(cloudInit, "utf8")) as { packages: string[]; write_files: { path: string; content: string }[]; runcmd: string[][] };
    expect(readFileSync(cloudInit, "utf8").startsWith("#cloud-config\n")).toBe(true);
    expect(doc.packages).toContain("docker.io");
    const installer = doc.write_files.find((f) => f.path === "/usr/local/sbin/keyless-install-azure-cli");
    expect(installer?.content).toContain("apt-get install -y azure-cli");
    expect(doc.runcmd).toContainEqual(["/usr/local/sbin/keyless-install-azure-cli"]);
  });
});
