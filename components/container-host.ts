import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { VirtualMachine } from "@pulumi/azure-native/compute/virtualMachine";
import { VirtualMachineRunCommandByVirtualMachine } from "@pulumi/azure-native/compute/virtualMachineRunCommandByVirtualMachine";
import { getVirtualMachineRunCommandByVirtualMachineOutput } from "@pulumi/azure-native/compute/getVirtualMachineRunCommandByVirtualMachine";
import { NetworkSecurityGroup, type NetworkSecurityGroupArgs } from "@pulumi/azure-native/network/networkSecurityGroup";
import { PublicIPAddress } from "@pulumi/azure-native/network/publicIPAddress";
import { NatGateway } from "@pulumi/azure-native/network/natGateway";
import { VirtualNetwork } from "@pulumi/azure-native/network/virtualNetwork";
import { Subnet } from "@pulumi/azure-native/network/subnet";
import { NetworkInterface } from "@pulumi/azure-native/network/networkInterface";
import { ResourceGroup } from "@pulumi/azure-native/resources/resourceGroup";
import * as local from "@pulumi/command/local";
import { type ImageAlias, imageAliases, subnetPrefix } from "../lib/config/vm";
import { type NameParts, resourceGroupName, scopedName } from "../lib/naming";
import { subscriptionOf } from "./role-assignment";
import { UserIdentity } from "./user-identity";

/** The host scripts, shipped as files so they can be linted and run on their own. */
export const cloudInitPath = resolve(__dirname, "../scripts/vm/cloud-init.yaml");
export const verifyScriptPath = resolve(__dirname, "../scripts/vm/verify-acr-pull.sh");

/** The registry the VM pulls from. */
export interface RegistryRef {
  /** ARM id: the scope of the AcrPull grant. */
  readonly id: pulumi.Input<string>;
  /** Registry name (az acr login / az acr import --name). */
  readonly name: pulumi.Input<string>;
  /** <name>.azurecr.io */
  readonly loginServer: pulumi.Input<string>;
}

export interface ContainerHostArgs {
  /** Workload and environment, for names. */
  readonly names: NameParts;
  /** Azure region. */
  readonly location: string;
  /** Tags. */
  readonly tags: Readonly<Record<string, string>>;
  /** VM size, such as Standard_B2s. */
  readonly size: string;
  /** Linux admin user (SSH key only). */
  readonly adminUsername: string;
  /** OpenSSH public key placed in the admin user's authorized_keys. */
  readonly sshPublicKey: string;
  /** A marketplace alias from lib/config/vm.ts or a Compute Gallery image (version) id. */
  readonly image: string;
  /** repository:tag imported from mcr.microsoft.com and pulled by the verification. */
  readonly verifyImage: string;
  /** IPv4 range allowed to reach port 22; none when undefined. */
  readonly sshSourceRange?: string;
  /** Attach a Standard public IP to the NIC. */
  readonly publicIp: boolean;
  /** Also enable a system-assigned identity. */
  readonly systemAssignedIdentity: boolean;
  /** Virtual network address space; the subnet is its first /24. */
  readonly addressSpace: string;
  /** The stack's registry. */
  readonly registry: RegistryRef;
}

/** Seconds the verification may take: cloud-init (Docker, Azure CLI) plus retries while the AcrPull grant propagates. */
export const verifyTimeoutSeconds = 1800;

/** NSG priorities: the allow must win over the explicit deny (lower number first, 100-4096). */
export const sshAllowPriority = 100;
export const sshDenyPriority = 4000;

/** The marketplace reference or gallery id for an `image` value. */
export function imageReference(image: string): { publisher?: string; offer?: string; sku?: string; version?: string; id?: string } {
  const alias = imageAliases[image as ImageAlias] as (typeof imageAliases)[ImageAlias] | undefined;
  if (alias) return { publisher: alias.publisher, offer: alias.offer, sku: alias.sku, version: alias.version };
  return { id: image };
}

