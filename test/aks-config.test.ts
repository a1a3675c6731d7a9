import { describe, expect, it } from "vitest";
import { parseConfig } from "../lib/config";
import { kubeloginArgs, withKubeloginMode } from "../lib/kubeconfig";
import { devSecretKeys, stackConfig, withConfig } from "./support/harness";

const dev = stackConfig("dev").values;
const aks = JSON.parse(dev["keyless:aks"]);
function errorsFor(change: Record<string, unknown>): readonly string[] {
  const r = parseConfig({ values: withConfig(dev, { "keyless:aks": { ...aks, ...change } }), secretKeys: new Set(devSecretKeys(dev)), project: "keyless", stack: "dev" });
  return r.ok ? [] : r.errors;
}

describe("keyless:aks messages", () => {
  it.each<[string, Record<string, unknown>, string]>([
    ["unknown mode", { podIdentity: "pod-identity" }, 'keyless:aks.podIdentity: "pod-identity" must be one of workload-identity | aad-pod-identity'],
    ["nodeCount < 1", { nodeCount: 0 }, "keyless:aks.nodeCount: 0 must be a whole number from 1 to 100"],
    ["namespace not a DNS label", { demoNamespace: "Demo_NS" }, 'keyless:aks.demoNamespace: "Demo_NS" must be a DNS label: 1-63 lowercase letters, digits and hyphens, starting and ending with a letter or digit'],
    ["range not a CIDR", { apiServerAuthorizedIpRanges: ["10.0.0.0/33"] }, 'keyless:aks.apiServerAuthorizedIpRanges[0]: "10.0.0.0/33" must be an IPv4 address or CIDR such as 203.0.113.0/24'],
    ["group not a GUID", { adminGroupObjectIds: ["admins"] }, 'keyless:aks.adminGroupObjectIds[0]: "admins" must be a GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)'],
    ["version", { kubernetesVersion: "latest" }, 'keyless:aks.kubernetesVersion: "latest" must be a Kubernetes minor version such as "1.33" (the patch auto-upgrade channel picks the patch; a pinned patch would be a downgrade after the first auto-upgrade, which AKS refuses)'],
    ["patch version with the patch channel", { kubernetesVersion: "1.33.2" }, 'keyless:aks.kubernetesVersion: "1.33.2" must be a Kubernetes minor version such as "1.33" (the patch auto-upgrade channel picks the patch; a pinned patch would be a downgrade after the first auto-upgrade, which AKS refuses)'],
    ["kubelogin spn (needs a secret)", { kubeloginMode: "spn" }, 'keyless:aks.kubeloginMode: "spn" must be one of azurecli | workloadidentity | devicecode | interactive | msi | azd'],
    [
      "add-on without acknowledgement",
      { podIdentity: "aad-pod-identity" },
      'keyless:aks.podIdentity: "aad-pod-identity" is the deprecated AAD Pod Identity add-on (open source project archived 2023, AKS support ended September 2025); set keyless:aks.acknowledgeDeprecatedPodIdentity: true to use it anyway, or use workload-identity',
    ],
    ["unknown key", { nodes: 3 }, "keyless:aks.nodes: 3 is not a known key"],
  ])("%s", (_, change, message) => {
    expect(errorsFor(change)).toEqual([message]);
  });

  it("defaults to Workload Identity", () => {
    const r = parseConfig({ values: withConfig(dev, { "keyless:aks": {} }), secretKeys: new Set(devSecretKeys(dev)), project: "keyless", stack: "dev" });
    expect(r.ok && r.config.aks).toMatchObject({ podIdentity: "workload-identity", nodeCount: 2, nodeVmSize: "Standard_D2s_v5", demoNamespace: "demo", kubeloginMode: "azurecli" });
  });
});

describe("kubeconfig for kubelogin", () => {
  const aksKubeconfig = ["users:", "- name: u", "  user:", "    exec:", "      command: kubelogin", "      args: [get-token, --login, devicecode]", ""].join("\n");
  it.each([
    ["azurecli", ["get-token", "--login", "azurecli", "--server-id", "6dae42f8-4368-4678-94ff-3960e28e3630", "--environment", "AzurePublicCloud", "--tenant-id", "t1"]],
    ["workloadidentity", ["get-token", "--login", "workloadidentity", "--server-id", "6dae42f8-4368-4678-94ff-3960e28e3630", "--environment", "AzurePublicCloud", "--tenant-id", "t1"]],
    ["devicecode", ["get-token", "--login", "devicecode", "--server-id", "6dae42f8-4368-4678-94ff-3960e28e3630", "--environment", "AzurePublicCloud", "--tenant-id", "t1", "--client-id", "80faf920-1908-4b52-b5ef-a8e7bedfc67a"]],
  ])("%s", (mode, args) => {
    expect(kubeloginArgs(mode, "t1")).toEqual(args);
    expect(withKubeloginMode(aksKubeconfig, mode, "t1")).toContain(`- ${mode}`);
  });
});
