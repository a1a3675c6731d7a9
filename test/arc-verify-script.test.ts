import { execFileSync, spawn } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type Azurite, closeServer, startAzurite, startVault, type VaultStandIn } from "./support/azure-standins";
import { watchCmdlines } from "./support/cmdline-watch";
import { root } from "./support/harness";
import { agentTokensDir, ensureAgentTokensDir, type Himds, mintToken, startHimds } from "./support/himds-standin";
import { describeHere, isRealRoot, runAsRoot } from "./support/namespace";

// Runs scripts/arc/verify-identity.sh for real with bash: HIMDS stand-in (challenge flow, owner-only
// key file in the agent's token directory, wrong-secret rejection), Azurite over HTTPS with OAuth for
// the upload, a Key Vault stand-in for the probe secret. Then checks the blob really landed in
// Azurite. Azurite enforces no RBAC: the path limit is tested against the condition itself
// (test/arc-abac.test.ts); here a stand-in answers 403 to test the retries, and a fake curl on PATH
// reports an old version.

const script = join(root, "scripts/arc/verify-identity.sh");
const container = "arcupload";
let azurite: Azurite;
let vault: VaultStandIn;
let himds: Himds;
const keyDir = agentTokensDir;
let cleanupDir: () => void = () => undefined;
// The agent's token directory is a real path: as root, or as root of a private namespace (test/support/namespace.ts).
const here = runAsRoot(__filename);

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
  if (!here) return;
  azurite = await startAzurite();
  vault = await startVault({ "keyless-probe": "keyless-probe" });
  cleanupDir = ensureAgentTokensDir();
  himds = await startHimds({ keyDir });
  // The container the grant scopes to; Azurite's basic OAuth accepts any well-formed storage token.
  curl(["-X", "PUT", "-H", `Authorization: Bearer ${mintToken("https://storage.azure.com")}`, "-H", "x-ms-version: 2021-08-06", `${azurite.accountUrl}${container}?restype=container`]);
}, 150_000);

afterAll(async () => {
  await himds?.close();
  await vault?.close();
  await azurite?.stop();
  cleanupDir();
});

