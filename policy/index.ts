import { PolicyPack } from "@pulumi/policy";
import { policies } from "./policies";

// pulumi preview --policy-pack policy --policy-pack-config policy/config/<stack>.json
// Every rule is mandatory: a violation stops the preview or update before anything changes.
new PolicyPack("keyless", { policies });
