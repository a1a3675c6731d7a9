#!/usr/bin/env bash
# Register a subscription preview feature the way the AKS docs do, idempotently: `az feature register`
# (only when it is not Registered yet), poll `az feature show` until the state is Registered (bounded),
# then `az provider register` so the resource provider picks the feature up. Never unregisters: other
# workloads in the subscription may rely on the feature.
# Source: azure-aks-docs articles/aks/use-azure-ad-pod-identity.md ("Register the
# EnablePodIdentityPreview feature flag"); the resource azure-native offers for this
# (features:SubscriptionFeatureRegistration) fails on create and unregisters on destroy
# (pulumi/pulumi-azure-native#1722).
#
# Environment: SUBSCRIPTION_ID, FEATURE_NAMESPACE, FEATURE_NAME; optional TIMEOUT_SECONDS (default
# 1800: registration usually takes minutes, sometimes much longer) and POLL_SECONDS (default 30).
set -euo pipefail

for v in SUBSCRIPTION_ID FEATURE_NAMESPACE FEATURE_NAME; do
  if [ -z "${!v:-}" ]; then
    echo "register-feature: $v is not set" >&2
    exit 2
  fi
done
timeout_seconds=${TIMEOUT_SECONDS:-1800}
poll_seconds=${POLL_SECONDS:-30}
feature="$FEATURE_NAMESPACE/$FEATURE_NAME"

state() {
  az feature show --subscription "$SUBSCRIPTION_ID" --namespace "$FEATURE_NAMESPACE" --name "$FEATURE_NAME" \
    --query properties.state --output tsv
}

current=$(state)
if [ "$current" != "Registered" ]; then
  echo "register-feature: $feature is ${current:-unknown}; registering"
  az feature register --subscription "$SUBSCRIPTION_ID" --namespace "$FEATURE_NAMESPACE" --name "$FEATURE_NAME" --output none
  deadline=$((SECONDS + timeout_seconds))
  while current=$(state) && [ "$current" != "Registered" ]; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "register-feature: $feature is still ${current:-unknown} after ${timeout_seconds}s (a feature that needs approval stays Pending); check it with az feature show --namespace $FEATURE_NAMESPACE --name $FEATURE_NAME, then run pulumi up again" >&2
      exit 1
    fi
    sleep "$poll_seconds"
  done
fi
# The provider only applies a newly registered feature after it is registered again.
az provider register --namespace "$FEATURE_NAMESPACE" --subscription "$SUBSCRIPTION_ID" --wait
echo "register-feature: $feature Registered"
