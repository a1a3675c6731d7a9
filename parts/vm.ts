import { ContainerHost } from "../components/container-host";
import type { Platform } from "./platform";

/** Container host VM (keyless:vm): pulls from the registry with a user-assigned identity, verified from inside. */
export function containerHostPart(p: Platform): Record<string, unknown> | null {
  const vmConfig = p.config.vm;
  if (!vmConfig?.enabled) return null;
  const host = new ContainerHost(
    "vm",
    {
      names: p.names,
      location: p.config.location,
      tags: p.config.tags,
      size: vmConfig.size,
      adminUsername: vmConfig.adminUsername,
      sshPublicKey: vmConfig.sshPublicKey as string, // required when enabled (lib/config/vm.ts)
      image: vmConfig.image,
      verifyImage: vmConfig.verifyImage,
      sshSourceRange: vmConfig.sshSourceRange,
      publicIp: vmConfig.publicIp,
      systemAssignedIdentity: vmConfig.systemAssignedIdentity,
      addressSpace: vmConfig.addressSpace,
      registry: { id: p.registry.registryId, name: p.registry.registryName, loginServer: p.registry.loginServer },
    },
    { ...p.providers, dependsOn: p.registrations.dependencies("Microsoft.Compute", "Microsoft.Network", "Microsoft.ManagedIdentity") },
  );
  return {
    resourceGroup: host.resourceGroupName,
    name: host.vmName,
    id: host.vmId,
    privateIp: host.privateIp,
    ...(host.publicIp ? { publicIp: host.publicIp } : {}),
    identity: { id: host.identity.id, clientId: host.identity.clientId, principalId: host.identity.principalId },
    verification: host.verification,
  };
}
