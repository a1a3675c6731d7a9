import { describe, expect, it } from "vitest";
import { blobPrefixCondition } from "../lib/blob-condition";
import { readStackConfig } from "../tools/plan/stack-file";
import { type AbacRequest, conditionAllows, parseCondition } from "./support/abac";
import { planProgram, resource, root } from "./support/harness";

// The condition each Arc server's Storage Blob Data Contributor grant carries, evaluated with a small
// model of Azure's condition language (test/support/abac.ts). The model is first held to Microsoft's
// own examples (conditions copied verbatim from azure-docs
// articles/storage/blobs/storage-auth-abac-examples.md, with the outcomes that page describes); then
// our condition is shown to refuse every blob operation outside the server's own prefix. What this
// proves: the condition we send says what we mean, under Azure's documented semantics. What it does
// not: that Azure's evaluator agrees in every corner (no Azure here; Azurite enforces no RBAC at all).

const blobs = "Microsoft.Storage/storageAccounts/blobServices/containers/blobs";
const containerAttr = "Microsoft.Storage/storageAccounts/blobServices/containers:name";
const pathAttr = "Microsoft.Storage/storageAccounts/blobServices/containers/blobs:path";
const prefixAttr = "Microsoft.Storage/storageAccounts/blobServices/containers/blobs:prefix";

const blobOp = (verb: "read" | "write" | "delete" | "add/action", container: string, path: string): AbacRequest => ({ action: `${blobs}/${verb}`, resource: { [containerAttr]: container, [pathAttr]: path } });
const list = (container: string, prefix?: string): AbacRequest => ({ action: `${blobs}/read`, subOperation: "Blob.List", resource: { [containerAttr]: container }, request: prefix === undefined ? {} : { [prefixAttr]: prefix } });

// "Example: Read, write, or delete blobs in named containers", Storage Blob Data Contributor variant.
const namedContainers = `(
 (
  !(ActionMatches{'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/delete'})
  AND
  !(ActionMatches{'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read'})
  AND
  !(ActionMatches{'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/write'})
  AND
  !(ActionMatches{'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/add/action'})
 )
 OR 
 (
  @Resource[Microsoft.Storage/storageAccounts/blobServices/containers:name] StringEquals 'blobs-example-container'
 )
)`;

// "Example: Read or list blobs in named containers with a path", Reader/Contributor variant.
const readOrListWithPath = `(
 (
  !(ActionMatches{'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read'} AND NOT SubOperationMatches{'Blob.List'})
 )
 OR 
 (
  @Resource[Microsoft.Storage/storageAccounts/blobServices/containers:name] StringEquals 'blobs-example-container'
  AND
  @Resource[Microsoft.Storage/storageAccounts/blobServices/containers/blobs:path] StringStartsWith 'readonly/'
 )
)
AND
(
 (
  !(ActionMatches{'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read'} AND SubOperationMatches{'Blob.List'})
 )
 OR 
 (
  @Resource[Microsoft.Storage/storageAccounts/blobServices/containers:name] StringEquals 'blobs-example-container'
  AND
  @Request[Microsoft.Storage/storageAccounts/blobServices/containers/blobs:prefix] StringStartsWith 'readonly/'
 )
)`;

describe("the condition model, against Microsoft's examples", () => {
  it.each<[string, string, AbacRequest, boolean]>([
    ["named containers: write in the named container", namedContainers, blobOp("write", "blobs-example-container", "Example5.txt"), true],
    ["named containers: read in the named container", namedContainers, blobOp("read", "blobs-example-container", "Example5.txt"), true],
    ["named containers: write elsewhere", namedContainers, blobOp("write", "ungranted", "Example5.txt"), false],
    ["named containers: read elsewhere", namedContainers, blobOp("read", "ungranted", "Example5.txt"), false],
    ["named containers: delete elsewhere", namedContainers, blobOp("delete", "ungranted", "Example5.txt"), false],
    ["named containers: an action it does not govern", namedContainers, { action: `${blobs}/tags/read`, resource: { [containerAttr]: "ungranted" } }, true],
    ["path: read the granted blob", readOrListWithPath, blobOp("read", "blobs-example-container", "readonly/Example6.txt"), true],
    ["path: read an ungranted blob", readOrListWithPath, blobOp("read", "blobs-example-container", "Ungranted.txt"), false],
    ["path: list with the prefix", readOrListWithPath, list("blobs-example-container", "readonly/"), true],
    ["path: list the container root (the portal's prefix='')", readOrListWithPath, list("blobs-example-container", ""), false],
    ["path: list without a prefix", readOrListWithPath, list("blobs-example-container"), false],
  ])("%s", (_, condition, request, allowed) => {
    expect(conditionAllows(condition, request)).toBe(allowed);
  });

  it("refuses what it does not model instead of guessing", () => {
    expect(() => parseCondition("@Resource[x] StringEqualsIgnoreCase 'a'")).toThrow(/not in the evaluated subset/);
    expect(() => parseCondition("@Resource[x] ForAnyOfAnyValues:StringEquals {'a'}")).toThrow(/cannot read/);
    expect(() => parseCondition("(ActionMatches{'a'}")).toThrow(/expected \)/);
  });
});

