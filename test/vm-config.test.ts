import { describe, expect, it } from "vitest";
import { type KeylessConfig, parseConfig } from "../lib/config";
import { isArm64Size, reservedAdminUsernames, subnetPrefix } from "../lib/config/vm";
import { requiredNamespaces } from "../lib/resource-providers";
import { devSecretKeys, stackConfig, withConfig } from "./support/harness";

// keyless:vm: pure table tests. Each bad value gets exactly one message naming the key, the value and the rule.

const dev = stackConfig("dev").values;
const devVm = JSON.parse(dev["keyless:vm"]) as Record<string, unknown>;

// Real OpenSSH public keys (ssh-keygen output; the private halves were discarded).
const ed25519 = devVm.sshPublicKey as string;
const rsa2048 =
  "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQDdOROLuoNTzhhWsjpEOGEm6cn8y+gZFktmDK+vwADQxcEfnVrENACuDIL950P8kv4AGE933reVQQKiG3NZrW5FLx9ywr3t9mV7ZsAz/ifKNQaG1CwSW/wj3rLe7vh0a7iwtDJKnySK2S8uIFACixCrDdHGysgvTRJULmHlMDSuzUiyJNSJQ70OHMF8BIkVHd2hrc3SxPdGQ2nOvNEbqhAMvbWSBE7PwCTyg17BPRiZGoKjkEkuqBllT4i8imNMsIq7eNb0hfqpJ5EORHM8apaFDaenclW7u16iXKsl8yuDMvHFNV8WNVSwGjwxA1VbJDPdstxnXczFgae1J5JQqIox ok";
const rsa1024 =
  "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQCVN7fFnrEP2KcYc8CnDp9MuhZ8FKn3zxEDK8An0pXLGdzSa7CuK2e64KGjx9MIRTvYcyeMjMzibTfHtfZWi9FU/ZLbW8VXGzOxwDHMoGkWXRWqNqzovNOPEGihhpEBKL5w2GDiOupZwuix7Sg2INMCvXhvD9ZYlTrAwzsQS/Yhjw== small";
const ecdsa =
  "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBEecNH5ywJCK/mA29L5+HGXyDGsxeQQY+iZazGoI7VYROLnclt+HqhPFJhNqP4ul/Im9QM0jSmz4zDfcLc1KGP8= ec";
const privateKey = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\n-----END OPENSSH PRIVATE KEY-----";
const galleryVersion = "/subscriptions/5d3f1a2b-7c4e-4f60-9a8b-1c2d3e4f5a6b/resourceGroups/rg-img/providers/Microsoft.Compute/galleries/gal_keyless_dev/images/docker-host/versions/1.0.0";

function parse(vm: Record<string, unknown> | undefined) {
  return parseConfig({ values: withConfig(dev, { "keyless:vm": vm }), secretKeys: new Set(devSecretKeys(dev)), project: "keyless", stack: "dev" });
}

function vmWith(changes: Record<string, unknown>): Record<string, unknown> {
  const vm = { ...devVm, ...changes };
  for (const [k, v] of Object.entries(changes)) if (v === undefined) delete vm[k];
  return vm;
}

function errorsFor(changes: Record<string, unknown>): readonly string[] {
  const r = parse(vmWith(changes));
  return r.ok ? [] : r.errors;
}

function configFor(vm: Record<string, unknown> | undefined): KeylessConfig {
  const r = parse(vm);
  if (!r.ok) throw new Error(r.errors.join("\n"));
  return r.config;
}

