import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { diffPlans, inputChanges, type PlanDocument, renderDiff } from "../tools/plan/diff";
import { SECRET, UNKNOWN } from "../tools/plan/engine";
import { root } from "./support/harness";

// --diff: what a pull request changes, from two saved --json plans.

const urn = (type: string, name: string) => `urn:pulumi:dev::keyless::${type}::${name}`;
const st = urn("azure-native:storage:StorageAccount", "storage-st");
const kv = urn("azure-native:keyvault:Vault", "vault-kv");
const oldC = urn("azure-native:storage:BlobContainer", "storage-old");
const newC = urn("azure-native:storage:BlobContainer", "storage-new");
const grant = (holder: string, role: string, target: string) => ({ holder, role, target });

const base: PlanDocument = {
  stack: "dev",
  resources: [
    { urn: st, type: "azure-native:storage:StorageAccount", name: "storage-st", inputs: { accountName: "stkeylessdev", allowSharedKeyAccess: false, minimumTlsVersion: "TLS1_2", tags: { owner: "platform" } } },
    { urn: kv, type: "azure-native:keyvault:Vault", name: "vault-kv", inputs: { vaultName: "kv1", properties: { enablePurgeProtection: true } } },
    { urn: oldC, type: "azure-native:storage:BlobContainer", name: "storage-old", inputs: { containerName: "old" } },
  ],
  grants: [grant("id-vm (user-assigned identity)", "AcrPull", "cr1 (container registry)"), grant("arc-lnx-01 (system identity)", "Key Vault Secrets User", "kv1 (key vault)")],
};
const head: PlanDocument = {
  stack: "dev",
  resources: [
    { urn: st, type: "azure-native:storage:StorageAccount", name: "storage-st", inputs: { accountName: "stkeylessdev", allowSharedKeyAccess: false, minimumTlsVersion: "TLS1_2", tags: { owner: "platform", cost: "it" }, note: SECRET } },
    { urn: kv, type: "azure-native:keyvault:Vault", name: "vault-kv", inputs: { vaultName: "kv1", properties: { enablePurgeProtection: true } } },
    { urn: newC, type: "azure-native:storage:BlobContainer", name: "storage-new", inputs: { containerName: "new", id: UNKNOWN } },
  ],
  grants: [grant("id-vm (user-assigned identity)", "AcrPull", "cr1 (container registry)"), grant("arc-lnx-01 (system identity)", "Key Vault Secrets Officer", "kv1 (key vault)")],
};

describe("diffPlans", () => {
  const d = diffPlans(base, head);

  it("finds the added, removed and changed resources, the changed input paths and the grant change", () => {
    expect(d.added).toEqual([newC]);
    expect(d.removed).toEqual([oldC]);
    expect(d.changed).toEqual([
      {
        urn: st,
        changes: [
          { path: "note", old: expect.anything(), new: SECRET },
          { path: "tags.cost", old: expect.anything(), new: "it" },
        ],
      },
    ]);
    expect(d.grantsAdded).toEqual(["arc-lnx-01 (system identity) -> Key Vault Secrets Officer -> kv1 (key vault)"]);
    expect(d.grantsRemoved).toEqual(["arc-lnx-01 (system identity) -> Key Vault Secrets User -> kv1 (key vault)"]);
  });

  it("says replaced, not changed, when a changed input is one the resource replaces on (old one first or not)", () => {
    const vm = urn("azure-native:compute:VirtualMachine", "vm-vm");
    const before = (over: { inputs: Record<string, unknown>; deleteBeforeReplace?: boolean }) => ({ urn: vm, type: "azure-native:compute:VirtualMachine", name: "vm-vm", replaceOnChanges: ["osProfile.linuxConfiguration"], ...over });
    const a: PlanDocument = { stack: "dev", resources: [before({ inputs: { osProfile: { linuxConfiguration: { ssh: { publicKeys: [{ keyData: "k1" }] } } }, tags: { a: "1" } } })] };
    const key: PlanDocument = { stack: "dev", resources: [before({ deleteBeforeReplace: true, inputs: { osProfile: { linuxConfiguration: { ssh: { publicKeys: [{ keyData: "k2" }] } } }, tags: { a: "1" } } })] };
    const tags: PlanDocument = { stack: "dev", resources: [before({ inputs: { osProfile: { linuxConfiguration: { ssh: { publicKeys: [{ keyData: "k1" }] } } }, tags: { a: "2" } } })] };
    expect(diffPlans(a, key).changed).toEqual([{ urn: vm, changes: [{ path: "osProfile.linuxConfiguration.ssh.publicKeys[0].keyData", old: "k1", new: "k2" }], replaced: "delete-first" }]);
    expect(renderDiff(diffPlans(a, key), "dev")).toContain("- replaced (the old one deleted first) `vm-vm (azure-native:compute:VirtualMachine)`");
    expect(diffPlans(a, tags).changed).toEqual([{ urn: vm, changes: [{ path: "tags.a", old: "1", new: "2" }] }]);
    expect(renderDiff(diffPlans(a, tags), "dev")).toContain("- changed `vm-vm (azure-native:compute:VirtualMachine)`");
  });

  it("prints Markdown a reviewer reads: secrets stay hidden, absent values named", () => {
    expect(renderDiff(d, "dev")).toBe(
      [
        "### Plan diff, stack dev: 1 added, 1 removed, 1 changed, grants +1 -1",
        "",
        "- added `storage-new (azure-native:storage:BlobContainer)`",
        "- removed `storage-old (azure-native:storage:BlobContainer)`",
        "- changed `storage-st (azure-native:storage:StorageAccount)`",
        '  - `note`: (absent) -> "[secret]"',
        '  - `tags.cost`: (absent) -> "it"',
        "",
        "Grants:",
        "- granted: arc-lnx-01 (system identity) -> Key Vault Secrets Officer -> kv1 (key vault)",
        "- revoked: arc-lnx-01 (system identity) -> Key Vault Secrets User -> kv1 (key vault)",
        "",
      ].join("\n"),
    );
    expect(renderDiff(diffPlans(base, base), "dev")).toBe("### Plan diff, stack dev: no change\n");
  });

  it.each([
    [{ a: 1 }, { a: 2 }, [{ path: "a", old: 1, new: 2 }]],
    [{ a: [1, 2] }, { a: [1] }, [{ path: "a[1]", old: 2, new: expect.anything() }]],
    [{ a: { b: "x" } }, { a: {} }, [{ path: "a", old: expect.anything(), new: {} }, { path: "a.b", old: "x", new: expect.anything() }]],
    [{ s: "x" }, { s: UNKNOWN }, [{ path: "s", old: "x", new: UNKNOWN }]],
    [{ same: true }, { same: true }, []],
  ])("inputChanges(%j, %j)", (a, b, expected) => {
    expect(inputChanges(a, b)).toEqual(expected);
  });

  it("a grant held twice in one plan and once in the other is one change, and an old plan without grants still diffs", () => {
    const twice = { ...head, grants: [...(head.grants ?? []), grant("id-vm (user-assigned identity)", "AcrPull", "cr1 (container registry)")] };
    expect(diffPlans(head, twice).grantsAdded).toEqual(["id-vm (user-assigned identity) -> AcrPull -> cr1 (container registry)"]);
    const { grants: _g, ...noGrants } = base;
    expect(diffPlans(noGrants, head).grantsAdded).toHaveLength(2);
  });
});

