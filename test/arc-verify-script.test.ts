import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Azurite, startAzurite, startVault, type VaultStandIn } from "./support/azure-standins";
import { root } from "./support/harness";
import { type Himds, mintToken, startHimds } from "./support/himds-standin";
import { isRoot } from "./support/namespace";

// Runs scripts/arc/verify-identity.sh for real with bash: HIMDS stand-in (challenge flow, owner-only
// key file, wrong-secret rejection), Azurite over HTTPS with OAuth for the upload, a Key Vault
// stand-in for the probe secret. Then checks the blob really landed in Azurite.

const script = join(root, "scripts/arc/verify-identity.sh");
const container = "arcupload";
let azurite: Azurite;
let vault: VaultStandIn;
let himds: Himds;
let keyDir: string;

/** Run a command asynchronously: the stand-ins live in this process and must keep answering. */
function exec(cmd: string, args: string[], env: Record<string, string>): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    p.stdout.on("data", (d) => (stdout += String(d)));
    p.stderr.on("data", (d) => (stderr += String(d)));
    p.on("error", reject);
    p.on("close", (status) => resolve({ status, stdout, stderr }));
  });
}

function run(env: Record<string, string>, args: string[] = []) {
  return exec("bash", [script, ...args], { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: tmpdir(), ...env });
}

function baseEnv(h: Himds): Record<string, string> {
  return {
    IDENTITY_ENDPOINT: h.identityEndpoint,
    STORAGE_ACCOUNT_URL: azurite.accountUrl,
    CONTAINER: container,
    VAULT_URI: vault.vaultUri,
    SECRET_NAME: "keyless-probe",
    EXPECTED_SECRET: "keyless-probe",
    CURL_CA_BUNDLE: azurite.caFile,
  };
}

function curl(args: string[]): string {
  return execFileSync("curl", ["-sS", "--cacert", azurite.caFile, ...args], { encoding: "utf8" });
}

beforeAll(async () => {
  azurite = await startAzurite();
  vault = await startVault({ "keyless-probe": "keyless-probe" });
  keyDir = mkdtempSync(join(tmpdir(), "keyless-himds-"));
  himds = await startHimds({ keyDir });
  // The container the grant scopes to; Azurite's basic OAuth accepts any well-formed storage token.
  curl(["-X", "PUT", "-H", `Authorization: Bearer ${mintToken("https://storage.azure.com")}`, "-H", "x-ms-version: 2021-08-06", `${azurite.accountUrl}${container}?restype=container`]);
}, 150_000);

afterAll(async () => {
  await himds?.close();
  await vault?.close();
  await azurite?.stop();
  if (keyDir) rmSync(keyDir, { recursive: true, force: true });
});

describe("verify-identity.sh against the stand-ins", () => {
  it("gets tokens through the challenge, uploads a blob that lands in Azurite, reads the probe secret", async () => {
    const r = await run(baseEnv(himds), ["BLOB_NAME=checks/host-a.txt"]);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout.trim().split("\n")).toEqual([
      "PASS himds: token for https://storage.azure.com/",
      `PASS storage: uploaded ${azurite.accountUrl}${container}/checks/host-a.txt`,
      "PASS himds: token for https://vault.azure.net",
      "PASS keyvault: read secret keyless-probe",
      "keyless-verify: OK",
    ]);
    // The blob is really there, with the script's payload.
    const body = curl(["-H", `Authorization: Bearer ${mintToken("https://storage.azure.com")}`, "-H", "x-ms-version: 2021-08-06", `${azurite.accountUrl}${container}/checks/host-a.txt`]);
    expect(body).toMatch(/^keyless verification from \S+ at \d{4}-\d\d-\d\dT/);
    // Each challenge handed out an owner-only key file.
    expect(himds.keyFiles.length).toBeGreaterThanOrEqual(2);
    for (const f of himds.keyFiles) expect(statSync(f).mode & 0o777).toBe(0o600);
  });

  it.each<[string, { realmOverride?: string; corruptKeyFile?: boolean }, RegExp]>([
    ["a missing key file", { realmOverride: "/tmp/keyless-no-such-key-file.key" }, /^FAIL himds: key file \/tmp\/keyless-no-such-key-file.key named by the challenge does not exist$/],
    ["a wrong secret", { corruptKeyFile: true }, /^FAIL himds: the endpoint rejected the key file's contents \(HTTP 401, wrong or stale secret\)/],
  ])("stops at the HIMDS step on %s", async (_, injection, message) => {
    const bad = await startHimds({ keyDir, ...injection });
    try {
      const r = await run(baseEnv(bad));
      expect(r.status).toBe(1);
      expect(r.stdout).toBe("");
      expect(r.stderr.trim()).toMatch(message);
    } finally {
      await bad.close();
    }
  });

  // Switching to another account (setpriv) needs real root: a user namespace maps only its own
  // user, so an ordinary user cannot run this one anywhere; CI runs it as root.
  it.runIf(isRoot)(`says to join himds when the account cannot read the key file${isRoot ? "" : " (skipped: needs real root to switch accounts with setpriv)"}`, async () => {
    // Key files are 0600 root-owned, as only root and the himds group may read the agent's.
    const r = await exec("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", "bash", script], { PATH: process.env.PATH ?? "", HOME: "/tmp", ...baseEnv(himds) });
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toMatch(/^FAIL himds: cannot read key file \S+\.key as nobody: run as root or add the account to the himds group \(gpasswd -a nobody himds/);
  });

  it("reports a 403 from storage as a missing role", async () => {
    // A token Azurite refuses (audience of another service) gets Storage's 403 AuthenticationFailed.
    const wrong = await startHimds({ keyDir, audienceFor: () => "https://management.azure.com" });
    try {
      const r = await run(baseEnv(wrong));
      expect(r.status).toBe(1);
      expect(r.stdout).toBe("PASS himds: token for https://storage.azure.com/\n");
      expect(r.stderr.trim()).toMatch(/^FAIL storage: HTTP 403 on \S+\/arcupload\/keyless-verify\/\S+\.txt: the identity has no Storage Blob Data Contributor on container arcupload yet/);
    } finally {
      await wrong.close();
    }
  });

  it("reports a 403 from Key Vault as a missing role, and an endpoint that is down", async () => {
    const r = await run({ ...baseEnv(himds), VAULT_RESOURCE: "https://management.azure.com" });
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toMatch(/^FAIL keyvault: HTTP 403 reading secret keyless-probe: the identity has no Key Vault Secrets User/);
    const down = await run({ ...baseEnv(himds), IDENTITY_ENDPOINT: "http://127.0.0.1:9/metadata/identity/oauth2/token" });
    expect(down.status).toBe(1);
    expect(down.stderr.trim()).toMatch(/^FAIL himds: identity endpoint http:\/\/127.0.0.1:9\/metadata\/identity\/oauth2\/token is not reachable .*azcmagent show/);
  });

});
