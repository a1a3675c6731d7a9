import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { builtInRoles, isBuiltInRoleName, roleDefinitionId, rolesWithDataActions } from "../lib/roles";
import { root } from "./support/harness";

describe("the role map", () => {
  it("holds well-formed, unique GUIDs", () => {
    const guids = Object.values(builtInRoles);
    for (const g of guids) expect(g).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(new Set(guids).size).toBe(guids.length);
  });

  it.each([
    ["Storage Blob Data Contributor", "ba92f5b4-2d11-453d-a403-e96b0029c9fe"],
    ["Key Vault Secrets User", "4633458b-17de-408a-b874-0445c86b69e6"],
    ["AcrPull", "7f951dda-4ed3-4680-a7ca-43fe172d538d"],
    ["Virtual Machine Contributor", "9980e02c-c2be-4d73-94e8-173b1dc7cf3c"],
    ["Managed Identity Operator", "f1a07417-d97a-45cb-824c-7a7467783830"],
    ["Owner", "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"],
    ["Azure Kubernetes Service Cluster User Role", "4abbcc35-e782-43d8-92c5-2d3f1bd2253f"],
    ["Azure Kubernetes Service RBAC Reader", "7f6c6a51-bcf8-42ba-9220-52d62157d7db"],
    ["Azure Kubernetes Service RBAC Cluster Admin", "b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b"],
  ] as const)("%s is %s (Microsoft Learn, Azure built-in roles)", (name, guid) => {
    expect(builtInRoles[name]).toBe(guid);
  });

  it("marks the data-plane roles Lighthouse refuses", () => {
    expect(rolesWithDataActions.has("Storage Blob Data Reader")).toBe(true);
    expect(rolesWithDataActions.has("Key Vault Secrets User")).toBe(true);
    expect(rolesWithDataActions.has("Reader")).toBe(false);
    expect(rolesWithDataActions.has("AcrPull")).toBe(false);
  });

  it("builds subscription-qualified definition ids", () => {
    expect(roleDefinitionId("sub-1", "AcrPull")).toBe("/subscriptions/sub-1/providers/Microsoft.Authorization/roleDefinitions/7f951dda-4ed3-4680-a7ca-43fe172d538d");
    expect(isBuiltInRoleName("AcrPull")).toBe(true);
    expect(isBuiltInRoleName("toString")).toBe(false);
  });
});

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    if (statSync(p).isDirectory()) return f === "node_modules" ? [] : sources(p);
    return /\.(ts|sh|ps1)$/.test(f) ? [p] : [];
  });
}

describe("no role GUID literal outside the map", () => {
  it("components, lib, tools, scripts, policy and index.ts name roles, never GUIDs", () => {
    const guids = Object.values(builtInRoles);
    const offenders = ["components", "parts", "lib", "tools", "scripts", "policy", "index.ts"]
      .map((p) => join(root, p))
      .flatMap((p) => {
        try {
          return statSync(p).isDirectory() ? sources(p) : [p];
        } catch {
          return [];
        }
      })
      .filter((f) => !f.endsWith(join("lib", "roles.ts")))
      .filter((f) => guids.some((g) => readFileSync(f, "utf8").toLowerCase().includes(g)))
      .map((f) => relative(root, f));
    expect(offenders).toEqual([]);
  });
});
