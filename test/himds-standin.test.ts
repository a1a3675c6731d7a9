import { statSync } from "node:fs";
import { ManagedIdentityCredential } from "@azure/identity";
import { afterAll, beforeAll, expect, it } from "vitest";
import { agentTokensDir, ensureAgentTokensDir, type Himds, startHimds } from "./support/himds-standin";
import { describeHere, runAsRoot } from "./support/namespace";

// Keeps the HIMDS stand-in honest: Microsoft's own client (ManagedIdentityCredential, which uses
// MSAL's Azure Arc source when IDENTITY_ENDPOINT and IMDS_ENDPOINT are set) must get a token from it.
// MSAL accepts the challenge's key file only under /var/opt/azcmagent/tokens/, named *.key, at most
// 4096 bytes, as the agent writes it; the tests run as root (or as root of a private user and mount
// namespace, test/support/namespace.ts), so the directory is made here and removed after.

const tokensDir = agentTokensDir;
let cleanupDir: () => void = () => undefined;
const savedEnv = { IDENTITY_ENDPOINT: process.env.IDENTITY_ENDPOINT, IMDS_ENDPOINT: process.env.IMDS_ENDPOINT };
let himds: Himds;
const here = runAsRoot(__filename);

beforeAll(async () => {
  if (!here) return;
  cleanupDir = ensureAgentTokensDir();
  himds = await startHimds({ keyDir: tokensDir });
  process.env.IDENTITY_ENDPOINT = himds.identityEndpoint;
  process.env.IMDS_ENDPOINT = himds.imdsEndpoint;
});

afterAll(async () => {
  await himds?.close();
  for (const [k, v] of Object.entries(savedEnv)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  cleanupDir();
});

describeHere(here)("HIMDS stand-in", () => {
  it("serves ManagedIdentityCredential through the Arc challenge flow", async () => {
    const token = await new ManagedIdentityCredential().getToken("https://storage.azure.com/.default");
    expect(token.token.split(".")).toHaveLength(3);
    const claims = JSON.parse(Buffer.from(token.token.split(".")[1], "base64url").toString()) as Record<string, unknown>;
    expect(claims.aud).toBe("https://storage.azure.com");
    expect(claims.iss).toMatch(/^https:\/\/sts\.windows\.net\/[0-9a-f-]{36}\/$/);
    expect(token.expiresOnTimestamp).toBeGreaterThan(Date.now());
    expect(himds.issued).toEqual(["https://storage.azure.com"]);
    // The challenge named an owner-only key file in the agent's directory, within MSAL's size limit.
    expect(himds.keyFiles).toHaveLength(1);
    expect(himds.keyFiles[0]).toMatch(/^\/var\/opt\/azcmagent\/tokens\/[0-9a-f]{16}\.key$/);
    const st = statSync(himds.keyFiles[0]);
    expect(st.mode & 0o777).toBe(0o600);
    expect(st.size).toBeLessThanOrEqual(4096);
  });

  it("rejects a wrong secret the way the agent does (401, no token)", async () => {
    const res = await fetch(`${himds.identityEndpoint}?api-version=2020-06-01&resource=https://vault.azure.net`, { headers: { Metadata: "true", Authorization: "Basic not-the-secret" } });
    expect(res.status).toBe(401);
    expect(((await res.json()) as Record<string, unknown>).access_token).toBeUndefined();
    const noMetadata = await fetch(`${himds.identityEndpoint}?api-version=2020-06-01&resource=https://vault.azure.net`);
    expect(noMetadata.status).toBe(400);
  });
});