/**
 * A Linux VM that pulls container images from the stack's registry with a user-assigned identity and
 * no registry password (the hand-made VM-to-ACR flow), with a verification that runs inside the VM through ARM:
 * own resource group, a small network with no inbound SSH unless a source range is given, explicit
 * outbound through a NAT gateway, the identity holding AcrPull on the registry only, cloud-init that
 * installs Docker and the Azure CLI, and a managed run command that logs in with the identity and
 * pulls an image imported into the registry for the purpose.
 */
export class ContainerHost extends pulumi.ComponentResource {
  /** Resource group holding everything here. */
  public readonly resourceGroupName: pulumi.Output<string>;
  /** VM name. */
  public readonly vmName: pulumi.Output<string>;
  /** VM ARM id. */
  public readonly vmId: pulumi.Output<string>;
  /** Private IP of the NIC. */
  public readonly privateIp: pulumi.Output<string | undefined>;
  /** Public IP address when publicIp is on. */
  public readonly publicIp?: pulumi.Output<string | undefined>;
  /** The user-assigned identity the VM pulls with. */
  public readonly identity: UserIdentity;
  /** What the verification printed: state, exit code and its one-line result. */
  public readonly verification: pulumi.Output<{ executionState: string; exitCode: number | undefined; output: string; error: string }>;

