import * as pulumi from "@pulumi/pulumi";
import { UserAssignedIdentity } from "@pulumi/azure-native/managedidentity/userAssignedIdentity";
import type { BuiltInRoleName } from "../lib/roles";
import { grantRole } from "./role-assignment";

/** One role this identity holds, keyed by a stable string so adding a grant never replaces another. */
export interface IdentityGrant {
  /** Built-in role. */
  readonly role: BuiltInRoleName;
  /** Narrowest ARM scope that works. */
  readonly scope: pulumi.Input<string>;
  /** Why, shown in the portal. */
  readonly description?: string;
}

export interface UserIdentityArgs {
  /** Azure name of the identity (id-<workload>-<env>-<purpose>). */
  readonly identityName: string;
  /** Resource group that holds it. */
  readonly resourceGroupName: pulumi.Input<string>;
  /** Azure region. */
  readonly location: string;
  /** Tags. */
  readonly tags: Readonly<Record<string, string>>;
  /** Roles it holds, by stable key. */
  readonly grants?: Readonly<Record<string, IdentityGrant>>;
}

/** A user-assigned managed identity and the roles it holds. */
export class UserIdentity extends pulumi.ComponentResource {
  /** ARM id, to attach to a VM or a pod identity. */
  public readonly id: pulumi.Output<string>;
  /** Object id of its service principal: what role assignments name. */
  public readonly principalId: pulumi.Output<string>;
  /** Application (client) id: what a workload asks a token for. */
  public readonly clientId: pulumi.Output<string>;
  /** The underlying identity resource. */
  public readonly identity: UserAssignedIdentity;

  constructor(name: string, args: UserIdentityArgs, opts?: pulumi.ComponentResourceOptions) {
    super("keyless:identity:UserIdentity", name, {}, opts);
    this.identity = new UserAssignedIdentity(
      `${name}-id`,
      { resourceName: args.identityName, resourceGroupName: args.resourceGroupName, location: args.location, tags: { ...args.tags } },
      { parent: this, dependsOn: opts?.dependsOn },
    );
    for (const [key, grant] of Object.entries(args.grants ?? {}).sort(([a], [b]) => a.localeCompare(b))) {
      grantRole(
        `${name}-${key}`,
        { scope: grant.scope, principalId: this.identity.principalId, principalType: "ServicePrincipal", role: grant.role, description: grant.description },
        { parent: this },
      );
    }
    this.id = this.identity.id;
    this.principalId = this.identity.principalId;
    this.clientId = this.identity.clientId;
    this.registerOutputs({ id: this.id, principalId: this.principalId, clientId: this.clientId });
  }
}
