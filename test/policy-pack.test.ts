import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import * as analyzer from "@pulumi/pulumi/proto/analyzer_pb";
import { AnalyzerClient } from "@pulumi/pulumi/proto/analyzer_grpc_pb";
import { Struct } from "google-protobuf/google/protobuf/struct_pb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { roleDefinitionId } from "../lib/roles";
import { readinessRules } from "../policy/readiness";
import { rules } from "../policy/rules";
import { root } from "./support/harness";

// The policy pack as the Pulumi CLI runs it: policy/ started by @pulumi/pulumi's run-policy-pack (it
// compiles index.ts with ts-node, serves the analyzer gRPC protocol and prints its port), then configured and asked to analyze resources over
// gRPC, exactly the calls `pulumi preview --policy-pack policy --policy-pack-config ...` makes.

let pack: ChildProcess;
let client: AnalyzerClient;

beforeAll(async () => {
  // What the CLI starts for a Node.js pack: @pulumi/pulumi's run-policy-pack in the pack's directory,
  // which compiles it with ts-node and a full type check against policy/tsconfig.json (the project's
  // loader and Pulumi.yaml options do not apply to packs). The first argument is the engine's address,
  // used only for logging.
  pack = spawn(process.execPath, [join(root, "node_modules/@pulumi/pulumi/cmd/run-policy-pack"), "127.0.0.1:1", join(root, "policy")], { cwd: join(root, "policy"), stdio: ["ignore", "pipe", "pipe"] });
  const port = await new Promise<string>((resolve, reject) => {
    let out = "";
    let err = "";
    pack.stdout?.on("data", (d) => {
      out += d;
      const m = /^(\d+)\s*$/m.exec(out);
      if (m) resolve(m[1]);
    });
    pack.stderr?.on("data", (d) => (err += d));
    pack.on("exit", (code) => reject(new Error(`policy pack exited ${code}: ${err}`)));
  });
  client = new AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
});

afterAll(() => {
  client?.close();
  if (pack?.pid) process.kill(pack.pid);
});

function call<Req, Res>(method: (req: Req, cb: (e: grpc.ServiceError | null, r: Res) => void) => unknown, req: Req): Promise<Res> {
  return new Promise((resolve, reject) => method.call(client, req, (e, r) => (e ? reject(e) : resolve(r))));
}

async function configure(config: Record<string, Record<string, unknown>>): Promise<void> {
  const req = new analyzer.ConfigureAnalyzerRequest();
  for (const [policy, props] of Object.entries(config)) {
    const pc = new analyzer.PolicyConfig();
    pc.setEnforcementlevel(analyzer.EnforcementLevel.MANDATORY);
    pc.setProperties(Struct.fromJavaScript(props as never));
    req.getPolicyconfigMap().set(policy, pc);
  }
  await call(client.configure, req);
}

async function analyze(type: string, name: string, props: Record<string, unknown>, protect = false): Promise<[string, string, number][]> {
  const req = new analyzer.AnalyzeRequest();
  req.setType(type);
  req.setName(name);
  req.setUrn(`urn:pulumi:prod::keyless::${type}::${name}`);
  req.setProperties(Struct.fromJavaScript(props as never));
  const opts = new analyzer.AnalyzerResourceOptions();
  opts.setProtect(protect);
  req.setOptions(opts);
  const res = await call<analyzer.AnalyzeRequest, analyzer.AnalyzeResponse>(client.analyze, req);
  return res.getDiagnosticsList().map((d) => [d.getPolicyname(), d.getMessage(), d.getEnforcementlevel()]);
}

const mandatory = analyzer.EnforcementLevel.MANDATORY;
/** The analyzer reports "<rationale>\n<message>". */
const diag = (policy: string, message: string): [string, string, number] => [policy, `${rules.find((r) => r.name === policy)?.description}\n${message}`, mandatory];
const sub = "/subscriptions/5d3f1a2b-7c4e-4f60-9a8b-1c2d3e4f5a6b";