describe("each Arc server's blob condition", () => {
  const mine = blobPrefixCondition("arcupload", "arc-lnx-01/");

  it("parses completely, and names only Blob attributes Microsoft documents", () => {
    expect(() => parseCondition(mine)).not.toThrow();
    const attributes = [...mine.matchAll(/@(?:Resource|Request)\[([^\]]+)\]/g)].map((m) => m[1]);
    expect([...new Set(attributes)].sort()).toEqual([containerAttr, pathAttr, prefixAttr].sort());
  });

  it.each<[string, AbacRequest, boolean]>([
    ["upload under its own prefix (what the verification does)", blobOp("write", "arcupload", "arc-lnx-01/keyless-verify.txt"), true],
    ["read its own blob", blobOp("read", "arcupload", "arc-lnx-01/data/x.bin"), true],
    ["delete its own blob", blobOp("delete", "arcupload", "arc-lnx-01/x"), true],
    ["append to its own blob", blobOp("add/action", "arcupload", "arc-lnx-01/log.txt"), true],
    ["list its own prefix", list("arcupload", "arc-lnx-01/"), true],
    ["list deeper in its own prefix", list("arcupload", "arc-lnx-01/data/"), true],
    ["write another server's blob", blobOp("write", "arcupload", "arc-lnx-02/keyless-verify.txt"), false],
    ["overwrite at the container root", blobOp("write", "arcupload", "keyless-verify.txt"), false],
    ["read another server's blob", blobOp("read", "arcupload", "arc-lnx-02/keyless-verify.txt"), false],
    ["delete another server's blob", blobOp("delete", "arcupload", "arc-lnx-02/x"), false],
    ["append to another server's blob", blobOp("add/action", "arcupload", "arc-lnx-02/log.txt"), false],
    ["a look-alike prefix (the trailing slash matters)", blobOp("write", "arcupload", "arc-lnx-01-evil/x"), false],
    ["the same name in other case (comparisons are case-sensitive)", blobOp("write", "arcupload", "ARC-LNX-01/x"), false],
    ["its prefix in another container", blobOp("write", "arclogs", "arc-lnx-01/x"), false],
    ["list the whole container", list("arcupload", ""), false],
    ["list without a prefix", list("arcupload"), false],
    ["list a prefix that covers other servers", list("arcupload", "arc-lnx-0"), false],
  ])("%s", (_, request, allowed) => {
    expect(conditionAllows(mine, request)).toBe(allowed);
  });

  it("does not let arc-lnx-1 into arc-lnx-10's blobs", () => {
    expect(conditionAllows(blobPrefixCondition("arcupload", "arc-lnx-1/"), blobOp("write", "arcupload", "arc-lnx-10/x"))).toBe(false);
  });

  it("refuses a prefix without its slash or a value that would break the string", () => {
    expect(() => blobPrefixCondition("arcupload", "arc-lnx-01")).toThrow(/must end with \//);
    expect(() => blobPrefixCondition("arc'upload", "a/")).toThrow(/holds a quote/);
  });
});

describe("the conditions the plan sends", () => {
  it("let each server's verification upload land, and refuse its writes to every other server's path", async () => {
    const fleet = readStackConfig(`${root}/stacks/arc-fleet.yaml`);
    const p = await planProgram(fleet.values, { stack: "arc", secretKeys: fleet.secretKeys, preview: false, allowPlaceholders: true });
    const servers = ["arc-lnx-01", "arc-lnx-02", "arc-win-01"];
    for (const server of servers) {
      const verify = resource(p, "azure-native:hybridcompute:MachineRunCommand", `arc-${server}-verify`);
      // BLOB_NAME on Linux, BlobName on Windows.
      const blobName = (verify.inputs.parameters as { name: string; value: string }[]).find((x) => /^(BLOB_NAME|BlobName)$/.test(x.name))?.value ?? "";
      expect(blobName).toBe(`${server}/keyless-verify.txt`);
      for (const container of ["arcupload", "arclogs"]) {
        const grant = resource(p, "azure-native:authorization:RoleAssignment", `arc-${server}-blob-${container}`).inputs;
        expect(grant.conditionVersion).toBe("2.0");
        const condition = grant.condition as string;
        expect(conditionAllows(condition, blobOp("write", container, blobName))).toBe(true);
        for (const other of servers.filter((s) => s !== server)) {
          expect(conditionAllows(condition, blobOp("write", container, `${other}/keyless-verify.txt`))).toBe(false);
          expect(conditionAllows(condition, blobOp("read", container, `${other}/keyless-verify.txt`))).toBe(false);
        }
      }
    }
  });
});