describeHere(here)("verify-identity.sh against the stand-ins", () => {
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
    ["a missing key file", { realmOverride: `${agentTokensDir}/keyless-no-such-key-file.key` }, /^FAIL himds: key file \/var\/opt\/azcmagent\/tokens\/keyless-no-such-key-file.key named by the challenge does not exist$/],
    ["a key file outside the agent's directory", { realmOverride: "/etc/shadow.key" }, /^FAIL himds: the challenge names \/etc\/shadow.key, outside the agent's token directory \/var\/opt\/azcmagent\/tokens: refusing to read it$/],
    ["a path that climbs out of it", { realmOverride: `${agentTokensDir}/../../../../etc/x.key` }, /^FAIL himds: the challenge names \S+, outside the agent's token directory/],
    ["a file that is not a .key", { realmOverride: "/etc/shadow" }, /^FAIL himds: the challenge names \/etc\/shadow, not a .key file: refusing to read it$/],
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

  it("refuses an oversized key file and a link, as Microsoft's client does", async () => {
    const big = join(agentTokensDir, "keyless-test-big.key");
    const link = join(agentTokensDir, "keyless-test-link.key");
    writeFileSync(big, "x".repeat(4097), { mode: 0o600 });
    symlinkSync("/etc/hostname", link);
    try {
      for (const [realm, message] of [
        [big, /^FAIL himds: key file \S+big.key is 4097 bytes, over the 4096 the agent writes: refusing to read it$/],
        [link, /^FAIL himds: key file \S+link.key is not a regular file: refusing to read it$/],
      ] as const) {
        const bad = await startHimds({ keyDir, realmOverride: realm });
        try {
          const r = await run(baseEnv(bad));
          expect(r.status).toBe(1);
          expect(r.stderr.trim()).toMatch(message);
        } finally {
          await bad.close();
        }
      }
    } finally {
      rmSync(big, { force: true });
      rmSync(link, { force: true });
    }
  });

  it("never puts the key or a token on a command line (every process's argv watched)", async () => {
    // A slow HIMDS keeps each curl alive long enough for the watch to see it.
    const slow = await startHimds({ keyDir, delayMs: 150 });
    const watch = watchCmdlines();
    try {
      const r = await run(baseEnv(slow), ["BLOB_NAME=host-w/keyless-verify.txt"]);
      expect(r.status).toBe(0);
    } finally {
      watch.stop();
      await slow.close();
    }
    const seen = [...watch.seen];
    const curls = seen.filter((c) => c.startsWith("curl "));
    expect(curls.some((c) => c.includes("Metadata: true") && c.includes(" -H @"))).toBe(true);
    expect(curls.filter((c) => /Authorization|Bearer|Basic |eyJ/.test(c))).toEqual([]);
  });

  it("retries a 403 while the grant propagates, then passes; gives up after the last delay", async () => {
    let refusals = 2;
    const puts: string[] = [];
    const blob = createServer((req, res) => {
      puts.push(req.url ?? "");
      const status = refusals-- > 0 ? 403 : 201;
      res.writeHead(status, { "Content-Type": "application/xml" });
      res.end(status === 403 ? "<Error><Code>AuthorizationPermissionMismatch</Code></Error>" : "");
      req.resume();
    });
    await new Promise<void>((r) => blob.listen(0, "127.0.0.1", r));
    const url = `http://127.0.0.1:${(blob.address() as AddressInfo).port}/`;
    try {
      const ok = await run({ ...baseEnv(himds), STORAGE_ACCOUNT_URL: url, VAULT_URI: "", RETRY_DELAYS: "0 0 0" });
      expect(ok.status).toBe(0);
      expect(ok.stderr.trim().split("\n")).toEqual(["WAIT 0 s: HTTP 403, the role assignment may still be propagating", "WAIT 0 s: HTTP 403, the role assignment may still be propagating"]);
      expect(puts).toHaveLength(3);
      refusals = 100;
      const failed = await run({ ...baseEnv(himds), STORAGE_ACCOUNT_URL: url, VAULT_URI: "", RETRY_DELAYS: "0 0" });
      expect(failed.status).toBe(1);
      expect(failed.stderr.trim().split("\n").at(-1)).toMatch(/^FAIL storage: HTTP 403 on \S+: the identity has no Storage Blob Data Contributor on container arcupload for this path \(still 403 after the retries/);
      expect(puts).toHaveLength(6);
    } finally {
      await closeServer(blob);
    }
  });

  // Switching to another account (setpriv) needs real root: a user namespace maps only its own
  // user, so an ordinary user cannot run this one anywhere; CI runs it as root.
  it.runIf(isRealRoot)(`says to join himds when the account cannot read the key file${isRealRoot ? "" : " (skipped: needs real root to switch accounts with setpriv)"}`, async () => {
    // Key files are 0600 root-owned, as only root and the himds group may read the agent's.
    const r = await exec("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", "bash", script], { PATH: process.env.PATH ?? "", HOME: "/tmp", ...baseEnv(himds) });
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toMatch(/^FAIL himds: cannot read key file \S+\.key as nobody: run as root or add the account to the himds group \(gpasswd -a nobody himds/);
  });

  it("reports a 403 from storage as a missing role", async () => {
    // A token Azurite refuses (audience of another service) gets Storage's 403 AuthenticationFailed.
    const wrong = await startHimds({ keyDir, audienceFor: () => "https://management.azure.com" });
    try {
      const r = await run({ ...baseEnv(wrong), RETRY_DELAYS: "0" });
      expect(r.status).toBe(1);
      expect(r.stdout).toBe("PASS himds: token for https://storage.azure.com/\n");
      expect(r.stderr).toMatch(/^WAIT 0 s: HTTP 403, the role assignment may still be propagating\nFAIL storage: HTTP 403 on \S+\/arcupload\/\S+\/keyless-verify\.txt: the identity has no Storage Blob Data Contributor on container arcupload for this path/);
    } finally {
      await wrong.close();
    }
  });

  it("stops first when curl is older than 7.55.0 (no -H @file) or names no version; 7.55.0 itself passes", async () => {
    const realCurl = execFileSync("sh", ["-c", "command -v curl"], { encoding: "utf8" }).trim();
    const bin = mkdtempSync(join(tmpdir(), "keyless-curl-"));
    // A curl that answers --version with the given first line and hands everything else to the real one.
    const fakeCurl = (firstLine: string) => {
      writeFileSync(join(bin, "curl"), `#!/usr/bin/env bash\nif [[ "$1" == --version ]]; then ${firstLine ? `echo '${firstLine}'; ` : ""}echo 'Protocols: http https'; exit 0; fi\nexec ${realCurl} "$@"\n`);
      chmodSync(join(bin, "curl"), 0o755);
    };
    const env = { ...baseEnv(himds), PATH: `${bin}:${process.env.PATH}` };
    const challenges = himds.keyFiles.length;
    try {
      for (const [version, message] of [
        ["curl 7.29.0 (x86_64-redhat-linux-gnu) libcurl/7.29.0 NSS/3.53.1 zlib/1.2.7", "FAIL curl: 7.29.0 is older than 7.55.0, which this check needs (-H @file)"],
        ["curl 7.54.1 (x86_64-pc-linux-gnu) libcurl/7.54.1", "FAIL curl: 7.54.1 is older than 7.55.0, which this check needs (-H @file)"],
        ["", "FAIL curl: not installed, or curl --version names no version; this check needs curl 7.55.0 or later"],
      ]) {
        fakeCurl(version);
        const r = await run(env);
        expect(r.status).toBe(1);
        expect(r.stdout).toBe("");
        expect(r.stderr).toBe(`${message}\n`);
        expect(himds.keyFiles.length).toBe(challenges); // stopped before asking HIMDS for anything
      }
      fakeCurl("curl 7.55.0 (x86_64-pc-linux-gnu) libcurl/7.55.0");
      const ok = await run(env, ["BLOB_NAME=checks/curl-7.55.txt"]);
      expect(ok.stderr).toBe("");
      expect(ok.status).toBe(0);
    } finally {
      rmSync(bin, { recursive: true, force: true });
    }
  });

  it("reports a 403 from Key Vault as a missing role, and an endpoint that is down", async () => {
    const r = await run({ ...baseEnv(himds), VAULT_RESOURCE: "https://management.azure.com", RETRY_DELAYS: "0" });
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split("\n").at(-1)).toMatch(/^FAIL keyvault: HTTP 403 reading secret keyless-probe: the identity has no Key Vault Secrets User on the secret/);
    const down = await run({ ...baseEnv(himds), IDENTITY_ENDPOINT: "http://127.0.0.1:9/metadata/identity/oauth2/token" });
    expect(down.status).toBe(1);
    expect(down.stderr.trim()).toMatch(/^FAIL himds: identity endpoint http:\/\/127.0.0.1:9\/metadata\/identity\/oauth2\/token is not reachable .*azcmagent show/);
  });

});