  constructor(name: string, args: ContainerHostArgs, opts?: pulumi.ComponentResourceOptions) {
    super("keyless:vm:ContainerHost", name, {}, opts);
    const child = { parent: this };
    const tags = { ...args.tags };
    const { names, location } = args;

    const rg = new ResourceGroup(`${name}-rg`, { resourceGroupName: resourceGroupName(names, "vm"), location, tags }, { ...child, dependsOn: opts?.dependsOn });

    // AcrPull on the registry only: the narrowest scope that lets `docker pull` work.
    this.identity = new UserIdentity(
      `${name}-identity`,
      {
        identityName: scopedName("id", names, "vm"),
        resourceGroupName: rg.name,
        location,
        tags,
        grants: { acrpull: { role: "AcrPull", scope: args.registry.id, description: "Container host VM pulls images (keyless:vm)" } },
      },
      child,
    );

    // Default rules already drop inbound traffic from the internet, but AllowVnetInBound (65000)
    // lets anything in the virtual network (and peered or VPN-connected networks) reach port 22.
    // The explicit deny closes that; the allow, when configured, sits above it.
    const subnet = subnetPrefix(args.addressSpace);
    const sshRules: NetworkSecurityGroupArgs["securityRules"] = [
      ...(args.sshSourceRange
        ? [
            {
              name: "allow-ssh-from-source-range",
              description: "SSH from the configured keyless:vm.sshSourceRange only",
              priority: sshAllowPriority,
              direction: "Inbound",
              access: "Allow",
              protocol: "Tcp",
              sourceAddressPrefix: args.sshSourceRange,
              sourcePortRange: "*",
              // NSGs see the private address even for traffic that came in on a public IP
              // (azure-docs virtual-network/network-security-groups-overview.md, "Security rules").
              destinationAddressPrefix: subnet,
              destinationPortRange: "22",
            },
          ]
        : []),
      {
        name: "deny-ssh",
        description: "No other SSH: use run commands (az vm run-command) instead",
        priority: sshDenyPriority,
        direction: "Inbound",
        access: "Deny",
        protocol: "Tcp",
        sourceAddressPrefix: "*",
        sourcePortRange: "*",
        destinationAddressPrefix: "*",
        destinationPortRange: "22",
      },
    ];
    const nsg = new NetworkSecurityGroup(
      `${name}-nsg`,
      { networkSecurityGroupName: scopedName("nsg", names, "vm"), resourceGroupName: rg.name, location, securityRules: sshRules, tags },
      child,
    );

    // Explicit outbound (apt, packages.microsoft.com, Entra ID, the registry) through a NAT gateway:
    // default outbound access is being retired and subnets created with network API 2025-07-01 or
    // later are private by default (azure-docs virtual-network/ip-services/default-outbound-access.md).
    const natIp = new PublicIPAddress(
      `${name}-nat-pip`,
      {
        publicIpAddressName: scopedName("pip", names, "vm-nat"),
        resourceGroupName: rg.name,
        location,
        sku: { name: "Standard", tier: "Regional" },
        publicIPAllocationMethod: "Static",
        publicIPAddressVersion: "IPv4",
        tags,
      },
      child,
    );
    const nat = new NatGateway(
      `${name}-nat`,
      { natGatewayName: scopedName("ng", names, "vm"), resourceGroupName: rg.name, location, sku: { name: "Standard" }, publicIpAddresses: [{ id: natIp.id }], idleTimeoutInMinutes: 4, tags },
      child,
    );

    // The subnet is its own resource and the VNet names none: since network API 2023-11-01 a VNet
    // PUT without `subnets` keeps the existing ones (pulumi/pulumi-azure-native#611; Azure
    // Networking blog, "Azure Virtual Network now supports updates without subnet property").
    const vnet = new VirtualNetwork(
      `${name}-vnet`,
      { virtualNetworkName: scopedName("vnet", names, "vm"), resourceGroupName: rg.name, location, addressSpace: { addressPrefixes: [args.addressSpace] }, tags },
      child,
    );
    const snet = new Subnet(
      `${name}-snet`,
      {
        subnetName: scopedName("snet", names, "vm"),
        virtualNetworkName: vnet.name,
        resourceGroupName: rg.name,
        addressPrefix: subnet,
        networkSecurityGroup: { id: nsg.id },
        natGateway: { id: nat.id },
        defaultOutboundAccess: false,
      },
      child,
    );

    const pip = args.publicIp
      ? new PublicIPAddress(
          `${name}-pip`,
          {
            publicIpAddressName: scopedName("pip", names, "vm"),
            resourceGroupName: rg.name,
            location,
            // Standard public IPs are closed to inbound traffic until an NSG allows it.
            sku: { name: "Standard", tier: "Regional" },
            publicIPAllocationMethod: "Static",
            publicIPAddressVersion: "IPv4",
            tags,
          },
          child,
        )
      : undefined;

    const nic = new NetworkInterface(
      `${name}-nic`,
      {
        networkInterfaceName: scopedName("nic", names, "vm"),
        resourceGroupName: rg.name,
        location,
        ipConfigurations: [
          {
            name: "ipconfig1",
            primary: true,
            privateIPAllocationMethod: "Dynamic",
            subnet: { id: snet.id },
            ...(pip ? { publicIPAddress: { id: pip.id } } : {}),
          },
        ],
        tags,
      },
      child,
    );

    const customData = Buffer.from(readFileSync(cloudInitPath, "utf8"), "utf8").toString("base64");
    const vm = new VirtualMachine(
      `${name}-vm`,
      {
        vmName: scopedName("vm", names),
        resourceGroupName: rg.name,
        location,
        hardwareProfile: { vmSize: args.size },
        identity: {
          type: args.systemAssignedIdentity ? "SystemAssigned, UserAssigned" : "UserAssigned",
          // azure-native v3 takes the user-assigned identities as a list of ARM ids.
          userAssignedIdentities: [this.identity.id],
        },
        osProfile: {
          computerName: scopedName("vm", names),
          adminUsername: args.adminUsername,
          customData,
          allowExtensionOperations: true, // run commands are delivered by the VM agent's extension channel
          linuxConfiguration: {
            disablePasswordAuthentication: true,
            provisionVMAgent: true,
            ssh: { publicKeys: [{ path: `/home/${args.adminUsername}/.ssh/authorized_keys`, keyData: args.sshPublicKey }] },
          },
        },
        storageProfile: {
          imageReference: imageReference(args.image),
          // The OS disk goes with the VM: nothing is left behind on destroy or replace.
          osDisk: { createOption: "FromImage", caching: "ReadWrite", deleteOption: "Delete", managedDisk: { storageAccountType: "StandardSSD_LRS" } },
        },
        networkProfile: { networkInterfaces: [{ id: nic.id, primary: true }] },
        // Managed boot diagnostics (no storageUri): serial console and screenshots without a storage account.
        diagnosticsProfile: { bootDiagnostics: { enabled: true } },
        tags,
      },
      {
        ...child,
        // ARM refuses to change these after creation (Compute API OSProfile docs; a new SSH key or
        // password setting fails with PropertyChangeNotAllowed "Changing property
        // 'linuxConfiguration.ssh.publicKeys' is not allowed", Azure/azure-quickstart-templates#5442);
        // the name is fixed, so the old VM must go before the new one comes.
        replaceOnChanges: ["osProfile.customData", "osProfile.adminUsername", "osProfile.computerName", "osProfile.linuxConfiguration", "storageProfile.imageReference"],
        deleteBeforeReplace: true,
      },
    );

    // Something to pull: copy the image from MCR into the registry. `--force` overwrites the tag,
    // so a re-run converges (az acr import, learn.microsoft.com/cli/azure/acr#az-acr-import).
    // Runs where `pulumi up` runs, with the deployer's az login (importImage needs Contributor on the registry).
    const subscription = pulumi.output(args.registry.id).apply(subscriptionOf);
    const importCommand = pulumi.interpolate`az acr import --name ${args.registry.name} --subscription ${subscription} --source mcr.microsoft.com/${args.verifyImage} --image ${args.verifyImage} --force`;
    const imported = new local.Command(
      `${name}-import`,
      {
        create: importCommand,
        update: importCommand,
        // Remove what keyless imported; a tag someone already deleted is not an error.
        delete: pulumi.interpolate`if az acr repository show --name ${args.registry.name} --subscription ${subscription} --image ${args.verifyImage} --output none 2>/dev/null; then az acr repository delete --name ${args.registry.name} --subscription ${subscription} --image ${args.verifyImage} --yes; fi`,
        // Another image or tag replaces the command: its delete runs the stored command, which names
        // the old image, before the new one is imported (an update would leave the old tag behind).
        triggers: [args.registry.id, args.verifyImage],
      },
      { ...child, deleteBeforeReplace: true },
    );

    // The check itself, inside the VM through the VM agent: no SSH, no inbound port. Named
    // parameters reach a Linux script as environment variables (run-command-managed.md).
    const runCommand = new VirtualMachineRunCommandByVirtualMachine(
      `${name}-verify`,
      {
        runCommandName: "verify-acr-pull",
        vmName: vm.name,
        resourceGroupName: rg.name,
        location,
        source: { script: readFileSync(verifyScriptPath, "utf8") },
        parameters: [
          { name: "IDENTITY_CLIENT_ID", value: this.identity.clientId },
          { name: "REGISTRY_NAME", value: args.registry.name },
          { name: "REGISTRY_LOGIN_SERVER", value: args.registry.loginServer },
          { name: "VERIFY_IMAGE", value: args.verifyImage },
        ],
        asyncExecution: false,
        timeoutInSeconds: verifyTimeoutSeconds,
        // A failed pull fails `pulumi up` instead of hiding in the instance view.
        treatFailureAsDeploymentFailure: true,
        tags,
      },
      // The grant lives in the identity component: waiting on it waits on the grant. Re-run with
      // `pulumi up --replace` (docs/vm.md): the run command's name is fixed and azure-native refuses to
      // create one that exists ("cannot create already existing resource", provider.go), so the old
      // one goes first (policy/readiness.ts keyless-readiness-rerun-replace).
      { ...child, dependsOn: [imported, this.identity, vm], deleteBeforeReplace: true },
    );

    // The PUT response carries no output; read it back with $expand=instanceView once the command ran.
    const view = getVirtualMachineRunCommandByVirtualMachineOutput(
      { resourceGroupName: rg.name, vmName: vm.name, runCommandName: runCommand.name, expand: "instanceView" },
      { parent: this },
    );
    this.verification = view.instanceView.apply((v) => ({
      executionState: v?.executionState ?? "Unknown",
      exitCode: v?.exitCode,
      output: (v?.output ?? "").trim(),
      error: (v?.error ?? "").trim().split("\n").slice(-5).join("\n"),
    }));

    this.resourceGroupName = rg.name;
    this.vmName = vm.name;
    this.vmId = vm.id;
    this.privateIp = nic.ipConfigurations.apply((c) => c?.[0]?.privateIPAddress);
    this.publicIp = pip?.ipAddress;
    this.registerOutputs({ resourceGroupName: this.resourceGroupName, vmName: this.vmName, vmId: this.vmId, privateIp: this.privateIp, verification: this.verification });
  }
}
