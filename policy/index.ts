import { PolicyPack } from "@pulumi/policy";
import { policies } from "./policies";
import { readinessPolicies } from "./readiness";

// pulumi preview --policy-pack policy --policy-pack-config policy/config/<stack>.json
// Every rule is mandatory: a violation stops the preview or update before anything changes.
// Readiness rules (./readiness.ts) are stack validations: they read the dependency graph.
new PolicyPack("keyless", { policies: [...policies, ...readinessPolicies] });
