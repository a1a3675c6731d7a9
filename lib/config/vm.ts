import { z } from "zod";
import { bool, pattern, strictObject } from "./rules";

// keyless:vm — the container host VM that pulls from the stack's registry with a user-assigned
// identity (the hand-made VM-to-ACR flow). The keys enabled/size/adminUsername/sshPublicKey/image/verifyImage are a
// contract (issue 6); the rest are optional with secure defaults.

/** Marketplace images the `image` key accepts by alias (Canonical's URNs: canonical/ubuntu-cloud-docs, "Find Ubuntu images on Azure"). */
export const imageAliases = {
  "ubuntu-24_04-lts": { publisher: "Canonical", offer: "ubuntu-24_04-lts", sku: "server", version: "latest", architecture: "x64" },
  "ubuntu-24_04-lts-arm64": { publisher: "Canonical", offer: "ubuntu-24_04-lts", sku: "server-arm64", version: "latest", architecture: "Arm64" },
  "ubuntu-22_04-lts": { publisher: "Canonical", offer: "0001-com-ubuntu-server-jammy", sku: "22_04-lts-gen2", version: "latest", architecture: "x64" },
} as const;

export type ImageAlias = keyof typeof imageAliases;

/**
 * A Compute Gallery image version id, or an image definition id (Azure then picks the latest version).
 * Only same-tenant galleries: a gallery shared from another tenant needs auxiliary-tenant auth.
 */
export const galleryImageId =
  /^\/subscriptions\/[0-9a-fA-F-]{36}\/resourceGroups\/[-\w._()]+\/providers\/Microsoft\.Compute\/galleries\/[A-Za-z0-9._]+\/images\/[A-Za-z0-9._-]+(\/versions\/\d+\.\d+\.\d+)?$/i;

/**
 * Reserved admin names Azure refuses, from the Compute API (OSProfile.adminUsername) and the Linux VM
 * FAQ (azure-compute-docs articles/virtual-machines/linux/faq.yml, "username requirements").
 */
export const reservedAdminUsernames = [
  "1", "123", "a", "actuser", "adm", "admin", "admin1", "admin2", "administrator", "aspnet", "backup", "console", "david", "guest", "john",
  "owner", "root", "server", "sql", "support", "support_388945a0", "sys", "test", "test1", "test2", "test3", "user", "user1", "user2", "user3",
  "user4", "user5", "video",
] as const;

// Sizes are <tier>_<family><vCPUs>[-<constrained vCPUs>]<features>[_<accelerator>][_v<n>]:
// Standard_B2s, Standard_D2s_v5, Standard_M8-2ms, Standard_NC4as_T4_v3 (azure-compute-docs
// articles/virtual-machines/vm-naming-conventions.md). Lowercase `p` among the features means Arm64.
const sizePattern = /^Standard_[A-Z]+[0-9]+(-[0-9]+)?[a-z]*(_[A-Za-z0-9]+)*$/;

/** True for Arm64 (Ampere/Cobalt) sizes: a lowercase `p` in the additive features (Dpsv5, Epsv6, B2pts_v2). */
export function isArm64Size(size: string): boolean {
  const m = /^Standard_[A-Z]+[0-9]+(?:-[0-9]+)?([a-z]*)/.exec(size);
  return m !== null && m[1].includes("p");
}

/** What a public key looks like: "<type> <base64 blob> [comment]". */
const publicKeyLine = /^(ssh-ed25519|ssh-rsa) ([A-Za-z0-9+/]+={0,2})( [^\r\n]*)?$/;

/** Read one SSH wire-format string (uint32 length + bytes) at `offset`. */
function sshString(buf: Buffer, offset: number): { value: Buffer; next: number } | undefined {
  if (offset + 4 > buf.length) return undefined;
  const len = buf.readUInt32BE(offset);
  if (offset + 4 + len > buf.length) return undefined;
  return { value: buf.subarray(offset + 4, offset + 4 + len), next: offset + 4 + len };
}

/**
 * Why a key is not one Azure accepts, or undefined when it is. Azure takes SSH-2 RSA keys of at least
 * 2048 bits and ED25519 keys; ECDSA is not supported (azure-compute-docs
 * articles/virtual-machines/linux/create-ssh-keys-detailed.md, "Supported SSH key formats").
 */
