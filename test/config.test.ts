import { describe, expect, it } from "vitest";
import { type KeylessConfig, parseConfig } from "../lib/config";
import { devSecretKeys, stackConfig, withConfig } from "./support/harness";

// parseConfig is pure: these are table tests, no mocks. Each bad value gets exactly one message
// that names the key, the value and the rule.

const dev = stackConfig("dev").values;

function errorsFor(changes: Record<string, unknown>, stack = "dev", secretKeys: string[] = devSecretKeys(withConfig(dev, changes))): readonly string[] {
  const r = parseConfig({ values: withConfig(dev, changes), secretKeys: new Set(secretKeys), project: "keyless", stack });
  return r.ok ? [] : r.errors;
}

function configFor(changes: Record<string, unknown>, stack = "dev"): KeylessConfig {
  const r = parseConfig({ values: withConfig(dev, changes), secretKeys: new Set(devSecretKeys(withConfig(dev, changes))), project: "keyless", stack });
  if (!r.ok) throw new Error(r.errors.join("\n"));
  return r.config;
}

describe("valid config", () => {
  it("reads the dev stack with its defaults", () => {
    const c = configFor({});
    expect(c).toMatchObject({
      workload: "keyless",
      environment: "dev",
      location: "japaneast",
      registerProviders: true,
      production: false,
      storage: { sku: "Standard_LRS", containers: ["arcupload"], deleteRetentionDays: 7 },
      keyVault: { purgeProtection: false, softDeleteRetentionDays: 7, publicNetworkAccess: "Enabled", createMode: "default" },
      registry: { sku: "Basic" },
    });
  });

  it("deployer principal type: ServicePrincipal by default, the top-level key, or the older AKS-only key", () => {
    expect(configFor({}).deployerPrincipalType).toBe("ServicePrincipal");
    expect(configFor({ "keyless:deployerPrincipalType": "User" }).deployerPrincipalType).toBe("User");
    const aks = JSON.parse(stackConfig("dev").values["keyless:aks"]) as Record<string, unknown>;
    expect(configFor({ "keyless:aks": { ...aks, deployerPrincipalType: "User" } }).deployerPrincipalType).toBe("User");
    expect(configFor({ "keyless:aks": { ...aks, deployerPrincipalType: "User" }, "keyless:deployerPrincipalType": "User" }).deployerPrincipalType).toBe("User");
    const both = parseConfig({ values: withConfig(stackConfig("dev").values, { "keyless:aks": { ...aks, deployerPrincipalType: "User" }, "keyless:deployerPrincipalType": "ServicePrincipal" }), secretKeys: new Set(devSecretKeys(stackConfig("dev").values)), project: "keyless", stack: "dev" });
    expect(both).toEqual({ ok: false, errors: ['keyless:aks.deployerPrincipalType: "User" contradicts keyless:deployerPrincipalType "ServicePrincipal"; one identity runs pulumi up: remove keyless:aks.deployerPrincipalType'] });
  });

  it("merges user tags with the ones keyless sets", () => {
    expect(configFor({}).tags).toEqual({ owner: "platform", workload: "keyless", environment: "dev", "managed-by": "pulumi" });
  });

  it("takes the environment from keyless:environment over the stack name", () => {
    expect(configFor({ "keyless:environment": "stg" }, "staging").environment).toBe("stg");
    expect(configFor({}, "qa").environment).toBe("qa");
  });

  it("fills every optional section from defaults", () => {
    const c = configFor({ "keyless:storage": undefined, "keyless:keyVault": undefined, "keyless:registry": undefined, "keyless:tags": undefined, "keyless:registerProviders": undefined, "keyless:arc": undefined, "keyless:arcSecrets": undefined });
    expect(c.storage.containers).toEqual([]);
    expect(c.keyVault.softDeleteRetentionDays).toBe(90);
    expect(c.registry.sku).toBe("Basic");
    expect(c.registerProviders).toBe(true);
  });
});

