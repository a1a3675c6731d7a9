import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { root } from "./support/harness";

// scripts/aks/register-feature.sh and wait-for-cluster-access.sh run for real against stub
// az / kubectl / kubelogin that record their calls and answer by call count.

function stubs(tools: Record<string, string>): { dir: string; log: string } {
  const dir = mkdtempSync(join(tmpdir(), "aks-ready-"));
  const log = join(dir, "calls");
  writeFileSync(log, "");
  for (const [name, body] of Object.entries(tools)) {
    writeFileSync(join(dir, name), `#!/usr/bin/env bash\necho "${name} $*" >> ${log}\nn=$(grep -c '^${name} ' ${log})\n${body}\n`);
    chmodSync(join(dir, name), 0o755);
  }
  return { dir, log };
}

function run(script: string, tools: Record<string, string>, env: Record<string, string>) {
  const { dir, log } = stubs(tools);
  const r = spawnSync("bash", ["-c", env.PREFIX ? `${env.PREFIX}\n${readFileSync(join(root, script), "utf8")}` : readFileSync(join(root, script), "utf8")], {
    encoding: "utf8",
    env: { PATH: `${dir}:/usr/bin:/bin`, POLL_SECONDS: "0", ...env },
  });
  return { ...r, calls: readFileSync(log, "utf8").split("\n").filter(Boolean) };
}

describe("register-feature.sh", () => {
  const script = "scripts/aks/register-feature.sh";
  const env = { SUBSCRIPTION_ID: "s1", FEATURE_NAMESPACE: "Microsoft.ContainerService", FEATURE_NAME: "EnablePodIdentityPreview" };

  it("is shellcheck-clean", () => {
    expect(spawnSync("shellcheck", [join(root, script)], { encoding: "utf8" }).stdout).toBe("");
  });

  it("registers, polls until Registered, then re-registers the provider", () => {
    // feature show: NotRegistered, Registering, Registering, Registered.
    const r = run(script, { az: 'if [ "$1 $2" = "feature show" ]; then case $(grep -c "feature show" "$(dirname "$0")/calls") in 1) echo NotRegistered;; 2|3) echo Registering;; *) echo Registered;; esac; fi' }, env);
    expect(r.status).toBe(0);
    expect(r.calls).toEqual([
      "az feature show --subscription s1 --namespace Microsoft.ContainerService --name EnablePodIdentityPreview --query properties.state --output tsv",
      "az feature register --subscription s1 --namespace Microsoft.ContainerService --name EnablePodIdentityPreview --output none",
      ...Array(3).fill("az feature show --subscription s1 --namespace Microsoft.ContainerService --name EnablePodIdentityPreview --query properties.state --output tsv"),
      "az provider register --namespace Microsoft.ContainerService --subscription s1 --wait",
    ]);
    expect(r.stdout).toContain("register-feature: Microsoft.ContainerService/EnablePodIdentityPreview Registered");
  });

  it("is idempotent: an already Registered feature is not registered again (and never unregistered)", () => {
    const r = run(script, { az: 'if [ "$1 $2" = "feature show" ]; then echo Registered; fi' }, env);
    expect(r.status).toBe(0);
    expect(r.calls.map((c) => c.split(" ").slice(0, 3).join(" "))).toEqual(["az feature show", "az provider register"]);
    expect(r.calls.join("\n")).not.toContain("unregister");
  });

  it("gives up after the bounded wait with a clear message", () => {
    const r = run(script, { az: 'if [ "$1 $2" = "feature show" ]; then echo Pending; fi' }, { ...env, TIMEOUT_SECONDS: "1", POLL_SECONDS: "1" });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("register-feature: Microsoft.ContainerService/EnablePodIdentityPreview is still Pending after 1s (a feature that needs approval stays Pending)");
    expect(r.calls.join("\n")).not.toContain("provider register");
  });

  it("fails on an az error instead of waiting", () => {
    const r = run(script, { az: 'echo "AuthorizationFailed" >&2; exit 1' }, env);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("AuthorizationFailed");
    expect(r.calls).toHaveLength(1);
  });
});

