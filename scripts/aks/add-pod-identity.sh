#!/usr/bin/env bash
# Bind a pod identity with the AKS pod identity add-on, as the hand-made AKS pod identity flow does
# (`az aks pod-identity add`), idempotently; `remove` undoes it. AKS refuses pod identities in the
# request that creates the cluster (PodIdentityAddonUserAssignedIdentitiesNotAllowedInCreation,
# "PodIdentity addon does not support assigning pod identities on creation": Azure/AKS#2199,
# pulumi/pulumi-azure-native#1298), so the cluster is created with the add-on enabled and nothing
# bound, and this script binds the identity afterwards (azure-aks-docs articles/aks/use-azure-ad-pod-identity.md,
# "Create a pod identity"). The command lives in the aks-preview Azure CLI extension.
#
# Usage: add-pod-identity.sh add|remove
# Environment: SUBSCRIPTION_ID, RESOURCE_GROUP, CLUSTER_NAME, POD_IDENTITY_NAMESPACE,
# POD_IDENTITY_NAME, IDENTITY_RESOURCE_ID (add only). CLUSTER_INPUTS is not read: it changes
# whenever Pulumi writes the cluster, whose request does not carry the binding, so the binding is
# made again after every such write.
set -euo pipefail

mode="${1:?usage: add-pod-identity.sh add|remove}"
need=(SUBSCRIPTION_ID RESOURCE_GROUP CLUSTER_NAME POD_IDENTITY_NAMESPACE POD_IDENTITY_NAME)
[ "$mode" = add ] && need+=(IDENTITY_RESOURCE_ID)
for v in "${need[@]}"; do
  if [ -z "${!v:-}" ]; then
    echo "add-pod-identity: $v is not set" >&2
    exit 2
  fi
done
errors=$(mktemp)
trap 'rm -f "$errors"' EXIT
cluster=(--subscription "$SUBSCRIPTION_ID" --resource-group "$RESOURCE_GROUP" --cluster-name "$CLUSTER_NAME")
binding=(--namespace "$POD_IDENTITY_NAMESPACE" --name "$POD_IDENTITY_NAME")

# Is the binding there? (namespace and name identify it; the add-on refuses a second one of that pair.)
bound() {
  az aks show --subscription "$SUBSCRIPTION_ID" --resource-group "$RESOURCE_GROUP" --name "$CLUSTER_NAME" \
    --query "length(podIdentityProfile.userAssignedIdentities[?namespace=='$POD_IDENTITY_NAMESPACE' && name=='$POD_IDENTITY_NAME'] || \`[]\`)" \
    --output tsv
}

case "$mode" in
  add)
    if [ "$(bound)" != "0" ]; then
      echo "add-pod-identity: $POD_IDENTITY_NAMESPACE/$POD_IDENTITY_NAME is already bound"
      exit 0
    fi
    az extension add --name aks-preview --upgrade --yes --only-show-errors
    az aks pod-identity add "${cluster[@]}" "${binding[@]}" --binding-selector "$POD_IDENTITY_NAME" \
      --identity-resource-id "$IDENTITY_RESOURCE_ID" --output none --only-show-errors
    echo "add-pod-identity: bound $POD_IDENTITY_NAMESPACE/$POD_IDENTITY_NAME"
    ;;
  remove)
    # Gone already (the cluster deleted, or the binding removed by hand): nothing to do. Any other
    # failure to read the cluster (sign-in, throttling) stops the destroy rather than skip the removal.
    if ! state=$(bound 2>"$errors"); then
      if grep -q "ResourceNotFound\|ResourceGroupNotFound" "$errors"; then
        echo "add-pod-identity: cluster $CLUSTER_NAME is gone; nothing to remove"
        exit 0
      fi
      cat "$errors" >&2
      exit 1
    fi
    if [ "$state" = "0" ]; then
      echo "add-pod-identity: $POD_IDENTITY_NAMESPACE/$POD_IDENTITY_NAME is not bound"
      exit 0
    fi
    az extension add --name aks-preview --upgrade --yes --only-show-errors
    az aks pod-identity delete "${cluster[@]}" "${binding[@]}" --output none --only-show-errors
    echo "add-pod-identity: removed $POD_IDENTITY_NAMESPACE/$POD_IDENTITY_NAME"
    ;;
  *)
    echo "add-pod-identity: unknown mode $mode (add or remove)" >&2
    exit 2
    ;;
esac
