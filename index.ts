import { platform } from "./parts/platform";

// The list of parts. Each part's wiring (config -> component -> outputs) lives in parts/<part>.ts;
// a part the stack does not enable is not even loaded. The stack outputs are what this returns.
export default async () => {
  const { platform: p, outputs } = await platform();
  const { config } = p;
  return {
    ...outputs,
    // Container host VM that pulls from ACR with a user-assigned identity (keyless:vm).
    vm: config.vm?.enabled ? (await import("./parts/vm")).containerHostPart(p) : null,
    // AKS pods that reach Azure with a managed identity (keyless:aks).
    aksCluster: config.aks ? (await import("./parts/aks")).aksPart(p) : null,
    // Arc servers outside Azure that write to Blob and read Key Vault with their identity (keyless:arc).
    arc: config.arc ? (await import("./parts/arc")).arcPart(p) : null,
    // The image gallery shared with another tenant (keyless:gallery).
    gallery: config.gallery ? (await import("./parts/gallery")).galleryPart(p) : null,
  };
};
