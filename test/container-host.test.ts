import { readFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { cloudInitPath, sshAllowPriority, sshDenyPriority, verifyScriptPath } from "../components/container-host";
import type { Plan, PlannedResource } from "../tools/plan/engine";
import { mockSubscriptionId } from "../tools/plan/mocks";
import { ofType, planProgram, planStack, resource, stackConfig, transitiveDependencies, withConfig } from "./support/harness";

// The container host as `pulumi up -s dev` registers it, plus variants: exact security inputs.

const T = {
  vm: "azure-native:compute:VirtualMachine",
  run: "azure-native:compute:VirtualMachineRunCommandByVirtualMachine",
  nsg: "azure-native:network:NetworkSecurityGroup",
  nic: "azure-native:network:NetworkInterface",
  subnet: "azure-native:network:Subnet",
  pip: "azure-native:network:PublicIPAddress",
  grant: "azure-native:authorization:RoleAssignment",
  identity: "azure-native:managedidentity:UserAssignedIdentity",
  command: "command:local:Command",
};
const sub = `/subscriptions/${mockSubscriptionId}`;
const vmRg = `${sub}/resourceGroups/rg-keyless-dev-vm`;
const identityId = `${vmRg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-keyless-dev-vm`;

const dev = stackConfig("dev");
const devVm = JSON.parse(dev.values["keyless:vm"]) as Record<string, unknown>;
const planVm = (changes: Record<string, unknown>) => planProgram(withConfig(dev.values, { "keyless:vm": { ...devVm, ...changes } }));

let plan: Plan;
let open: Plan;
beforeAll(async () => {
  plan = await planStack("dev");
  open = await planVm({ sshSourceRange: "203.0.113.7/32", publicIp: true, systemAssignedIdentity: true });
});

type Rule = { name: string; priority: number; direction: string; access: string; protocol: string; sourceAddressPrefix: string; destinationPortRange: string };
const rules = (p: Plan) => resource(p, T.nsg, "vm-nsg").inputs.securityRules as Rule[];
const coversSsh = (r: Rule) => r.destinationPortRange === "22" || r.destinationPortRange === "*";

describe("the VM", () => {
  it("has only the user-assigned identity attached, no system-assigned one", () => {
    expect(resource(plan, T.vm, "vm-vm").inputs.identity).toEqual({ type: "UserAssigned", userAssignedIdentities: [identityId] });
  });

  it("adds a system-assigned identity only when asked", () => {
    expect(resource(open, T.vm, "vm-vm").inputs.identity).toEqual({ type: "SystemAssigned, UserAssigned", userAssignedIdentities: [identityId] });
  });

  it("disables password authentication and installs the configured public key", () => {
    const os = resource(plan, T.vm, "vm-vm").inputs.osProfile as Record<string, any>;
    expect(os).not.toHaveProperty("adminPassword");
    expect(os.adminUsername).toBe("azureuser");
    expect(os.linuxConfiguration).toEqual({
      disablePasswordAuthentication: true,
      provisionVMAgent: true,
      ssh: { publicKeys: [{ path: "/home/azureuser/.ssh/authorized_keys", keyData: devVm.sshPublicKey }] },
    });
  });

  it("is replaced, the old one deleted first, when an input ARM cannot change is changed (a new SSH key among them)", () => {
    const vm = resource(plan, T.vm, "vm-vm");
    expect(vm.deleteBeforeReplace).toBe(true);
    expect(vm.replaceOnChanges).toEqual(["osProfile.adminUsername", "osProfile.computerName", "osProfile.customData", "osProfile.linuxConfiguration", "storageProfile.imageReference"]);
  });

  it("boots cloud-init from scripts/vm/cloud-init.yaml", () => {
    const os = resource(plan, T.vm, "vm-vm").inputs.osProfile as Record<string, string>;
    expect(Buffer.from(os.customData, "base64").toString("utf8")).toBe(readFileSync(cloudInitPath, "utf8"));
  });

  it("runs Canonical's Ubuntu 24.04 on a managed disk that is deleted with it, with managed boot diagnostics", () => {
    const vm = resource(plan, T.vm, "vm-vm").inputs as Record<string, any>;
    expect(vm.hardwareProfile).toEqual({ vmSize: "Standard_B2s" });
    expect(vm.storageProfile.imageReference).toEqual({ publisher: "Canonical", offer: "ubuntu-24_04-lts", sku: "server", version: "latest" });
    expect(vm.storageProfile.osDisk).toEqual({ createOption: "FromImage", caching: "ReadWrite", deleteOption: "Delete", managedDisk: { storageAccountType: "StandardSSD_LRS" } });
    expect(vm.diagnosticsProfile).toEqual({ bootDiagnostics: { enabled: true } });
    expect(vm.resourceGroupName).toBe("rg-keyless-dev-vm");
  });

  it("boots a gallery image by id", async () => {
    const id = `${sub}/resourceGroups/rg-img/providers/Microsoft.Compute/galleries/gal_keyless_dev/images/docker-host/versions/1.0.0`;
    const p = await planVm({ image: id });
    expect((resource(p, T.vm, "vm-vm").inputs.storageProfile as Record<string, unknown>).imageReference).toEqual({ id });
  });
});

describe("the identity's grant", () => {
  it("is AcrPull on the registry only, to the identity as a ServicePrincipal", () => {
    const grants = ofType(plan, T.grant).filter((g) => g.name.startsWith("vm-"));
    expect(grants.map((g) => g.name)).toEqual(["vm-identity-acrpull"]);
    const identity = resource(plan, T.identity, "vm-identity-id");
    expect(grants[0].inputs).toMatchObject({
      scope: `${sub}/resourceGroups/rg-keyless-dev-shared/providers/Microsoft.ContainerRegistry/registries/${(plan.outputs.registry as { name: string }).name}`,
      roleDefinitionId: `${sub}/providers/Microsoft.Authorization/roleDefinitions/7f951dda-4ed3-4680-a7ca-43fe172d538d`,
      principalType: "ServicePrincipal",
      principalId: identity.outputs.principalId,
    });
  });
});

describe("the network", () => {
  it("allows no inbound SSH from the internet, and denies SSH explicitly", () => {
    const r = rules(plan);
    const allows = r.filter((x) => x.direction === "Inbound" && x.access === "Allow" && coversSsh(x));
    expect(allows).toEqual([]);
    expect(r).toContainEqual(expect.objectContaining({ name: "deny-ssh", access: "Deny", direction: "Inbound", sourceAddressPrefix: "*", destinationPortRange: "22", priority: sshDenyPriority }));
  });

  it("allows SSH from the configured range only, above the deny", () => {
    const allows = rules(open).filter((x) => x.direction === "Inbound" && x.access === "Allow" && coversSsh(x));
    expect(allows).toEqual([expect.objectContaining({ sourceAddressPrefix: "203.0.113.7/32", destinationAddressPrefix: "10.60.0.0/24", protocol: "Tcp", priority: sshAllowPriority })]);
    expect(sshAllowPriority).toBeLessThan(sshDenyPriority);
    for (const x of allows) expect(["*", "Internet", "0.0.0.0/0", "Any"]).not.toContain(x.sourceAddressPrefix);
  });

  it("puts the NSG and a NAT gateway on the subnet, with no implicit outbound access", () => {
    const s = resource(plan, T.subnet, "vm-snet").inputs as Record<string, any>;
    expect(s.addressPrefix).toBe("10.60.0.0/24");
    expect(s.defaultOutboundAccess).toBe(false);
    expect(s.networkSecurityGroup.id).toBe(`${vmRg}/providers/Microsoft.Network/networkSecurityGroups/nsg-keyless-dev-vm`);
    expect(s.natGateway.id).toBe(`${vmRg}/providers/Microsoft.Network/natGateways/ng-keyless-dev-vm`);
  });

  it("gives the NIC no public IP unless asked", () => {
    const ipConfig = (p: Plan) => (resource(p, T.nic, "vm-nic").inputs.ipConfigurations as Record<string, any>[])[0];
    expect(ipConfig(plan)).not.toHaveProperty("publicIPAddress");
    expect(ofType(plan, T.pip).map((x) => x.name)).toEqual(["vm-nat-pip"]);
    expect(ipConfig(open).publicIPAddress.id).toBe(`${vmRg}/providers/Microsoft.Network/publicIPAddresses/pip-keyless-dev-vm`);
    expect(resource(open, T.pip, "vm-pip").inputs).toMatchObject({ sku: { name: "Standard", tier: "Regional" }, publicIPAllocationMethod: "Static" });
  });
});

describe("the verification", () => {
  const registryName = () => (plan.outputs.registry as { name: string }).name;

  it("imports the verify image from MCR idempotently", () => {
    const imp = resource(plan, T.command, "vm-import").inputs;
    expect(imp.create).toBe(`az acr import --name ${registryName()} --subscription ${mockSubscriptionId} --source mcr.microsoft.com/hello-world:latest --image hello-world:latest --force`);
    expect(imp.update).toBe(imp.create);
    // Another image or tag replaces the command, so the old tag is deleted (with the stored command) first.
    const cmd = resource(plan, T.command, "vm-import");
    expect(imp.triggers).toEqual([resource(plan, "azure-native:containerregistry:Registry", "registry-cr").outputs.id, "hello-world:latest"]);
    expect(cmd.deleteBeforeReplace).toBe(true);
  });

  it("runs scripts/vm/verify-acr-pull.sh synchronously with the identity's client id, the registry and the image", () => {
    const run = resource(plan, T.run, "vm-verify");
    const clientId = resource(plan, T.identity, "vm-identity-id").outputs.clientId;
    expect(run.inputs).toMatchObject({
      runCommandName: "verify-acr-pull",
      vmName: "vm-keyless-dev",
      resourceGroupName: "rg-keyless-dev-vm",
      source: { script: readFileSync(verifyScriptPath, "utf8") },
      parameters: [
        { name: "IDENTITY_CLIENT_ID", value: clientId },
        { name: "REGISTRY_NAME", value: registryName() },
        { name: "REGISTRY_LOGIN_SERVER", value: `${registryName()}.azurecr.io` },
        { name: "VERIFY_IMAGE", value: "hello-world:latest" },
      ],
      asyncExecution: false,
      treatFailureAsDeploymentFailure: true,
      timeoutInSeconds: 1800,
    });
    expect(run.inputs).not.toHaveProperty("protectedParameters");
  });

  it("can be re-run with pulumi up --replace: the old run command of the same name goes first", () => {
    expect(resource(plan, T.run, "vm-verify").deleteBeforeReplace).toBe(true);
  });

  it("waits for the import, the AcrPull grant and the VM", () => {
    const deps = transitiveDependencies(plan, resource(plan, T.run, "vm-verify").urn);
    const urn = (r: PlannedResource) => r.urn;
    expect(deps).toContain(urn(resource(plan, T.command, "vm-import")));
    expect(deps).toContain(urn(resource(plan, T.grant, "vm-identity-acrpull")));
    expect(deps).toContain(urn(resource(plan, T.vm, "vm-vm")));
  });

  it("exports what the script printed inside the VM", () => {
    const out = plan.outputs.vm as { verification: { executionState: string; exitCode: number; output: string }; privateIp: string };
    expect(out.verification).toMatchObject({ executionState: "Succeeded", exitCode: 0 });
    expect(out.verification.output).toMatch(new RegExp(`^verify: OK pulled ${registryName()}\\.azurecr\\.io/hello-world:latest \\(sha256:[0-9a-f]{64}\\) with identity [0-9a-f-]{36} \\(no registry password\\)$`));
    expect(out.privateIp).toBe("10.60.0.4");
  });
});

describe("names at the config limits (workload 10, environment 8 characters)", () => {
  it("are legal for every Azure type (resource-name-rules.md)", async () => {
    const p = await planProgram(withConfig(dev.values, { "keyless:workload": "abcdefghij", "keyless:environment": "abcdefgh" }));
    const name = (type: string, key: string) => String(ofType(p, type)[0].inputs[key]);
    // Linux computer name: 1-64, letters, digits and hyphens; VM resource: 1-64.
    expect(name(T.vm, "vmName")).toMatch(/^[a-z0-9][a-z0-9-]{0,62}[a-z0-9]$/);
    expect((ofType(p, T.vm)[0].inputs.osProfile as { computerName: string }).computerName).toMatch(/^[a-z0-9][a-z0-9-]{0,62}[a-z0-9]$/);
    // Network resources: 1-80, alphanumerics, underscores, periods, hyphens; start alphanumeric, end alphanumeric or underscore.
    for (const [type, key] of [
      [T.nsg, "networkSecurityGroupName"],
      [T.nic, "networkInterfaceName"],
      [T.subnet, "subnetName"],
      ["azure-native:network:VirtualNetwork", "virtualNetworkName"],
      ["azure-native:network:NatGateway", "natGatewayName"],
      [T.pip, "publicIpAddressName"],
    ]) {
      expect(name(type, key), type).toMatch(/^[a-zA-Z0-9][\w.-]{0,78}\w$/);
    }
    // User-assigned identity: 3-128, alphanumerics, hyphens, underscores, starting alphanumeric.
    expect(name(T.identity, "resourceName")).toMatch(/^[a-zA-Z0-9][\w-]{2,127}$/);
    expect(name(T.vm, "resourceGroupName")).toBe("rg-abcdefghij-abcdefgh-vm");
  });
});

describe("disabled", () => {
  it("builds nothing of the VM and exports no vm output", async () => {
    const p = await planVm({ enabled: false });
    expect(p.resources.filter((r) => r.urn.includes("keyless:vm:ContainerHost") || r.type.startsWith("azure-native:compute:VirtualMachine") || r.type.startsWith("azure-native:network:"))).toEqual([]);
    expect(p.outputs.vm ?? null).toBeNull();
  });
});
