#!/usr/bin/env bash
# Workload Identity demo (the supported successor of seed 003's aad-pod-identity demo): log in as the
# pod's user-assigned identity with the federated token the AKS webhook projects into the pod, then
# list the virtual machine scale sets and VMs of the cluster's node resource group (the identity holds
# Virtual Machine Contributor there). Prints one line of success, or which step failed and why.
#
# Environment: AZURE_CLIENT_ID, AZURE_TENANT_ID, AZURE_FEDERATED_TOKEN_FILE (injected by the webhook
# for pods labelled azure.workload.identity/use: "true"), SUBSCRIPTION_ID, NODE_RESOURCE_GROUP.
set -uo pipefail

fail() {
  echo "demo: FAILED at $1: $2" >&2
  exit "$3"
}

for v in AZURE_CLIENT_ID AZURE_TENANT_ID AZURE_FEDERATED_TOKEN_FILE SUBSCRIPTION_ID NODE_RESOURCE_GROUP; do
  if [ -z "${!v:-}" ]; then
    fail "environment" "$v is not set (is the pod labelled azure.workload.identity/use=true and its service account annotated with the client id?)" 2
  fi
done
if [ ! -r "$AZURE_FEDERATED_TOKEN_FILE" ]; then
  fail "token" "no federated token at $AZURE_FEDERATED_TOKEN_FILE (workload identity webhook not active?)" 3
fi

# "@<file>": the Azure CLI reads the argument's value from the file (azure-cli azure-cli-core
# commands/__init__.py, _expand_file_prefixed_files), so the token never sits in az's command line.
if ! out=$(az login --service-principal --username "$AZURE_CLIENT_ID" --tenant "$AZURE_TENANT_ID" \
  --federated-token "@$AZURE_FEDERATED_TOKEN_FILE" --allow-no-subscriptions --output none 2>&1); then
  fail "login" "az login with the federated token was refused: ${out//$'\n'/ } (federated credential issuer/subject must match this cluster and service account)" 4
fi

if ! vms=$(az vm list --subscription "$SUBSCRIPTION_ID" --resource-group "$NODE_RESOURCE_GROUP" --query "length(@)" --output tsv 2>&1); then
  fail "list-vms" "cannot read $NODE_RESOURCE_GROUP: ${vms//$'\n'/ } (Virtual Machine Contributor may still be propagating)" 5
fi
if ! vmss=$(az vmss list --subscription "$SUBSCRIPTION_ID" --resource-group "$NODE_RESOURCE_GROUP" --query "[].name" --output tsv 2>&1); then
  fail "list-vmss" "cannot read scale sets in $NODE_RESOURCE_GROUP: ${vmss//$'\n'/ }" 5
fi

echo "demo: OK identity $AZURE_CLIENT_ID sees $vms VM(s) and scale set(s) [${vmss//$'\n'/ }] in $NODE_RESOURCE_GROUP (no secret used)"