describe("valid keyless:vm", () => {
  it("reads the dev stack's VM with secure defaults for the optional keys", () => {
    expect(configFor(devVm).vm).toEqual({
      enabled: true,
      size: "Standard_B2s",
      adminUsername: "azureuser",
      sshPublicKey: ed25519,
      image: "ubuntu-24_04-lts",
      verifyImage: "hello-world:latest",
      publicIp: false,
      systemAssignedIdentity: false,
      addressSpace: "10.60.0.0/16",
    });
  });

  it.each([
    ["an RSA key of 2048 bits", { sshPublicKey: rsa2048 }],
    ["a gallery image version id", { image: galleryVersion }],
    ["a gallery image definition id (latest version)", { image: galleryVersion.replace(/\/versions\/.*$/, "") }],
    ["an Arm64 size with the Arm64 image", { size: "Standard_D2ps_v5", image: "ubuntu-24_04-lts-arm64" }],
    ["constrained-vCPU and accelerator sizes", { size: "Standard_NC4as_T4_v3" }],
    ["a /32 SSH source", { sshSourceRange: "203.0.113.7/32" }],
    ["a nested MCR repository", { verifyImage: "azuredocs/aci-helloworld:latest" }],
  ])("accepts %s", (_, changes) => {
    expect(errorsFor(changes)).toEqual([]);
  });

  it("needs Compute and Network only when the VM is enabled", () => {
    expect(requiredNamespaces(configFor(devVm))).toEqual(expect.arrayContaining(["Microsoft.Compute", "Microsoft.Network"]));
    // Without AKS and the gallery, which need Compute (and AKS Network) too.
    expect(requiredNamespaces({ ...configFor({ ...devVm, enabled: false }), aks: undefined, gallery: undefined })).not.toContain("Microsoft.Compute");
    expect(requiredNamespaces({ ...configFor(undefined), aks: undefined, gallery: undefined })).not.toContain("Microsoft.Network");
  });

  it("puts the subnet on the first /24 of the address space", () => {
    expect(subnetPrefix("10.60.0.0/16")).toBe("10.60.0.0/24");
    expect(subnetPrefix("192.168.4.0/26")).toBe("192.168.4.0/26");
  });

  it("tells Arm64 sizes apart by the p feature letter", () => {
    expect(["Standard_D2ps_v5", "Standard_B2pts_v2", "Standard_E4pds_v6"].map(isArm64Size)).toEqual([true, true, true]);
    expect(["Standard_B2s", "Standard_D2s_v5", "Standard_NP10s", "Standard_M8-2ms"].map(isArm64Size)).toEqual([false, false, false, false]);
  });
});

