import * as pulumi from "@pulumi/pulumi";
import { RoleAssignment } from "@pulumi/azure-native/authorization/roleAssignment";
import { roleAssignmentName } from "../lib/naming";
import { type BuiltInRoleName, roleDefinitionId, roleGuid } from "../lib/roles";
import { SharedByInputs } from "../lib/shared-outputs";

/** Principal kinds a grant can name; managed identities are ServicePrincipal. */
export type PrincipalType = "ServicePrincipal" | "Group" | "User" | "ForeignGroup";

export interface RoleGrantArgs {
  /** ARM id of the narrowest resource that works (a container, a vault, a registry), never wider than needed. */
  readonly scope: pulumi.Input<string>;
  /** Object id of the principal that receives the role. */
  readonly principalId: pulumi.Input<string>;
  /**
   * Always set: for a brand-new managed identity ARM cannot look the principal up until it has
   * replicated, and without principalType the assignment fails with PrincipalNotFound
   * (azure-docs role-based-access-control/role-assignments-template.md, "New service principal").
   */
  readonly principalType: PrincipalType;
  /** Built-in role, from the one role map. */
  readonly role: BuiltInRoleName;
  /** Why the grant exists, shown in the portal's role assignment list. */
  readonly description?: string;
  /**
   * Azure ABAC role assignment condition that narrows the role further (e.g. to a blob path prefix);
   * needs conditionVersion "2.0" (azure-docs role-based-access-control/conditions-format.md).
   */
  readonly condition?: pulumi.Input<string>;
  /** Version of the condition language; "2.0", the only version Azure accepts for new conditions. */
  readonly conditionVersion?: "2.0";
}

/** The subscription id inside an ARM resource id (/subscriptions/<id>/...). */
export function subscriptionOf(scope: string): string {
  const match = /^\/subscriptions\/([^/]+)/i.exec(scope);
  if (!match) throw new Error(`role grant scope ${JSON.stringify(scope)} is not inside a subscription`);
  return match[1];
}

const scopes = new SharedByInputs<pulumi.Output<string>>();
const roleDefinitionIds = new SharedByInputs<pulumi.Output<string>>();

/**
 * The one way this project grants a role. The assignment name is a UUID of (scope, principal, role),
 * the same triple Azure keeps unique, so a re-run or a re-create reuses the name instead of failing
 * with RoleAssignmentExists; deleteBeforeReplace frees the triple before the new one is created.
 */
export function grantRole(name: string, args: RoleGrantArgs, opts?: pulumi.CustomResourceOptions): RoleAssignment {
  const guid = roleGuid(args.role);
  // Grants on the same scope (every Arc server's grant on one container) share its Output and the
  // role definition id derived from it (lib/shared-outputs.ts).
  const scope = scopes.get([args.scope], () => pulumi.output(args.scope));
  return new RoleAssignment(
    name,
    {
      roleAssignmentName: assignmentName(scope, args.principalId, guid),
      scope,
      principalId: args.principalId,
      principalType: args.principalType,
      roleDefinitionId: roleDefinitionIds.get([scope, args.role], () => scope.apply((s) => roleDefinitionId(subscriptionOf(s), args.role))),
      description: args.description,
      ...(args.condition === undefined ? {} : { condition: args.condition, conditionVersion: args.conditionVersion ?? "2.0" }),
    },
    pulumi.mergeOptions(opts, { deleteBeforeReplace: true }),
  );
}

/**
 * The assignment name as an Output: one apply on the principal with the scope's apply inside, not
 * pulumi.all([scope, principal]).apply(...), which wraps each Output in two more before combining
 * them (@pulumi/pulumi output.js, outputRec): six Outputs per grant instead of two, each a dozen
 * promises held until the principal exists, i.e. for a whole run on a fleet of Arc servers.
 *
 * What the engine records is the same wherever it is used. In `pulumi up` every value is known before
 * the assignment registers, so the inner Output's resources join the name's dependencies (output.js
 * liftInnerOutput). Only in a preview with the principal unknown (its identity not created yet) does
 * the inner apply not run, so the name's own property dependencies name the principal's resources
 * alone; the assignment still depends on the scope's resource through `scope`, the same property
 * dependency as before, which is what ordering and replacement go by
 * (test/role-assignment.test.ts, "the name's dependencies").
 */
function assignmentName(scope: pulumi.Output<string>, principalId: pulumi.Input<string>, guid: string): pulumi.Output<string> {
  // pulumi.output() would wrap an Output in two more; only a plain id needs wrapping.
  const principal = pulumi.Output.isInstance(principalId) ? principalId : pulumi.output(principalId);
  return principal.apply((p) => scope.apply((s) => roleAssignmentName(s, p, guid)));
}