describe("npm run plan -- --plan-file NEW --diff OLD", () => {
  it("prints the diff and exits 0", () => {
    const dir = mkdtempSync(join(tmpdir(), "keyless-diff-"));
    writeFileSync(join(dir, "old.json"), JSON.stringify(base));
    writeFileSync(join(dir, "new.json"), JSON.stringify(head));
    const r = spawnSync(process.execPath, ["--require", join(root, "tools/runtime/register.cjs"), join(root, "tools/plan/cli.ts"), "--plan-file", join(dir, "new.json"), "--diff", join(dir, "old.json")], { cwd: root, encoding: "utf8" });
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(renderDiff(diffPlans(base, head), "dev"));
  });
});

describe("npm run plan -- --stack dev --diff BASE.json", () => {
  it("compares the program's plan with a saved one: a resource the base lacks, one it had, a changed input, a grant", () => {
    const cli = (...args: string[]) => spawnSync(process.execPath, ["--require", join(root, "tools/runtime/register.cjs"), join(root, "tools/plan/cli.ts"), ...args], { cwd: root, encoding: "utf8" });
    const doc = JSON.parse(cli("--stack", "dev", "--json").stdout);
    const gone = doc.resources.findIndex((r: { name: string }) => r.name === "storage-arcupload");
    const [container] = doc.resources.splice(gone, 1);
    const extra = { ...container, urn: container.urn.replace("storage-arcupload", "storage-legacy"), name: "storage-legacy", inputs: { ...container.inputs, containerName: "legacy" } };
    doc.resources.push(extra);
    const account = doc.resources.find((r: { type: string }) => r.type === "azure-native:storage:StorageAccount");
    account.inputs.minimumTlsVersion = "TLS1_0";
    const acr = doc.grants.findIndex((g: { role: string }) => g.role === "AcrPull");
    const [dropped] = doc.grants.splice(acr, 1);
    const file = join(mkdtempSync(join(tmpdir(), "keyless-diff-")), "base.json");
    writeFileSync(file, JSON.stringify(doc));
    const r = cli("--stack", "dev", "--diff", file);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^### Plan diff, stack dev: 1 added, 1 removed, 1 changed, grants \+1 -0\n/);
    expect(r.stdout).toContain("- added `storage-arcupload (azure-native:storage:BlobContainer)`");
    expect(r.stdout).toContain("- removed `storage-legacy (azure-native:storage:BlobContainer)`");
    expect(r.stdout).toContain('  - `minimumTlsVersion`: "TLS1_0" -> "TLS1_2"');
    expect(r.stdout).toContain(`- granted: ${dropped.holder} -> AcrPull -> ${dropped.target}`);
    expect(r.stdout).not.toMatch(/04da6b54|offline-plan-placeholder-secret/);
  });
});