describe("one message per bad keyless:vm key", () => {
  it.each<[string, Record<string, unknown>, string]>([
    [
      "a private key pasted as the public key, without echoing it",
      { sshPublicKey: privateKey },
      "keyless:vm.sshPublicKey: [private key, not shown] is a private key; paste the public key (the .pub file, one line starting with ssh-ed25519 or ssh-rsa) and keep the private key to yourself",
    ],
    [
      "not an OpenSSH public key",
      { sshPublicKey: "AAAAC3NzaC1lZDI1NTE5" },
      'keyless:vm.sshPublicKey: "AAAAC3NzaC1lZDI1NTE5" must be an SSH public key in OpenSSH format: ssh-ed25519 or ssh-rsa, then the base64 key, then an optional comment, on one line',
    ],
    [
      "a key type Azure refuses",
      { sshPublicKey: ecdsa },
      `keyless:vm.sshPublicKey: ${JSON.stringify(ecdsa)} is an ECDSA key, which Azure does not accept; use an ssh-ed25519 or ssh-rsa (2048 bits or more) public key`,
    ],
    ["an RSA key under 2048 bits", { sshPublicKey: rsa1024 }, `keyless:vm.sshPublicKey: ${JSON.stringify(rsa1024)} is a 1024-bit RSA key; Azure requires at least 2048 bits (ssh-ed25519 is shorter and stronger)`],
    [
      "a type label that does not match the key",
      { sshPublicKey: ed25519.replace("ssh-ed25519", "ssh-rsa") },
      `keyless:vm.sshPublicKey: ${JSON.stringify(ed25519.replace("ssh-ed25519", "ssh-rsa"))} must be an SSH public key in OpenSSH format: its base64 part does not hold an ssh-rsa key`,
    ],
    [
      "enabled without a key",
      { sshPublicKey: undefined },
      "keyless:vm.sshPublicKey: is required and must be an SSH public key when keyless:vm.enabled is true (password authentication is disabled, so the VM needs a key)",
    ],
    ["an unknown size format", { size: "B2s" }, 'keyless:vm.size: "B2s" must be an Azure VM size such as Standard_B2s or Standard_D2s_v5'],
    ["a lowercase size", { size: "standard_b2s" }, 'keyless:vm.size: "standard_b2s" must be an Azure VM size such as Standard_B2s or Standard_D2s_v5'],
    ["a reserved admin name", { adminUsername: "admin" }, 'keyless:vm.adminUsername: "admin" is a user name Azure reserves; choose another such as azureuser'],
    [
      "an admin name Linux refuses",
      { adminUsername: "Azure User" },
      `keyless:vm.adminUsername: "Azure User" must be 1-32 characters: lowercase letters, digits, - and _, starting with a letter (Azure's Linux username rules)`,
    ],
    [
      "an unknown image",
      { image: "ubuntu" },
      'keyless:vm.image: "ubuntu" must be one of ubuntu-24_04-lts | ubuntu-24_04-lts-arm64 | ubuntu-22_04-lts or a gallery image version id (/subscriptions/<id>/resourceGroups/<rg>/providers/Microsoft.Compute/galleries/<gallery>/images/<image>[/versions/<x.y.z>])',
    ],
    [
      "an image of the other architecture",
      { size: "Standard_D2ps_v5" },
      'keyless:vm.image: "ubuntu-24_04-lts" is an x64 image but Standard_D2ps_v5 is an Arm64 size; pick an image and size of the same architecture',
    ],
    [
      "a verify image without a tag",
      { verifyImage: "hello-world" },
      'keyless:vm.verifyImage: "hello-world" must be a repository and tag on mcr.microsoft.com, such as hello-world:latest (lowercase repository path, then :tag)',
    ],
    ...["*", "0.0.0.0/0", "Internet"].map((range): [string, Record<string, unknown>, string] => [
      `SSH open to the internet as ${range}`,
      { sshSourceRange: range },
      `keyless:vm.sshSourceRange: ${JSON.stringify(range)} would open SSH to the whole internet; give your own address range (for example 203.0.113.7/32) or leave it unset and use run commands`,
    ]),
    ["an SSH source that is not a CIDR", { sshSourceRange: "10.0.0.300/32" }, 'keyless:vm.sshSourceRange: "10.0.0.300/32" must be an IPv4 CIDR range such as 203.0.113.7/32'],
    [
      "a public address space",
      { addressSpace: "8.8.0.0/16" },
      'keyless:vm.addressSpace: "8.8.0.0/16" must be a private IPv4 range (10/8, 172.16/12 or 192.168/16) from /16 to /28, such as 10.60.0.0/16',
    ],
    ["an address space with host bits", { addressSpace: "10.60.1.0/16" }, 'keyless:vm.addressSpace: "10.60.1.0/16" has host bits set; the range starts at 10.60.0.0/16'],
    ["publicIp not a boolean", { publicIp: "yes" }, 'keyless:vm.publicIp: "yes" must be true or false'],
    ["an unknown key", { adminPassword: "hunter2" }, 'keyless:vm.adminPassword: "hunter2" is not a known key'],
  ])("%s", (_, changes, message) => {
    expect(errorsFor(changes)).toEqual([message]);
  });

  it("refuses every name Azure reserves (Compute API OSProfile.adminUsername, Linux VM FAQ)", () => {
    for (const name of reservedAdminUsernames.filter((n) => /^[a-z]/.test(n))) {
      expect(errorsFor({ adminUsername: name }), name).toEqual([`keyless:vm.adminUsername: ${JSON.stringify(name)} is a user name Azure reserves; choose another such as azureuser`]);
    }
  });
});