describe("wait-for-cluster-access.sh", () => {
  const script = "scripts/aks/wait-for-cluster-access.sh";
  const env = { KUBECONFIG_DATA: "apiVersion: v1\nkind: Config\n", PREFIX: "NAMESPACE='demo'" };

  it("is shellcheck-clean", () => {
    expect(spawnSync("shellcheck", [join(root, script)], { encoding: "utf8" }).stdout).toBe("");
  });

  it("asks the cluster until the deployer's grant works, with the kubeconfig in an owner-only file", () => {
    // 403 twice (Azure RBAC still propagating), then yes to both questions.
    const kubectl = 'f="$2"; [ "$(stat -c %a "$f")" = 600 ] || { echo "kubeconfig mode $(stat -c %a "$f")" >&2; exit 9; }\nif [ "$n" -le 2 ]; then echo no; exit 1; fi\necho yes';
    const r = run(script, { kubectl, kubelogin: "" }, env);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("cluster-access: the deployer may manage the cluster (attempt 3)");
    const asks = r.calls.filter((c) => c.startsWith("kubectl")).map((c) => c.replace(/--kubeconfig \S+/, "--kubeconfig F"));
    expect(asks).toEqual([
      "kubectl --kubeconfig F auth can-i create namespaces",
      "kubectl --kubeconfig F auth can-i create namespaces",
      "kubectl --kubeconfig F auth can-i create namespaces",
      "kubectl --kubeconfig F auth can-i create pods --namespace demo",
    ]);
    expect(r.calls.join("\n")).not.toContain("kind: Config");
  });

  it("times out with a message that says what to check and how to re-run", () => {
    const r = run(script, { kubectl: 'echo "Error from server (Forbidden): selfsubjectaccessreviews is forbidden" >&2; exit 1', kubelogin: "" }, { ...env, TIMEOUT_SECONDS: "1", POLL_SECONDS: "1" });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("cluster-access: the deployer still cannot manage the cluster after 1s (last answer: Error from server (Forbidden)");
    expect(r.stderr).toContain("Azure Kubernetes Service RBAC Cluster Admin");
    expect(r.stderr).toContain("run pulumi up again");
  });

  it("refuses to start without kubelogin or its inputs", () => {
    const noKubelogin = run(script, { kubectl: "echo yes" }, env);
    expect(noKubelogin.status).toBe(2);
    expect(noKubelogin.stderr).toContain("cluster-access: kubelogin is not installed (az aks install-cli installs both)");
    const noNamespace = run(script, { kubectl: "echo yes", kubelogin: "" }, { KUBECONFIG_DATA: "x" });
    expect(noNamespace.status).toBe(2);
    expect(noNamespace.stderr).toContain("cluster-access: KUBECONFIG_DATA and NAMESPACE must be set");
  });
});

describe("add-pod-identity.sh (the add-on's binding, made after the cluster)", () => {
  const script = "scripts/aks/add-pod-identity.sh";
  const env = { SUBSCRIPTION_ID: "s1", RESOURCE_GROUP: "rg1", CLUSTER_NAME: "aks1", POD_IDENTITY_NAMESPACE: "demo", POD_IDENTITY_NAME: "keyless-demo", IDENTITY_RESOURCE_ID: "/subscriptions/s1/id1" };
  const show = "az aks show --subscription s1 --resource-group rg1 --name aks1 --query length(podIdentityProfile.userAssignedIdentities[?namespace=='demo' && name=='keyless-demo'] || `[]`) --output tsv";
  const bound = (n: string) => ({ az: `if [ "$1 $2" = "aks show" ]; then echo ${n}; fi` });

  it("is shellcheck-clean", () => {
    expect(spawnSync("shellcheck", [join(root, script)], { encoding: "utf8" }).stdout).toBe("");
  });

  it("binds the identity with az aks pod-identity add when it is not bound", () => {
    const r = run(script, bound("0"), { ...env, PREFIX: "set -- add" });
    expect(r.status).toBe(0);
    expect(r.calls).toEqual([
      show,
      "az extension add --name aks-preview --upgrade --yes --only-show-errors",
      "az aks pod-identity add --subscription s1 --resource-group rg1 --cluster-name aks1 --namespace demo --name keyless-demo --binding-selector keyless-demo --identity-resource-id /subscriptions/s1/id1 --output none --only-show-errors",
    ]);
    expect(r.stdout.trim()).toBe("add-pod-identity: bound demo/keyless-demo");
  });

  it("does nothing when the binding is there (a re-run after Pulumi wrote the cluster and the binding survived)", () => {
    const r = run(script, bound("1"), { ...env, PREFIX: "set -- add" });
    expect(r.status).toBe(0);
    expect(r.calls).toEqual([show]);
  });

  it("removes the binding on destroy, and does nothing when the cluster or the binding is gone", () => {
    const removed = run(script, bound("1"), { ...env, PREFIX: "set -- remove" });
    expect(removed.status).toBe(0);
    expect(removed.calls.slice(1)).toEqual([
      "az extension add --name aks-preview --upgrade --yes --only-show-errors",
      "az aks pod-identity delete --subscription s1 --resource-group rg1 --cluster-name aks1 --namespace demo --name keyless-demo --output none --only-show-errors",
    ]);
    const unbound = run(script, bound("0"), { ...env, PREFIX: "set -- remove" });
    expect(unbound.status).toBe(0);
    expect(unbound.calls).toEqual([show]);
    expect(unbound.stdout.trim()).toBe("add-pod-identity: demo/keyless-demo is not bound");
    const gone = run(script, { az: 'if [ "$1 $2" = "aks show" ]; then echo "(ResourceNotFound) The Resource was not found." >&2; exit 3; fi' }, { ...env, PREFIX: "set -- remove" });
    expect(gone.status).toBe(0);
    expect(gone.calls).toEqual([show]);
    expect(gone.stdout.trim()).toBe("add-pod-identity: cluster aks1 is gone; nothing to remove");
  });

  it("stops the destroy when it cannot read the cluster for another reason, instead of skipping the removal", () => {
    const r = run(script, { az: 'if [ "$1 $2" = "aks show" ]; then echo "AADSTS700024: Client assertion is not within its valid time range." >&2; exit 1; fi' }, { ...env, PREFIX: "set -- remove" });
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split("\n").pop()).toBe("AADSTS700024: Client assertion is not within its valid time range.");
    expect(r.calls).toEqual([show]);
  });

  it("refuses to run without its settings", () => {
    const r = run(script, bound("0"), { ...env, IDENTITY_RESOURCE_ID: "", PREFIX: "set -- add" });
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split("\n").pop()).toBe("add-pod-identity: IDENTITY_RESOURCE_ID is not set");
  });
});
