import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { type AddressInfo, createServer as netServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { root } from "./harness";

// Local stand-ins the verification script runs against: Azurite (Microsoft's Storage emulator) over
// HTTPS with basic OAuth, and a tiny Key Vault secrets endpoint. Both bind 127.0.0.1 only.

/** A free loopback port (bound then released). */
export async function freePort(): Promise<number> {
  const s = netServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

function claims(token: string): Record<string, unknown> {
  try {
    return JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString()) as Record<string, unknown>;
  } catch {
    return {};
  }
}

export interface Azurite {
  /** https://127.0.0.1:<port>/devstoreaccount1/ */
  readonly accountUrl: string;
  /** CA bundle (the self-signed certificate) for curl and Node clients. */
  readonly caFile: string;
  stop(): Promise<void>;
}

/** Azurite's blob service on loopback, HTTPS with a certificate made now, OAuth "basic". */
export async function startAzurite(): Promise<Azurite> {
  const dir = mkdtempSync(join(tmpdir(), "keyless-azurite-"));
  const cert = join(dir, "cert.pem");
  const key = join(dir, "key.pem");
  execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", key, "-out", cert], { stdio: "ignore" });
  const port = await freePort();
  const proc: ChildProcess = spawn(
    join(root, "node_modules/.bin/azurite-blob"),
    ["--blobHost", "127.0.0.1", "--blobPort", String(port), "--location", join(dir, "data"), "--oauth", "basic", "--cert", cert, "--key", key, "--skipApiVersionCheck", "--silent", "--disableProductStyleUrl"],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let output = "";
  proc.stdout?.on("data", (d) => (output += String(d)));
  proc.stderr?.on("data", (d) => (output += String(d)));
  const deadline = Date.now() + 90_000; // generous: a loaded 2-core CI machine starts Node slowly
  while (!/successfully listens on|listening at/i.test(output)) {
    if (proc.exitCode !== null || Date.now() > deadline) {
      proc.kill();
      throw new Error(`azurite did not start: ${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    accountUrl: `https://127.0.0.1:${port}/devstoreaccount1/`,
    caFile: cert,
    stop: async () => {
      if (proc.exitCode === null) {
        const exited = new Promise((r) => proc.once("exit", r));
        proc.kill("SIGTERM");
        // Azurite may linger on open sockets: give it 5 s, then make sure it is gone.
        const timer = setTimeout(() => proc.kill("SIGKILL"), 5_000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface VaultStandIn {
  /** http://127.0.0.1:<port>/ */
  readonly vaultUri: string;
  close(): Promise<void>;
}

/**
 * GET /secrets/<name>?api-version=7.4 with a bearer token whose audience is Key Vault's; 401 without
 * a token, 403 for another audience, 404 for an unknown secret (Key Vault's own answers).
 */
export async function startVault(secrets: Record<string, string>): Promise<VaultStandIn> {
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { "Content-Type": "application/json" });
      res.end(JSON.stringify(body));
    };
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? "")?.[1];
    if (!token) return send(401, { error: { code: "Unauthorized", message: "AKV10000: Request is missing a Bearer or PoP token." } });
    if (claims(token).aud !== "https://vault.azure.net") return send(403, { error: { code: "Forbidden", message: "Caller is not authorized" } });
    const m = /^\/secrets\/([^/]+)$/.exec(url.pathname);
    if (req.method !== "GET" || !m || !url.searchParams.get("api-version")) return send(400, { error: { code: "BadParameter" } });
    const value = secrets[m[1]];
    if (value === undefined) return send(404, { error: { code: "SecretNotFound", message: `A secret with (name/id) ${m[1]} was not found in this key vault.` } });
    return send(200, { value, id: `${url.origin}/secrets/${m[1]}/0123456789abcdef`, attributes: { enabled: true } });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  return { vaultUri: `http://127.0.0.1:${port}/`, close: () => closeServer(server) };
}

/** Close an HTTP server without waiting for clients' keep-alive connections to time out. */
export function closeServer(server: import("node:http").Server | import("node:https").Server): Promise<void> {
  return new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