export function sshPublicKeyProblem(key: string): string | undefined {
  if (/PRIVATE KEY|-----BEGIN/.test(key)) {
    return "is a private key; paste the public key (the .pub file, one line starting with ssh-ed25519 or ssh-rsa) and keep the private key to yourself";
  }
  const m = publicKeyLine.exec(key.trim());
  if (!m) {
    if (/^ecdsa-sha2-/.test(key.trim())) return "is an ECDSA key, which Azure does not accept; use an ssh-ed25519 or ssh-rsa (2048 bits or more) public key";
    return "must be an SSH public key in OpenSSH format: ssh-ed25519 or ssh-rsa, then the base64 key, then an optional comment, on one line";
  }
  const blob = Buffer.from(m[2], "base64");
  const type = sshString(blob, 0);
  if (!type || type.value.toString("latin1") !== m[1]) return `must be an SSH public key in OpenSSH format: its base64 part does not hold an ${m[1]} key`;
  if (m[1] === "ssh-ed25519") {
    const pub = sshString(blob, type.next);
    return pub && pub.value.length === 32 && pub.next === blob.length ? undefined : "must be an SSH public key in OpenSSH format: its ssh-ed25519 key is not 32 bytes";
  }
  const e = sshString(blob, type.next);
  const n = e && sshString(blob, e.next);
  if (!n || n.next !== blob.length) return "must be an SSH public key in OpenSSH format: its ssh-rsa key is truncated";
  let bytes = n.value;
  while (bytes.length > 0 && bytes[0] === 0) bytes = bytes.subarray(1);
  const bits = bytes.length === 0 ? 0 : (bytes.length - 1) * 8 + bytes[0].toString(2).length;
  return bits >= 2048 ? undefined : `is a ${bits}-bit RSA key; Azure requires at least 2048 bits (ssh-ed25519 is shorter and stronger)`;
}

/** Source ranges that mean "the whole internet". */
const openToInternet = new Set(["*", "0.0.0.0/0", "internet", "any", "::/0"]);

function ipv4CidrProblem(v: string): string | undefined {
  if (openToInternet.has(v.toLowerCase())) return "would open SSH to the whole internet; give your own address range (for example 203.0.113.7/32) or leave it unset and use run commands";
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(v);
  if (!m || m.slice(1, 5).some((o) => Number(o) > 255) || Number(m[5]) > 32) return "must be an IPv4 CIDR range such as 203.0.113.7/32";
  if (Number(m[5]) === 0) return "would open SSH to the whole internet; give your own address range (for example 203.0.113.7/32)";
  return undefined;
}

