import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";

// A stand-in for the Azure Connected Machine agent's HIMDS token endpoint, written from its protocol
// (azure-docs azure-arc/servers/managed-identity-authentication.md):
//   GET /metadata/identity/oauth2/token?api-version=...&resource=... with "Metadata: true"
//   -> 401, "WWW-Authenticate: Basic realm=<key file>"; the key file holds a fresh secret and is
//      readable only by its owner (the agent keeps it readable by root and the himds group);
//   repeat with "Authorization: Basic <file contents>" -> 200 with the token JSON;
//   a wrong secret -> 401 again.
// Tokens are JWTs with the claims Azurite's basic OAuth checks (iss, aud, nbf, exp, iat); they
// are not signed for real, as Azurite's "basic" mode does not verify signatures.

/** The agent's key-file directory on Linux; the only place a client may read a challenge's key file from. */
export const agentTokensDir = "/var/opt/azcmagent/tokens";

/**
 * Make sure the agent's token directory exists (tests run as root, or in a namespace where it is
 * theirs); returns a function that removes what this call created, if it is empty by then.
 */
export function ensureAgentTokensDir(): () => void {
  const created: string[] = [];
  for (const d of ["/var/opt/azcmagent", agentTokensDir]) {
    if (!existsSync(d)) {
      mkdirSync(d, { mode: 0o750 });
      created.unshift(d);
    }
  }
  return () => {
    for (const d of created) if (existsSync(d) && readdirSync(d).length === 0) rmSync(d, { recursive: true });
  };
}

export interface HimdsOptions {
  /** Directory for key files (the agent's is /var/opt/azcmagent/tokens). */
  readonly keyDir: string;
  /** Audience put in tokens, by requested resource; default: the resource without its trailing slash. */
  readonly audienceFor?: (resource: string) => string;
  /** Failure injection: name this path in the challenge instead of the key file it wrote. */
  readonly realmOverride?: string;
  /** Failure injection: write a different secret into the key file than the one it will accept. */
  readonly corruptKeyFile?: boolean;
  /** Answer each request this many milliseconds late (so a test can watch the client's processes). */
  readonly delayMs?: number;
}

export interface Himds {
  /** http://127.0.0.1:<port>/metadata/identity/oauth2/token */
  readonly identityEndpoint: string;
  /** http://127.0.0.1:<port> */
  readonly imdsEndpoint: string;
  /** Resources tokens were issued for, in order. */
  readonly issued: string[];
  /** Key files handed out in challenges. */
  readonly keyFiles: string[];
  close(): Promise<void>;
}

export const tenantId = "72f988bf-86f1-41af-91ab-2d7cd011db47";

function b64url(v: unknown): string {
  return Buffer.from(JSON.stringify(v)).toString("base64url");
}

/** An unsigned-for-real JWT with Entra-style claims. */
export function mintToken(audience: string, lifetimeSeconds = 3600): string {
  const now = Math.floor(Date.now() / 1000);
  const header = { alg: "RS256", typ: "JWT" };
  const claims = { aud: audience, iss: `https://sts.windows.net/${tenantId}/`, iat: now - 60, nbf: now - 60, exp: now + lifetimeSeconds, oid: "arc-machine-principal", tid: tenantId };
  return `${b64url(header)}.${b64url(claims)}.${Buffer.from("not-a-real-signature").toString("base64url")}`;
}

export async function startHimds(options: HimdsOptions): Promise<Himds> {
  mkdirSync(options.keyDir, { recursive: true });
  const secrets = new Set<string>();
  const issued: string[] = [];
  const keyFiles: string[] = [];
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    if (options.delayMs) setTimeout(() => handle(req, res), options.delayMs);
    else handle(req, res);
  });
  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { "Content-Type": "application/json", ...headers });
      res.end(JSON.stringify(body));
    };
    if (url.pathname !== "/metadata/identity/oauth2/token") return send(404, { error: "not_found" });
    if (String(req.headers.metadata).toLowerCase() !== "true") return send(400, { error: "invalid_request", error_description: "Required metadata header not specified" });
    const resource = url.searchParams.get("resource");
    if (!url.searchParams.get("api-version") || !resource) return send(400, { error: "invalid_request", error_description: "api-version and resource are required" });
    const auth = req.headers.authorization;
    if (auth === undefined) {
      const secret = randomBytes(32).toString("hex");
      const file = join(options.keyDir, `${randomBytes(8).toString("hex")}.key`);
      writeFileSync(file, options.corruptKeyFile ? randomBytes(32).toString("hex") : secret, { mode: 0o600 });
      secrets.add(secret);
      keyFiles.push(file);
      return send(401, { error: "unauthorized" }, { "WWW-Authenticate": `Basic realm=${options.realmOverride ?? file}` });
    }
    const presented = /^Basic (.+)$/.exec(auth)?.[1];
    if (presented === undefined || !secrets.has(presented)) return send(401, { error: "unauthorized", error_description: "invalid secret" });
    secrets.delete(presented); // one use per challenge, as the agent rotates its key files
    const audience = options.audienceFor?.(resource) ?? resource.replace(/\/$/, "");
    const now = Math.floor(Date.now() / 1000);
    issued.push(resource);
    return send(200, { access_token: mintToken(audience), expires_in: "3600", expires_on: String(now + 3600), not_before: String(now - 60), resource, token_type: "Bearer" });
  };
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    identityEndpoint: `http://127.0.0.1:${port}/metadata/identity/oauth2/token`,
    imdsEndpoint: `http://127.0.0.1:${port}`,
    issued,
    keyFiles,
    close: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Clients (curl, MSAL) keep connections alive; do not wait for them to time out.
        server.closeAllConnections();
      });
      for (const f of keyFiles) rmSync(f, { force: true });
    },
  };
}
