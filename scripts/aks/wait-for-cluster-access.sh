#!/usr/bin/env bash
# Ask the AKS API server, with the deployer's own Entra ID token (kubelogin, as the Kubernetes provider
# does), whether the deployer may manage the cluster, until it says yes or the time is up. Azure RBAC
# role assignments for Kubernetes authorization take up to 5 minutes to reach the API server
# (learn.microsoft.com/azure/aks/manage-azure-rbac), so the first `pulumi up` would otherwise get 403
# on the first Kubernetes object. `kubectl auth can-i` sends a SelfSubjectAccessReview, which goes
# through the same Azure RBAC webhook as the real requests.
#
# Environment: KUBECONFIG_DATA (the provider's kubeconfig; kubelogin exec, no credential in it),
# NAMESPACE (the demo namespace); optional TIMEOUT_SECONDS (default 600) and POLL_SECONDS (default 15).
# Needs kubectl and kubelogin on PATH (`az aks install-cli`).
set -uo pipefail

if [ -z "${KUBECONFIG_DATA:-}" ] || [ -z "${NAMESPACE:-}" ]; then
  echo "cluster-access: KUBECONFIG_DATA and NAMESPACE must be set" >&2
  exit 2
fi
for tool in kubectl kubelogin; do
  if ! command -v "$tool" > /dev/null; then
    echo "cluster-access: $tool is not installed (az aks install-cli installs both)" >&2
    exit 2
  fi
done
timeout_seconds=${TIMEOUT_SECONDS:-600}
poll_seconds=${POLL_SECONDS:-15}

# The kubeconfig goes to an owner-only file, never to a command line.
umask 077
kubeconfig=$(mktemp)
trap 'rm -f "$kubeconfig"' EXIT
printf '%s' "$KUBECONFIG_DATA" > "$kubeconfig"

deadline=$((SECONDS + timeout_seconds))
attempt=0
while true; do
  attempt=$((attempt + 1))
  ns="" pods=""
  # Cluster admin: may create namespaces, and anything in the demo namespace.
  if ns=$(kubectl --kubeconfig "$kubeconfig" auth can-i create namespaces 2>&1) && [ "$ns" = "yes" ] &&
    pods=$(kubectl --kubeconfig "$kubeconfig" auth can-i create pods --namespace "$NAMESPACE" 2>&1) && [ "$pods" = "yes" ]; then
    echo "cluster-access: the deployer may manage the cluster (attempt $attempt)"
    exit 0
  fi
  last="$ns $pods"
  if [ "$SECONDS" -ge "$deadline" ]; then
    echo "cluster-access: the deployer still cannot manage the cluster after ${timeout_seconds}s (last answer: ${last//$'\n'/ }). Check its Azure Kubernetes Service RBAC Cluster Admin assignment on the cluster and the principal kubelogin logs in as, then run pulumi up again" >&2
    exit 1
  fi
  sleep "$poll_seconds"
done
