// Pulumi's wire format for special values in resource inputs and outputs: an object whose sigKey
// field names what it is. The SDK's own constants (@pulumi/pulumi runtime/rpc), under short names,
// shared by the plan's engine and the benchmark's replay floor.
export { specialResourceSig as resourceSig, specialSecretSig as secretSig, specialSigKey as sigKey } from "@pulumi/pulumi/runtime/rpc";
