#!/usr/bin/env bash
# Workload Identity demo (the supported successor of the hand-made AKS pod identity flow's aad-pod-identity demo): log in as the
# pod's user-assigned identity with the federated token the AKS webhook projects into the pod, then
# list the virtual machine scale sets and VMs of the cluster's node resource group (the identity holds
# Reader there). Prints one line of success, or which step failed and why, and
# exits non-zero on failure so the pod ends Failed and `pulumi up` reports it.
#
# The token never appears on a command line: `--federated-token @file` makes the Azure CLI read the
# file itself (azure-cli src/azure-cli-core/azure/cli/core/commands/__init__.py,
# `_expand_file_prefixed_files`); the CLI has no environment variable or file option for it
# (Azure/azure-cli#26858).
#
# A new federated credential and a new role assignment take minutes to propagate
# (azure-docs role-based-access-control/troubleshooting.md): login and listing are retried until
# RETRY_SECONDS (default 600) have passed, every POLL_SECONDS (default 20).
#
# Environment: AZURE_CLIENT_ID, AZURE_TENANT_ID, AZURE_FEDERATED_TOKEN_FILE (injected by the webhook
# for pods labelled azure.workload.identity/use: "true"), SUBSCRIPTION_ID, NODE_RESOURCE_GROUP, and a
# writable HOME (the CLI keeps its login under $HOME/.azure).
set -uo pipefail

fail() {
  echo "demo: FAILED at $1: $2" >&2
  exit "$3"
}

for v in AZURE_CLIENT_ID AZURE_TENANT_ID AZURE_FEDERATED_TOKEN_FILE SUBSCRIPTION_ID NODE_RESOURCE_GROUP HOME; do
  if [ -z "${!v:-}" ]; then
    fail "environment" "$v is not set (is the pod labelled azure.workload.identity/use=true and its service account annotated with the client id?)" 2
  fi
done
if [ ! -r "$AZURE_FEDERATED_TOKEN_FILE" ]; then
  fail "token" "no federated token at $AZURE_FEDERATED_TOKEN_FILE (workload identity webhook not active?)" 3
fi
if ! mkdir -p "$HOME/.azure" 2> /dev/null || [ ! -w "$HOME/.azure" ]; then
  fail "home" "$HOME is not writable (the Azure CLI keeps its login in \$HOME/.azure)" 2
fi

retry_seconds=${RETRY_SECONDS:-600}
poll_seconds=${POLL_SECONDS:-20}
deadline=$((SECONDS + retry_seconds))

# Run "$@" until it succeeds or the deadline passes; its output (or last error) ends up in $out.
retry() {
  while true; do
    if out=$("$@" 2>&1); then
      return 0
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      return 1
    fi
    sleep "$poll_seconds"
  done
}

# No --allow-no-subscriptions: az keeps the subscriptions it saw at login, and `--subscription` below
# only accepts one of them ("Subscription '<id>' not found", azure-cli azure/cli/core/_profile.py
# `get_subscription`). A login that lands before the identity's role assignment is visible would
# otherwise succeed tenant-only and every listing after it fail; without the flag az refuses the login
# ("No subscriptions found"), so the retry waits for the grant too.
if ! retry az login --service-principal --username "$AZURE_CLIENT_ID" --tenant "$AZURE_TENANT_ID" \
  --federated-token "@$AZURE_FEDERATED_TOKEN_FILE" --output none; then
  fail "login" "az login with the federated token was refused for ${retry_seconds}s: ${out//$'\n'/ } (federated credential issuer/subject must match this cluster and service account, and the identity sees its subscription only once its role assignment has propagated)" 4
fi

if ! retry az vm list --subscription "$SUBSCRIPTION_ID" --resource-group "$NODE_RESOURCE_GROUP" --query "length(@)" --output tsv; then
  fail "list-vms" "cannot read $NODE_RESOURCE_GROUP after ${retry_seconds}s: ${out//$'\n'/ } (does the identity hold Reader there?)" 5
fi
vms=$out
if ! retry az vmss list --subscription "$SUBSCRIPTION_ID" --resource-group "$NODE_RESOURCE_GROUP" --query "[].name" --output tsv; then
  fail "list-vmss" "cannot read scale sets in $NODE_RESOURCE_GROUP: ${out//$'\n'/ }" 5
fi
vmss=$out

echo "demo: OK identity $AZURE_CLIENT_ID sees $vms VM(s) and scale set(s) [${vmss//$'\n'/ }] in $NODE_RESOURCE_GROUP (no secret used)"