describe("one message per bad key", () => {
  it.each<[string, Record<string, unknown>, string, string?]>([
    ["workload pattern", { "keyless:workload": "Key-Less" }, 'keyless:workload: "Key-Less" must be 2-10 lowercase letters or digits'],
    ["deployer principal type", { "keyless:deployerPrincipalType": "Group" }, 'keyless:deployerPrincipalType: "Group" must be one of User | ServicePrincipal'],
    ["workload too long", { "keyless:workload": "abcdefghijk" }, 'keyless:workload: "abcdefghijk" must be 2-10 lowercase letters or digits'],
    ["workload missing", { "keyless:workload": undefined }, "keyless:workload: is required and must be 2-10 lowercase letters or digits"],
    ["environment", { "keyless:environment": "Dev_1" }, 'keyless:environment: "Dev_1" must be 2-8 lowercase letters or digits'],
    [
      "environment from a bad stack name",
      {},
      'keyless:environment: "production" (the stack name, used when keyless:environment is not set) must be 2-8 lowercase letters or digits; set keyless:environment',
      "production",
    ],
    ["unknown key", { "keyless:storag": { containers: [] } }, 'keyless:storag: {"containers":[]} is not a known key'],
    ["unknown nested key", { "keyless:keyVault": { purgeProtect: true } }, "keyless:keyVault.purgeProtect: true is not a known key"],
    ["registerProviders type", { "keyless:registerProviders": "yes" }, 'keyless:registerProviders: "yes" must be true or false'],
    ["retention too low", { "keyless:keyVault": { softDeleteRetentionDays: 3 } }, "keyless:keyVault.softDeleteRetentionDays: 3 must be a whole number from 7 to 90"],
    ["retention too high", { "keyless:keyVault": { softDeleteRetentionDays: 91 } }, "keyless:keyVault.softDeleteRetentionDays: 91 must be a whole number from 7 to 90"],
    ["retention not whole", { "keyless:keyVault": { softDeleteRetentionDays: 7.5 } }, "keyless:keyVault.softDeleteRetentionDays: 7.5 must be a whole number from 7 to 90"],
    ["purge protection type", { "keyless:keyVault": { purgeProtection: "on" } }, 'keyless:keyVault.purgeProtection: "on" must be true or false'],
    ["public access value", { "keyless:keyVault": { publicNetworkAccess: "Open" } }, 'keyless:keyVault.publicNetworkAccess: "Open" must be one of Enabled | Disabled'],
    ["vault create mode", { "keyless:keyVault": { createMode: "restore" } }, 'keyless:keyVault.createMode: "restore" must be one of default | recover'],
    ["deployer object id", { "keyless:deployerObjectId": "me@example.com" }, 'keyless:deployerObjectId: "me@example.com" must be a GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)'],
    ["registry sku", { "keyless:registry": { sku: "Free" } }, 'keyless:registry.sku: "Free" must be one of Basic | Standard | Premium'],
    ["storage sku", { "keyless:storage": { sku: "Premium_LRS" } }, 'keyless:storage.sku: "Premium_LRS" must be one of Standard_LRS | Standard_ZRS | Standard_GRS | Standard_GZRS'],
    [
      "container name",
      { "keyless:storage": { containers: ["Arc_Upload"] } },
      'keyless:storage.containers[0]: "Arc_Upload" must be 3-63 lowercase letters, digits and single hyphens, starting and ending with a letter or digit',
    ],
    ["duplicate container", { "keyless:storage": { containers: ["a1b", "a1b"] } }, 'keyless:storage.containers[1]: "a1b" is listed twice; container names must be unique'],
    ["containers not a list", { "keyless:storage": { containers: "arcupload" } }, 'keyless:storage.containers: "arcupload" must be a list of container names'],
    ["blob retention", { "keyless:storage": { deleteRetentionDays: 0 } }, "keyless:storage.deleteRetentionDays: 0 must be a whole number from 1 to 365"],
    ["tags not a map", { "keyless:tags": ["owner"] }, 'keyless:tags: ["owner"] must be a map of tag names to string values'],
    ["reserved tag", { "keyless:tags": { workload: "x" } }, 'keyless:tags.workload: "x" is set by keyless itself; reserved tag names: workload, environment, managed-by'],
    ["illegal tag name", { "keyless:tags": { "a/b": "x" } }, 'keyless:tags.a/b: "x" is not a legal tag name: 1-128 characters, none of < > % & \\ ? /'],
    ["tag value too long", { "keyless:tags": { owner: "x".repeat(257) } }, `keyless:tags.owner: "${"x".repeat(257)}" must be at most 256 characters (Azure's tag value limit)`],
    [
      "production without purge protection",
      { "keyless:production": true },
      "keyless:keyVault.purgeProtection: false must be true when keyless:production is true (a production vault must survive a mistaken purge)",
    ],
    ["location missing", { "azure-native:location": undefined }, "azure-native:location: is required: the Azure region to deploy to, such as japaneast"],
    ["location format", { "azure-native:location": "Japan East" }, 'azure-native:location: "Japan East" must be an Azure region name such as japaneast (lowercase letters and digits, no spaces)'],
  ])("%s", (_, changes, message, stack) => {
    expect(errorsFor(changes, stack)).toEqual([message]);
  });

  it("lists every bad key at once, not only the first", () => {
    expect(errorsFor({ "keyless:workload": "X", "keyless:registry": { sku: "Free" }, "keyless:typo": 1 })).toEqual([
      'keyless:workload: "X" must be 2-10 lowercase letters or digits',
      'keyless:registry.sku: "Free" must be one of Basic | Standard | Premium',
      "keyless:typo: 1 is not a known key",
    ]);
  });

  it("refuses a secret on a key that reaches Azure in clear, without printing it", () => {
    expect(errorsFor({ "keyless:workload": "Hush-Hush" }, "dev", ["keyless:workload", ...devSecretKeys(dev)])).toEqual([
      "keyless:workload: [secret] is stored as a secret, but keyless passes this key to Azure in clear; store it in plain text",
    ]);
  });
});

describe("Pulumi.yaml declarations", () => {
  it("an empty keyless:environment (the project default) means the stack name", () => {
    expect(configFor({ "keyless:environment": "" }, "qa").environment).toBe("qa");
  });
});
