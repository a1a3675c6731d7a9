import * as pulumi from "@pulumi/pulumi";
import { RegistrationDefinition } from "@pulumi/azure-native/managedservices/registrationDefinition";
import { RegistrationAssignment } from "@pulumi/azure-native/managedservices/registrationAssignment";
import { deterministicUuid } from "../lib/naming";
import { type BuiltInRoleName, roleGuid } from "../lib/roles";

export interface LighthouseAuthorization {
  /** Object id of a user, group or service principal in the managing tenant. */
  readonly principalId: string;
  /** Shown to the customer under Service providers. */
  readonly principalIdDisplayName: string;
  /** Built-in role (already checked against Lighthouse's rules in lib/config/gallery.ts). */
  readonly role: BuiltInRoleName;
  /** Only with User Access Administrator: roles it may assign to managed identities. */
  readonly delegatedRoles?: readonly BuiltInRoleName[];
}

export interface LighthouseEligibleAuthorization extends Omit<LighthouseAuthorization, "delegatedRoles"> {
  /** ISO 8601 maximum activation duration (PT30M-PT8H). */
  readonly maximumActivationDuration: string;
  /** Azure (MFA required) or None. */
  readonly multiFactorAuth: "Azure" | "None";
}

export interface LighthouseDelegationArgs {
  /** Subscription that holds the delegated resource group (the definition lives at its scope). */
  readonly subscriptionId: pulumi.Input<string>;
  /** The tenant this stack deploys into; the managing tenant must differ (checked before the definition is sent). */
  readonly customerTenantId: pulumi.Input<string>;
  /** ARM id of the resource group to delegate (the gallery's own group). */
  readonly scope: pulumi.Input<string>;
  /** Name of that resource group, a stable input of the deterministic ids. */
  readonly scopeName: string;
  /** Offer name shown on both sides. */
  readonly offerName: string;
  /** Offer description. */
  readonly description?: string;
  /** The managing tenant. */
  readonly managedByTenantId: string;
  /** Permanent authorizations. */
  readonly authorizations: readonly LighthouseAuthorization[];
  /** Just-in-time authorizations. */
  readonly eligibleAuthorizations: readonly LighthouseEligibleAuthorization[];
  /** Add the Managed Services Registration assignment Delete Role for the first authorization's principal. */
  readonly allowRemovalByManagingTenant: boolean;
}

/**
 * The deterministic registration definition id: same subscription, group and managing tenant, same
 * id. Authorization and offer-name changes update the definition in place; another managing tenant
 * is a new offer, as Microsoft requires (azure-docs lighthouse/how-to/update-delegation.md).
 */
export function registrationDefinitionGuid(subscriptionId: string, scopeName: string, managedByTenantId: string): string {
  return deterministicUuid("lighthouse-definition", subscriptionId.toLowerCase(), scopeName.toLowerCase(), managedByTenantId.toLowerCase());
}

/** The deterministic registration assignment id, from the definition and the scope it is assigned to. */
export function registrationAssignmentGuid(definitionGuid: string, scopeName: string): string {
  return deterministicUuid("lighthouse-assignment", definitionGuid, scopeName.toLowerCase());
}

/** One authorization as the registration definition takes it. */
export interface AuthorizationInput {
  readonly principalId: string;
  readonly principalIdDisplayName: string;
  readonly roleDefinitionId: string;
  readonly delegatedRoleDefinitionIds?: string[];
}

/** Lighthouse's authorization objects; roleDefinitionId is the bare role GUID, as Lighthouse expects. */
export function lighthouseAuthorizations(args: Pick<LighthouseDelegationArgs, "authorizations" | "allowRemovalByManagingTenant">): AuthorizationInput[] {
  const list: AuthorizationInput[] = args.authorizations.map((a) => ({
    principalId: a.principalId,
    principalIdDisplayName: a.principalIdDisplayName,
    // A bare GUID: the Lighthouse ARM templates and the REST examples pass the built-in role's GUID,
    // not a /providers/Microsoft.Authorization/roleDefinitions/ id (azure-docs
    // lighthouse/how-to/onboard-customer.md; Azure/Azure-Lighthouse-samples; the hand-made cross-tenant gallery flow).
    roleDefinitionId: roleGuid(a.role),
    ...(a.delegatedRoles ? { delegatedRoleDefinitionIds: a.delegatedRoles.map(roleGuid) } : {}),
  }));
  const first = args.authorizations[0];
  if (args.allowRemovalByManagingTenant && first !== undefined) {
    // Without this role only the customer tenant can remove the delegation
    // (azure-docs lighthouse/how-to/remove-delegation.md); the hand-made flow adds it the same way.
    list.push({ principalId: first.principalId, principalIdDisplayName: first.principalIdDisplayName, roleDefinitionId: roleGuid("Managed Services Registration assignment Delete Role") });
  }
  return list;
}

