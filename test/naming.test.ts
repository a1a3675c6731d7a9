import { describe, expect, it } from "vitest";
import {
  containerRegistryName,
  deterministicUuid,
  galleryName,
  keyVaultName,
  nameRules,
  resourceGroupName,
  roleAssignmentName,
  scopedName,
  storageAccountName,
  uniqueSuffix,
  uniqueSuffixLength,
} from "../lib/naming";

const shortest = { workload: "ab", environment: "d1" };
const longest = { workload: "abcdefghij", environment: "prod1234" }; // 10 and 8: the config limits

describe("globally unique names stay legal at the config limits", () => {
  const suffix = uniqueSuffix("sub/keyless/dev");
  it.each([
    ["storage account", storageAccountName, nameRules.storageAccount],
    ["key vault", keyVaultName, nameRules.keyVault],
    ["container registry", containerRegistryName, nameRules.containerRegistry],
  ] as const)("%s", (_, build, rule) => {
    for (const parts of [shortest, longest]) expect(build(parts, suffix)).toMatch(rule);
  });

  it("the longest storage account and vault names are exactly 24 characters", () => {
    expect(storageAccountName(longest, suffix)).toHaveLength(24);
    expect(keyVaultName(longest, suffix)).toHaveLength(24);
  });

  it("builds the expected shapes", () => {
    expect(storageAccountName({ workload: "keyless", environment: "dev" }, "a1b2")).toBe("stkeylessdeva1b2");
    expect(keyVaultName({ workload: "keyless", environment: "dev" }, "a1b2")).toBe("kvkeylessdeva1b2");
    expect(containerRegistryName({ workload: "keyless", environment: "dev" }, "a1b2")).toBe("crkeylessdeva1b2");
  });
});

describe("scoped names", () => {
  it.each([
    [resourceGroupName(longest, "gallery"), nameRules.resourceGroup, "rg-abcdefghij-prod1234-gallery"],
    [galleryName(longest), nameRules.gallery, "gal_abcdefghij_prod1234"],
    [scopedName("id", longest, "vm"), /^[a-zA-Z0-9][a-zA-Z0-9_-]{2,127}$/, "id-abcdefghij-prod1234-vm"],
    [scopedName("aks", shortest), /^[a-zA-Z0-9][a-zA-Z0-9_-]{0,62}$/, "aks-ab-d1"],
  ])("%s", (name, rule, expected) => {
    expect(name).toBe(expected);
    expect(name).toMatch(rule);
  });
});

describe("uniqueSuffix", () => {
  it("is stable, short, lowercase alphanumeric and seed-dependent", () => {
    const a = uniqueSuffix("s1/keyless/dev");
    expect(a).toBe(uniqueSuffix("s1/keyless/dev"));
    expect(a).toMatch(new RegExp(`^[a-z0-9]{${uniqueSuffixLength}}$`));
    expect(uniqueSuffix("s2/keyless/dev")).not.toBe(a);
    expect(uniqueSuffix("s1/keyless/prod")).not.toBe(a);
  });
});

describe("deterministic role assignment names", () => {
  const scope = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv";
  const principal = "0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f";
  const role = "4633458b-17de-408a-b874-0445c86b69e6";

  it("is a version-5-shaped UUID, the same on every run", () => {
    const name = roleAssignmentName(scope, principal, role);
    expect(name).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(roleAssignmentName(scope, principal, role)).toBe(name);
  });

  it("ignores case, as ARM does when it compares ids", () => {
    expect(roleAssignmentName(scope.toUpperCase(), principal.toUpperCase(), role)).toBe(roleAssignmentName(scope, principal, role));
  });

  it.each([
    ["scope", [`${scope}2`, principal, role]],
    ["principal", [scope, "1c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f", role]],
    ["role", [scope, principal, "7f951dda-4ed3-4680-a7ca-43fe172d538d"]],
  ] as const)("changes when the %s changes", (_, [s, p, r]) => {
    expect(roleAssignmentName(s, p, r)).not.toBe(roleAssignmentName(scope, principal, role));
  });

  it("does not collide when parts shift between fields", () => {
    expect(deterministicUuid("ab", "c")).not.toBe(deterministicUuid("a", "bc"));
  });
});
