import { parse, stringify } from "yaml";

// AKS with local accounts off hands out only Entra ID kubeconfigs, whose user runs kubelogin
// (exec plugin). AKS returns one set up for device-code login; the Kubernetes provider needs the
// mode that works where `pulumi up` runs: a developer's `az` login, or CI's federated token.

/** Entra ID application of the AKS API server: the token audience for every AKS cluster (Azure/kubelogin docs). */
export const aksServerAppId = "6dae42f8-4368-4678-94ff-3960e28e3630";
/** Public client kubelogin uses for interactive and device-code logins (Azure/kubelogin docs). */
export const aksClientAppId = "80faf920-1908-4b52-b5ef-a8e7bedfc67a";

/** Arguments of `kubelogin get-token` for a login mode (no secret ever: spn with a client secret is not offered). */
export function kubeloginArgs(mode: string, tenantId: string): string[] {
  const args = ["get-token", "--login", mode, "--server-id", aksServerAppId, "--environment", "AzurePublicCloud", "--tenant-id", tenantId];
  if (mode === "devicecode" || mode === "interactive") args.push("--client-id", aksClientAppId);
  // workloadidentity reads AZURE_CLIENT_ID and AZURE_TENANT_ID, then AZURE_FEDERATED_TOKEN_FILE (a pod
  // with Workload Identity) or, in GitHub Actions, GitHub's OIDC token endpoint; the workflows select it
  // with AAD_LOGIN_METHOD, which overrides --login (Azure/kubelogin pkg/internal/token options.go, provider.go).
  return args;
}

interface Kubeconfig {
  users?: { name: string; user: { exec?: Record<string, unknown> } & Record<string, unknown> }[];
}

/** Rewrite every user of an AKS kubeconfig to `kubelogin get-token` with this mode. */
export function withKubeloginMode(kubeconfigYaml: string, mode: string, tenantId: string): string {
  const doc = parse(kubeconfigYaml) as Kubeconfig;
  for (const u of doc.users ?? []) {
    u.user = {
      exec: {
        apiVersion: "client.authentication.k8s.io/v1beta1",
        command: "kubelogin",
        args: kubeloginArgs(mode, tenantId),
        env: null,
        installHint: "kubelogin is not installed: https://azure.github.io/kubelogin/install.html",
        provideClusterInfo: false,
        interactiveMode: mode === "devicecode" || mode === "interactive" ? "IfAvailable" : "Never",
      },
    };
  }
  return stringify(doc);
}