describe("policy/index.ts served as an analyzer", () => {
  it("reports a storage account with shared keys on as a mandatory violation", async () => {
    await configure({});
    const account = { allowBlobPublicAccess: false, minimumTlsVersion: "TLS1_2", enableHttpsTrafficOnly: true, allowSharedKeyAccess: true };
    expect(await analyze("azure-native:storage:StorageAccount", "storage-st", account)).toEqual([
      diag("keyless-storage-shared-key-off", "allowSharedKeyAccess is true; must be false (shared key and SAS authorization off; Azure's default allows it)"),
    ]);
    expect(await analyze("azure-native:storage:StorageAccount", "storage-st", { ...account, allowSharedKeyAccess: false })).toEqual([]);
  });

  it("reads --policy-pack-config: production vaults and the subscription-scope allow-list", async () => {
    const vault = { properties: { enableRbacAuthorization: true, enableSoftDelete: true } };
    const grant = { principalType: "ServicePrincipal", scope: sub, roleDefinitionId: roleDefinitionId("s", "Reader") };
    await configure({});
    expect(await analyze("azure-native:keyvault:Vault", "vault-kv", vault)).toEqual([]);
    expect((await analyze("azure-native:authorization:RoleAssignment", "reader-grant", grant)).map(([p]) => p)).toEqual(["keyless-rbac-no-subscription-scope"]);
    await configure({ "keyless-keyvault-purge-protection": { production: true }, "keyless-rbac-no-subscription-scope": { allowSubscriptionScopeGrants: ["reader-grant"] } });
    expect(await analyze("azure-native:keyvault:Vault", "vault-kv", vault)).toEqual([
      diag("keyless-keyvault-purge-protection", "properties.enablePurgeProtection is unset; must be true on a production stack (a purged vault cannot be recovered)"),
    ]);
    expect(await analyze("azure-native:authorization:RoleAssignment", "reader-grant", grant)).toEqual([]);
  });

  it("turns a check on a value unknown during preview into an advisory, not a failure", async () => {
    await configure({});
    const unknown = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"; // the engine's sentinel for a computed value
    const diags = await analyze("azure-native:authorization:RoleAssignment", "new-grant", { principalType: "ServicePrincipal", scope: unknown, roleDefinitionId: unknown });
    expect(diags.map(([p, , level]) => [p, level])).toEqual([
      ["keyless-rbac-no-privileged-roles", analyzer.EnforcementLevel.ADVISORY],
      ["keyless-rbac-no-subscription-scope", analyzer.EnforcementLevel.ADVISORY],
    ]);
    expect(diags[0][1]).toContain("can't run policy 'keyless-rbac-no-privileged-roles'");
  });

  it("runs the readiness rules as stack validations over the resources and their dependencies", async () => {
    await configure({});
    const urn = (chain: string, name: string) => `urn:pulumi:prod::keyless::${chain}::${name}`;
    const resource = (chain: string, name: string, props: Record<string, unknown>, deps: string[]) => {
      const r = new analyzer.AnalyzerResource();
      r.setType(chain.split("$").pop() as string);
      r.setName(name);
      r.setUrn(urn(chain, name));
      r.setProperties(Struct.fromJavaScript(props as never));
      r.setOptions(new analyzer.AnalyzerResourceOptions());
      r.setDependenciesList(deps);
      return r;
    };
    const reg = resource("keyless:platform:ProviderRegistrations$command:local:Command", "reg-storage", { create: "az provider register --namespace Microsoft.Storage --wait" }, []);
    const stackOf = (deps: string[]) => {
      const req = new analyzer.AnalyzeStackRequest();
      req.setResourcesList([reg, resource("keyless:storage:BlobStorage$azure-native:storage:StorageAccount", "storage-st", {}, deps)]);
      return call<analyzer.AnalyzeStackRequest, analyzer.AnalyzeResponse>(client.analyzeStack, req);
    };
    const description = readinessRules.find((r) => r.name === "keyless-readiness-provider-registration")?.description;
    const late = await stackOf([]);
    expect(late.getDiagnosticsList().map((d) => [d.getPolicyname(), d.getMessage(), d.getEnforcementlevel(), d.getUrn()])).toEqual([
      [
        "keyless-readiness-provider-registration",
        `${description}\ndoes not wait for the registration of Microsoft.Storage (reg-storage); Azure refuses it with MissingSubscriptionRegistration until then`,
        mandatory,
        urn("keyless:storage:BlobStorage$azure-native:storage:StorageAccount", "storage-st"),
      ],
    ]);
    expect((await stackOf([reg.getUrn()])).getDiagnosticsList()).toEqual([]);
  });
});