export const vm = strictObject({
  /** Build the VM (and its identity, network and verification). */
  enabled: bool().default(false),
  /** VM size, such as Standard_B2s or Standard_D2s_v5. */
  size: pattern(sizePattern, "an Azure VM size such as Standard_B2s or Standard_D2s_v5").default("Standard_B2s"),
  /** Linux admin user; SSH key login only. */
  adminUsername: pattern(/^[a-z][a-z0-9_-]{0,31}$/, "1-32 characters: lowercase letters, digits, - and _, starting with a letter (Azure's Linux username rules)")
    .refine((u) => !(reservedAdminUsernames as readonly string[]).includes(u), { error: "is a user name Azure reserves; choose another such as azureuser" })
    .default("azureuser"),
  /** One SSH public key for adminUsername; password authentication is always disabled. */
  sshPublicKey: z.string({ error: "must be an SSH public key (ssh-ed25519 AAAA... or ssh-rsa AAAA...)" }).superRefine((key, ctx) => {
    const problem = sshPublicKeyProblem(key);
    if (problem) ctx.addIssue({ code: "custom", message: problem, input: key });
  }).optional(),
  /** A marketplace alias (see imageAliases) or a Compute Gallery image (version) id. */
  image: z
    .string({ error: "must be a string" })
    .refine((v) => Object.prototype.hasOwnProperty.call(imageAliases, v) || galleryImageId.test(v), {
      error: `must be one of ${Object.keys(imageAliases).join(" | ")} or a gallery image version id (/subscriptions/<id>/resourceGroups/<rg>/providers/Microsoft.Compute/galleries/<gallery>/images/<image>[/versions/<x.y.z>])`,
    })
    .default("ubuntu-24_04-lts"),
  /** Image copied from mcr.microsoft.com into the registry and pulled by the verification. */
  verifyImage: pattern(
    /^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*:[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/,
    "a repository and tag on mcr.microsoft.com, such as hello-world:latest (lowercase repository path, then :tag)",
  ).default("hello-world:latest"),
  /** IPv4 range allowed to reach port 22 (none by default; never the whole internet). */
  sshSourceRange: z.string({ error: "must be an IPv4 CIDR range such as 203.0.113.7/32" }).superRefine((v, ctx) => {
    const problem = ipv4CidrProblem(v);
    if (problem) ctx.addIssue({ code: "custom", message: problem, input: v });
  }).optional(),
  /** Attach a public IP to the NIC (off: reach the VM through run commands, Bastion or a peered network). */
  publicIp: bool().default(false),
  /** Also give the VM a system-assigned identity (off: the user-assigned one is the only identity). */
  systemAssignedIdentity: bool().default(false),
  /** Address space of the VM's virtual network; the subnet takes its first /24 (or the whole range when smaller). */
  addressSpace: pattern(/^10\.\d{1,3}\.\d{1,3}\.\d{1,3}\/(1[6-9]|2[0-8])$|^172\.(1[6-9]|2\d|3[01])\.\d{1,3}\.\d{1,3}\/(1[6-9]|2[0-8])$|^192\.168\.\d{1,3}\.\d{1,3}\/(1[6-9]|2[0-8])$/, "a private IPv4 range (10/8, 172.16/12 or 192.168/16) from /16 to /28, such as 10.60.0.0/16").default("10.60.0.0/16"),
});

export type VmConfig = z.output<typeof vm>;

/** Cross-key checks for keyless:vm, reported on the key to change. */
export function vmIssues(v: VmConfig): { path: (string | number)[]; input: unknown; message: string }[] {
  const issues: { path: (string | number)[]; input: unknown; message: string }[] = [];
  if (v.enabled && v.sshPublicKey === undefined) {
    issues.push({ path: ["vm", "sshPublicKey"], input: undefined, message: "must be an SSH public key when keyless:vm.enabled is true (password authentication is disabled, so the VM needs a key)" });
  }
  const alias = imageAliases[v.image as ImageAlias] as (typeof imageAliases)[ImageAlias] | undefined;
  if (alias && (alias.architecture === "Arm64") !== isArm64Size(v.size)) {
    issues.push({
      path: ["vm", "image"],
      input: v.image,
      message: `is an ${alias.architecture} image but ${v.size} is ${isArm64Size(v.size) ? "an Arm64" : "an x64"} size; pick an image and size of the same architecture`,
    });
  }
  const space = parseCidr(v.addressSpace);
  if (!space) {
    issues.push({ path: ["vm", "addressSpace"], input: v.addressSpace, message: "must be a private IPv4 range with octets from 0 to 255" });
  } else if ((space.address & hostMask(space.prefix)) !== 0) {
    issues.push({ path: ["vm", "addressSpace"], input: v.addressSpace, message: `has host bits set; the range starts at ${formatCidr(space.address & ~hostMask(space.prefix), space.prefix)}` });
  }
  return issues;
}

function parseCidr(cidr: string): { address: number; prefix: number } | undefined {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\/(\d+)$/.exec(cidr);
  if (!m || m.slice(1, 5).some((o) => Number(o) > 255)) return undefined;
  const address = m.slice(1, 5).reduce((acc, o) => acc * 256 + Number(o), 0) | 0;
  return { address, prefix: Number(m[5]) };
}

function hostMask(prefix: number): number {
  return prefix === 0 ? -1 : (1 << (32 - prefix)) - 1;
}

function formatCidr(address: number, prefix: number): string {
  return `${[24, 16, 8, 0].map((s) => (address >>> s) & 255).join(".")}/${prefix}`;
}

/** The VM subnet: the first /24 of the address space, or the whole space when it is smaller. */
export function subnetPrefix(addressSpace: string): string {
  const space = parseCidr(addressSpace);
  if (!space) throw new Error(`not an IPv4 CIDR: ${addressSpace}`);
  const prefix = Math.max(space.prefix, 24);
  return formatCidr(space.address & ~hostMask(prefix), prefix);
}
