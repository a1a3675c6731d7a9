import type { PolicyConfigSchema, ResourceValidationPolicy } from "@pulumi/policy";
import { type Rule, rules } from "./rules";

// The rules of ./rules.ts as @pulumi/policy resource policies. Kept apart from ./index.ts because
// constructing a PolicyPack starts the analyzer's gRPC server; tests import this module instead.

/** Policy pack config of one policy (what `--policy-pack-config` holds under the policy's name). */
interface PolicyConfig {
  readonly production?: boolean;
  readonly allowSubscriptionScopeGrants?: readonly string[];
}

function configSchema(rule: Rule): PolicyConfigSchema | undefined {
  if (!rule.config) return undefined;
  return { properties: Object.fromEntries(Object.entries(rule.config).map(([k, v]) => [k, { ...v }])) } as PolicyConfigSchema;
}

export function toPolicy(rule: Rule): ResourceValidationPolicy {
  return {
    name: rule.name,
    description: rule.description,
    enforcementLevel: "mandatory",
    configSchema: configSchema(rule),
    validateResource: (args, reportViolation) => {
      if (!rule.types.includes(args.type)) return;
      const config = args.getConfig<PolicyConfig>();
      const context = {
        name: args.name,
        protect: args.opts.protect === true,
        production: config.production === true,
        allowSubscriptionScopeGrants: config.allowSubscriptionScopeGrants ?? [],
      };
      for (const message of rule.check(args.type, args.props, context)) reportViolation(message);
    },
  };
}

export const policies: ResourceValidationPolicy[] = rules.map(toPolicy);
