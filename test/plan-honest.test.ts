import { resolve } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { runProgram, SECRET, UNKNOWN } from "../tools/plan/engine";
import { grantRows, planGrants } from "../tools/plan/grants";
import { Matcher } from "../tools/plan/matcher";
import { unknownSentinel } from "../tools/plan/mocks";
import { renderText, roleMatrix, runRows } from "../tools/plan/render";
import { readProject, readStackConfig } from "../tools/plan/stack-file";
import { ofType, planProgram, resource, root, withConfig } from "./support/harness";

// The plan tells only what `pulumi preview` knows: Azure-computed values unknown, every grant its own
// row naming its holder, no run command result before it ran, and only secrets hidden.

const project = readProject(resolve(root, "Pulumi.yaml"));
const fleet = readStackConfig(resolve(root, "stacks/arc-fleet.yaml"), project.defaults);
const planFleet = (previewUnknowns: boolean, values = fleet.values) => planProgram(values, { stack: "arc-fleet", secretKeys: fleet.secretKeys, previewUnknowns });

describe("the fleet stack as preview sees it", async () => {
  const preview = await planFleet(true);
  const realistic = await planFleet(false);
  const grants = planGrants(realistic, preview);

  it("shows every Azure-computed id as the one unknown marker, never the engine's sentinel or [object Object]", () => {
    const json = JSON.stringify(preview);
    expect(json).not.toContain(unknownSentinel);
    expect(json).not.toContain("[object Object]");
    for (const ra of ofType(preview, "azure-native:authorization:RoleAssignment")) {
      expect(ra.inputs.roleAssignmentName).toBe(UNKNOWN);
      expect(ra.inputs.scope).toBe(UNKNOWN);
      expect(ra.outputs.id).toBe(UNKNOWN);
    }
    const servers = (preview.outputs.arc as { servers: Record<string, Record<string, unknown>> }).servers;
    for (const name of ["arc-lnx-01", "arc-lnx-02"]) expect(servers[name]).toEqual({ machineId: UNKNOWN, principalId: UNKNOWN, verification: UNKNOWN });
    // Adopted: read from Azure at preview (an invoke), so known; but no check has run.
    expect(servers["arc-win-01"].verification).toBe(UNKNOWN);
    // What the request carries stays known (inputs, and outputs that echo them); the rest is unknown,
    // as azure-native's preview maps inputs to outputs.
    const vault = resource(preview, "azure-native:keyvault:Vault", "vault-kv");
    expect(vault.inputs.vaultName).toMatch(/^kvkeylessarc/);
    expect(vault.outputs.vaultName).toBe(vault.inputs.vaultName);
    expect(vault.outputs.name).toBe(UNKNOWN);
  });

  it("keeps the mocks' realistic values for tests when unknowns are off", () => {
    const container = resource(realistic, "azure-native:storage:BlobContainer", "storage-arcupload");
    expect(container.outputs.id).toMatch(/^\/subscriptions\/.+\/containers\/arcupload$/);
    expect(realistic.previewUnknowns).toBe(false);
    expect(preview.previewUnknowns).toBe(true);
  });

  it("has one grant row per grant, each naming its holder, and no two servers sharing an identity", () => {
    // Per server: its own path in each container, the probe secret and each named secret (never the
    // whole vault); the deployer manages the probe secret (it deletes it at destroy).
    const vault = String(resource(preview, "azure-native:keyvault:Vault", "vault-kv").inputs.vaultName);
    expect(grants).toHaveLength(13);
    expect(grants.map((g) => `${g.holder} | ${g.role} | ${g.target} | ${g.scope}`)).toEqual([
      `the deploying principal | Key Vault Secrets Officer | ${vault} (key vault) | ${UNKNOWN}`,
      ...["arc-lnx-01", "arc-lnx-02", "arc-win-01"].flatMap((m) => [
        `${m} (system identity) | Storage Blob Data Contributor | arclogs (blob container) | ${UNKNOWN}`,
        `${m} (system identity) | Storage Blob Data Contributor | arcupload (blob container) | ${UNKNOWN}`,
        `${m} (system identity) | Key Vault Secrets User | arc-app-config (key vault secret) | ${UNKNOWN}`,
        `${m} (system identity) | Key Vault Secrets User | arc-probe* (key vault secret, auto-named) | ${UNKNOWN}`,
      ]),
    ]);
    expect(new Set(grants.map((g) => g.workloadName))).toEqual(new Set(["pulumi up", "arc-lnx-01", "arc-lnx-02", "arc-win-01"]));
    expect(grants.map((g) => g.workload)).toEqual(["deployer", ...Array<string>(12).fill("Arc server")]);
  });

  it("prints the text plan without sentinel, mock results or claims of success", () => {
    const text = renderText(preview, [], grants);
    expect(text).toContain("  arc-lnx-01 (system identity)  ServicePrincipal  Storage Blob Data Contributor  arcupload (blob container)");
    expect(text).not.toMatch(/Succeeded|keyless-verify: OK|verify: OK|04da6b54|\[object Object\]/);
    expect(text).not.toContain("5d3f1a2b-7c4e-4f60-9a8b-1c2d3e4f5a6b"); // the mock subscription is named <subscription>
    expect(text).toContain("Runs on machines during `pulumi up`: nothing has run yet; each result appears on its resource after `pulumi up`");
    expect(runRows(preview)).toContainEqual(["arc-arc-lnx-01-verify", "run command (Arc)", "arc-lnx-01", "keyless-verify-identity", "instanceView: executionState, exitCode, output"]);
    expect(runRows(preview)).toContainEqual(["arc-arc-lnx-02-onboard", "SSH command", "arc-lnx-02", "inputs.create (inputs.delete on destroy)", "the command's stdout/stderr"]);
    expect(text).toMatch(/Resources: \d+ resources \(/);
    expect(text).toContain(`Resources: ${preview.resources.length} resources`);
  });

  it("builds the identity x resource matrix from the grants", () => {
    const m = roleMatrix(grants);
    const vault = String(resource(preview, "azure-native:keyvault:Vault", "vault-kv").inputs.vaultName);
    expect(m[0]).toEqual(["IDENTITY \\ RESOURCE", "arc-app-config (key vault secret)", "arc-probe* (key vault secret, auto-named)", "arclogs (blob container)", "arcupload (blob container)", `${vault} (key vault)`]);
    expect(m[1]).toEqual(["arc-lnx-01 (system identity)", "Key Vault Secrets User", "Key Vault Secrets User", "Storage Blob Data Contributor", "Storage Blob Data Contributor", "-"]);
    expect(m[4]).toEqual(["the deploying principal", "-", "-", "-", "-", "Key Vault Secrets Officer"]);
    expect(m).toHaveLength(5);
  });
});

describe("the dev stack's grants name every holder", async () => {
  const dev = readStackConfig(resolve(root, "Pulumi.dev.yaml"), project.defaults);
  const realistic = await planProgram(dev.values, { secretKeys: dev.secretKeys });
  it("VM, kubelet, pods, deployer and the other tenant", () => {
    const rows = grantRows(realistic).map((g) => `${g.workload}: ${g.workloadName} -> ${g.holder} -> ${g.role}`);
    expect(rows).toContain("VM: vm-keyless-dev -> id-keyless-dev-vm (user-assigned identity) -> AcrPull");
    expect(rows).toContain("AKS kubelet: nodes of aks-keyless-dev -> aks-keyless-dev (kubelet identity) -> AcrPull");
    expect(rows).toContain("AKS pod: pods as demo/keyless-demo -> id-keyless-dev-pod (user-assigned identity) -> Reader");
    expect(rows).toContain("deployer: pulumi up -> the deploying principal -> Azure Kubernetes Service RBAC Cluster Admin");
    expect(rows).toContain("other tenant: tenant 11111111-1111-4111-8111-111111111111 -> Image consumers (tenant 11111111-1111-4111-8111-111111111111) -> Reader");
    // A GUID only where the config names a principal (another tenant, a consumer), never a computed one.
    const guidHolders = grantRows(realistic).filter((g) => /[0-9a-f]{8}-[0-9a-f]{4}-/.test(g.holder));
    expect(guidHolders.every((g) => /\(from config\)$|\(tenant [0-9a-f-]{36}\)$/.test(g.holder))).toBe(true);
  });
});

describe("direct sharing counts as access", async () => {
  const c = readStackConfig(resolve(root, "stacks/gallery-direct.yaml"), project.defaults);
  const plan = await planProgram(c.values, { stack: "gallery-direct", secretKeys: c.secretKeys });
  it("each shared tenant and subscription reaches the gallery", () => {
    expect(grantRows(plan).map((g) => `${g.holder} -> ${g.role} -> ${g.target} (${g.via})`)).toEqual([
      expect.stringMatching(/^tenant 11111111-1111-4111-8111-111111111111 \(direct share\) -> use shared images -> gal_\w+ \(image gallery\) \(direct sharing\)$/),
      expect.stringMatching(/^subscription 99999999-9999-4999-8999-999999999999 \(direct share\) -> use shared images -> gal_\w+ \(image gallery\) \(direct sharing\)$/),
    ]);
  });
});

describe("holders found through property dependencies", () => {
  const res = (urn: string, type: string, inputs: Record<string, unknown>, propertyDependencies: Record<string, string[]> = {}) => ({ urn, type, name: urn, custom: true, parent: "", provider: "", protect: false, dependencies: [], inputs, outputs: {}, propertyDependencies });
  it.each([
    ["an app registration's service principal", res("app", "azuread:index/application:Application", { displayName: "keyless-gallery-reader" }), res("sp", "azuread:index/servicePrincipal:ServicePrincipal", { clientId: UNKNOWN }, { clientId: ["app"] }), "keyless-gallery-reader (app registration)", "app registration"],
    ["a VM's system identity", res("vmr", "azure-native:compute:VirtualMachine", { vmName: "vm-a" }), res("unused", "test:index:Other", {}), "vm-a (system identity)", "VM"],
    ["a resource of another kind", res("other", "test:index:Principal", {}), res("unused", "test:index:Other", {}), "other (Principal)", "principal"],
  ])("%s", (_what, a, b, holder, workload) => {
    const source = a.type.startsWith("azuread:index/application") ? "sp" : a.urn;
    const ra = res("ra", "azure-native:authorization:RoleAssignment", { principalId: UNKNOWN, scope: UNKNOWN, roleDefinitionId: UNKNOWN }, { principalId: [source] });
    const [row] = grantRows({ resources: [a, b, ra] });
    expect(row).toMatchObject({ holder, workload });
  });
});

describe("redaction hides secrets, not words", () => {
  it("shows grant descriptions, machine names, an SSH user named Administrator and host-like text; hides the secret everywhere", async () => {
    const servers = [
      { name: "arc-lnx-01", os: "linux", onboard: "ssh", ssh: { host: "arc-lnx-01.example.com", user: "Administrator", port: 22 }, users: ["azureuser"] },
      { name: "arc-lnx-02", os: "linux", onboard: "ssh", ssh: { host: "203.0.113.11", user: "ubuntu", port: 22 } },
      { name: "arc-win-02", os: "windows", onboard: "ssh", ssh: { host: "203.0.113.12", user: "Administrator", port: 22 } },
    ];
    const secrets = JSON.parse(fleet.values["keyless:arcSecrets"]);
    secrets.sshPrivateKeys["arc-win-02"] = secrets.sshPrivateKeys["arc-lnx-01"];
    const values = withConfig(fleet.values, { "keyless:arc": { ...JSON.parse(fleet.values["keyless:arc"]), servers }, "keyless:arcSecrets": secrets });
    const plan = await planFleet(false, values);
    const json = JSON.stringify(plan);
    expect(json).not.toContain("offline-plan-placeholder-secret");
    for (const c of ofType(plan, "command:remote:Command")) {
      expect(c.inputs.stdin).toBe(SECRET);
      expect(c.inputs.connection).toBe(SECRET); // the connection carries the private key: secret as a whole
      expect(String(c.inputs.create)).not.toContain(SECRET); // but its host and user do not hide other text
      expect(String(c.inputs.create)).toMatch(/resource-name|-EncodedCommand [A-Za-z0-9+/=]+$/);
    }
    // The Linux onboarding script names the "Azure Connected Machine Resource Administrator" role:
    // the word stays, though an SSH user is called Administrator.
    expect(String(resource(plan, "command:remote:Command", "arc-arc-lnx-01-onboard").inputs.create)).toContain("Connected Machine Resource Administrator");
    const descriptions = ofType(plan, "azure-native:authorization:RoleAssignment").map((r) => r.inputs.description);
    expect(descriptions).toContain("Arc machine arc-lnx-01: blobs under arcupload/arc-lnx-01/ only");
    expect(resource(plan, "azure-native:hybridcompute:MachineRunCommand", "arc-arc-lnx-01-verify").inputs.machineName).not.toBe(SECRET);
  });

  it("shows the dev stack's gallery sku ubuntu-24_04 when an Arc server's SSH user is ubuntu", async () => {
    const dev = readStackConfig(resolve(root, "Pulumi.dev.yaml"), project.defaults);
    const values = { ...dev.values, "keyless:storage": fleet.values["keyless:storage"], "keyless:arc": fleet.values["keyless:arc"], "keyless:arcSecrets": fleet.values["keyless:arcSecrets"] };
    const plan = await planProgram(values, { secretKeys: [...dev.secretKeys, ...fleet.secretKeys] });
    const skus = ofType(plan, "azure-native:compute:GalleryImage").map((r) => (r.inputs.identifier as { sku: string }).sku);
    expect(skus).toContain("ubuntu-24_04");
    expect(ofType(plan, "command:remote:Command")).toHaveLength(2);
    expect(JSON.stringify(plan)).not.toContain("offline-plan-placeholder-secret");
  });

  it("hides a secret config leaf inside any string, and shows ubuntu-24_04 and host names next to an SSH user named ubuntu", async () => {
    const plan = await runProgram({
      project: "keyless",
      stack: "test",
      values: { "test:conn": JSON.stringify({ host: "db.example.com", user: "ubuntu" }), "test:keys": JSON.stringify({ key: "s3cr3t-key-material" }) },
      secretKeys: ["test:keys"],
      load: async () => {
        const cfg = new pulumi.Config("test");
        const conn = cfg.requireObject<{ host: string; user: string }>("conn");
        const key = JSON.parse(cfg.require("keys")).key as string; // read without the secret flag: still hidden by value
        class Provider extends pulumi.ProviderResource {}
        class Thing extends pulumi.CustomResource {}
        const provider = new Provider("test", "p", {});
        new Thing("test:index:Machine", "m", { connection: pulumi.secret({ ...conn, privateKey: "other-private-key" }) }, { provider });
        new Thing(
          "test:index:Thing",
          "t",
          { image: "ubuntu-24_04", host: conn.host, note: `login ${conn.user}@${conn.host} with ${key} then ${key}`, exact: key, tags: { key: "other-private-key" } },
          { provider },
        );
        return {};
      },
    });
    const thing = plan.resources.find((r) => r.name === "t")?.inputs ?? {};
    expect(thing).toMatchObject({ image: "ubuntu-24_04", host: "db.example.com", note: `login ubuntu@db.example.com with ${SECRET} then ${SECRET}`, exact: SECRET });
    // A leaf of a secret object that is not public config is a secret too.
    expect(thing.tags).toEqual({ key: SECRET });
    expect(JSON.stringify(plan)).not.toMatch(/s3cr3t-key-material|other-private-key/);
  });
});

describe("Matcher: many patterns, one pass", () => {
  it.each([
    [["abc"], "xxabcxx", true, "xx#xx"],
    [["he", "she", "his", "hers"], "ushers", true, "u#"],
    [["a"], "", false, ""],
    [[], "anything", false, "anything"],
    [["aa"], "aaaa", true, "#"],
    [["ab", "bc"], "abc", true, "#"],
    [["x"], "abc", false, "abc"],
    [["b", "abcd"], "xabcdx", true, "x#x"],
    [["ab", "cd"], "abcd", true, "##"],
    [["secret"], "a secret and a secret", true, "a # and a #"],
    [["日本"], "こんにちは日本語", true, "こんにちは#語"],
  ])("%j in %j", (patterns, text, found, replaced) => {
    const m = new Matcher(patterns);
    expect(m.test(text)).toBe(found);
    expect(m.replace(text, "#")).toBe(replaced);
  });
});
