import * as pulumi from "@pulumi/pulumi";
import { ArcFleet } from "../components/arc-fleet";
import { resourceGroupName } from "../lib/naming";
import type { Platform } from "./platform";

/** Azure Arc-enabled servers (keyless:arc, docs/arc.md): onboarding, identity grants, on-host check. */
export function arcPart(p: Platform): Record<string, unknown> | null {
  const { config } = p;
  if (!config.arc) return null;
  const fleet = new ArcFleet(
    "arc",
    {
      resourceGroupName: resourceGroupName(p.names, "arc"),
      location: config.location,
      tags: config.tags,
      arc: config.arc,
      // Secret-only config becomes Pulumi secrets before any component sees it.
      servicePrincipalSecret: config.arcSecrets?.servicePrincipalSecret === undefined ? undefined : pulumi.secret(config.arcSecrets.servicePrincipalSecret),
      sshPrivateKeys: Object.fromEntries(Object.entries(config.arcSecrets?.sshPrivateKeys ?? {}).map(([k, v]) => [k, pulumi.secret(v)])),
      deployerObjectId: p.deployerObjectId,
      deployerPrincipalType: config.deployerPrincipalType,
      tenantId: p.client.tenantId,
      subscriptionId: p.client.subscriptionId,
      containerIds: p.blob.containerIds,
      blobEndpoint: p.blob.blobEndpoint,
      vault: { id: p.vault.vaultId, name: p.vault.vaultName, resourceGroupName: p.sharedGroup.name, uri: p.vault.vaultUri },
    },
    { ...p.providers, dependsOn: p.registrations.dependencies("Microsoft.HybridCompute", "Microsoft.GuestConfiguration", "Microsoft.HybridConnectivity") },
  );
  return {
    resourceGroup: fleet.resourceGroupName,
    servers: Object.fromEntries(Object.entries(fleet.servers).map(([n, s]) => [n, { machineId: s.machineId, principalId: s.principalId, verification: s.verification }])),
  };
}