/**
 * An Azure Lighthouse delegation of one resource group to a managing tenant: a registration
 * definition at subscription scope and its assignment on the group. The assignment references the
 * definition, so Pulumi creates it after and deletes it before the definition.
 */
export class LighthouseDelegation extends pulumi.ComponentResource {
  /** ARM id of the registration definition. */
  public readonly definitionId: pulumi.Output<string>;
  /** ARM id of the registration assignment. */
  public readonly assignmentId: pulumi.Output<string>;
  /** The definition's GUID (registrationDefinitionId). */
  public readonly definitionGuid: pulumi.Output<string>;
  /** The assignment's GUID (registrationAssignmentId). */
  public readonly assignmentGuid: pulumi.Output<string>;

  constructor(name: string, args: LighthouseDelegationArgs, opts?: pulumi.ComponentResourceOptions) {
    super("keyless:gallery:LighthouseDelegation", name, {}, opts);
    const definitionGuid = pulumi.output(args.subscriptionId).apply((s) => registrationDefinitionGuid(s, args.scopeName, args.managedByTenantId));
    // lib/config refuses the stack's own tenant when azure-native:tenantId is set; otherwise the
    // signed-in tenant is only known here. Failing inside this input stops the definition before
    // it is sent to Azure (preview and up both fail, nothing is created).
    const managedByTenantId = pulumi.output(args.customerTenantId).apply((own) => {
      if (own.toLowerCase() === args.managedByTenantId.toLowerCase()) {
        throw new Error(
          `keyless:gallery.sharing.lighthouse.managedByTenantId: ${JSON.stringify(args.managedByTenantId)} is the tenant this stack deploys into; Lighthouse delegates to another (managing) tenant, use sharing.rbac inside one tenant`,
        );
      }
      return args.managedByTenantId;
    });

    const definition = new RegistrationDefinition(
      `${name}-definition`,
      {
        scope: pulumi.interpolate`/subscriptions/${args.subscriptionId}`,
        registrationDefinitionId: definitionGuid,
        properties: {
          registrationDefinitionName: args.offerName,
          description: args.description,
          managedByTenantId,
          authorizations: lighthouseAuthorizations(args),
          eligibleAuthorizations:
            args.eligibleAuthorizations.length > 0
              ? args.eligibleAuthorizations.map((e) => ({
                  principalId: e.principalId,
                  principalIdDisplayName: e.principalIdDisplayName,
                  roleDefinitionId: roleGuid(e.role),
                  justInTimeAccessPolicy: { multiFactorAuthProvider: e.multiFactorAuth, maximumActivationDuration: e.maximumActivationDuration },
                }))
              : undefined,
        },
      },
      // Waits for the Microsoft.ManagedServices registration the caller passes in. A new id (another
      // managing tenant) must not overlap the old delegation: "remove access to the previous
      // delegation before deploying the new offer" (azure-docs lighthouse/how-to/update-delegation.md).
      { parent: this, dependsOn: opts?.dependsOn, deleteBeforeReplace: true },
    );

    const assignmentGuid = definitionGuid.apply((d) => registrationAssignmentGuid(d, args.scopeName));
    const assignment = new RegistrationAssignment(
      `${name}-assignment`,
      {
        scope: args.scope,
        registrationAssignmentId: assignmentGuid,
        // The fully qualified definition id (the REST spec's RegistrationAssignmentProperties).
        properties: { registrationDefinitionId: definition.id },
      },
      { parent: this, deleteBeforeReplace: true },
    );

    this.definitionId = definition.id;
    this.assignmentId = assignment.id;
    this.definitionGuid = definitionGuid;
    this.assignmentGuid = assignmentGuid;
    this.registerOutputs({ definitionId: this.definitionId, assignmentId: this.assignmentId });
  }
}
