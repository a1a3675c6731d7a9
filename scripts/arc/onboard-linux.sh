#!/usr/bin/env bash
# Connect (or disconnect) this Linux server to Azure Arc with a service principal, non-interactively.
# Run as root by the ArcServer component over SSH:
#   bash -c "<this script>" arc-onboard <connect|disconnect> key=value ... < secret-on-stdin
# Keys: sp-id tenant-id subscription-id resource-group location resource-name tags cloud users
# The service principal secret arrives on stdin only: it is written to a root-only file that
# azcmagent reads with --config (Microsoft's advice, azure-docs azure-arc/servers/azcmagent-connect.md),
# so it never appears on a command line, in `ps`, or in Pulumi's state or logs.
set -euo pipefail

mode="${1:?usage: arc-onboard connect|disconnect key=value...}"
shift
declare -A arg=()
for kv in "$@"; do arg["${kv%%=*}"]="${kv#*=}"; done
need() { [[ -n "${arg[$1]:-}" ]] || { echo "arc-onboard: missing $1=" >&2; exit 2; }; }
need sp-id
# Where /etc/profile.d and /etc/environment live; overridable only so tests can run the script.
etc="${ARC_ETC_DIR:-/etc}"

if [[ $(id -u) -ne 0 ]]; then
  echo "arc-onboard: must run as root (the SSH user needs passwordless sudo)" >&2
  exit 1
fi

umask 077
workdir=$(mktemp -d /tmp/arc-onboard.XXXXXX)
trap 'rm -rf "$workdir"' EXIT
IFS= read -r secret || true
if [[ -z "$secret" ]]; then
  echo "arc-onboard: no service principal secret on stdin" >&2
  exit 2
fi
json_escape() { local s=${1//\\/\\\\}; s=${s//\"/\\\"}; printf '%s' "$s"; }
config="$workdir/azcmagent.json"

if [[ "$mode" == "disconnect" ]]; then
  if ! command -v azcmagent >/dev/null 2>&1; then
    echo "arc-onboard: agent not installed, nothing to disconnect"
    exit 0
  fi
  printf '{"service-principal-id":"%s","service-principal-secret":"%s"}\n' \
    "$(json_escape "${arg[sp-id]}")" "$(json_escape "$secret")" >"$config"
  # Deletes the Microsoft.HybridCompute/machines resource in Azure too, so destroy leaves no orphan.
  # That needs machines/delete (Azure Connected Machine Resource Administrator); with the Onboarding
  # role alone ARM refuses, and the agent is disconnected locally instead: `pulumi destroy` then
  # removes the resource with the Arc resource group (docs/arc.md, Offboarding).
  if ! azcmagent disconnect --config "$config"; then
    echo "arc-onboard: WARNING: could not delete the Azure resource with the service principal; disconnecting locally only" >&2
    azcmagent disconnect --force-local-only
  fi
  exit 0
fi

[[ "$mode" == "connect" ]] || { echo "arc-onboard: unknown mode $mode" >&2; exit 2; }
for k in tenant-id subscription-id resource-group location resource-name; do need "$k"; done

if ! command -v azcmagent >/dev/null 2>&1; then
  # Microsoft's installer: adds the packages.microsoft.com repository and installs azcmagent
  # (azure-docs azure-arc/servers/onboard-service-principal.md).
  curl -fsSL https://gbl.his.arc.azure.com/azcmagent-linux -o "$workdir/install_linux_azcmagent.sh"
  bash "$workdir/install_linux_azcmagent.sh"
fi

if azcmagent show 2>/dev/null | grep -Eq '^\s*Agent Status\s*:\s*Connected'; then
  echo "arc-onboard: already connected, not reconnecting"
else
  printf '{"service-principal-id":"%s","service-principal-secret":"%s","tenant-id":"%s","subscription-id":"%s","resource-group":"%s","location":"%s","resource-name":"%s","tags":"%s","cloud":"%s"}\n' \
    "$(json_escape "${arg[sp-id]}")" "$(json_escape "$secret")" "$(json_escape "${arg[tenant-id]}")" \
    "$(json_escape "${arg[subscription-id]}")" "$(json_escape "${arg[resource-group]}")" "$(json_escape "${arg[location]}")" \
    "$(json_escape "${arg[resource-name]}")" "$(json_escape "${arg[tags]:-}")" "$(json_escape "${arg[cloud]:-AzureCloud}")" >"$config"
  azcmagent connect --config "$config"
fi

# Who may read the HIMDS key file: the himds group (the hand-made Arc onboarding: gpasswd -a $USER himds).
for u in ${arg[users]:-}; do
  gpasswd -a "$u" himds
done

# SDKs find the Arc identity through these two variables (the hand-made Arc identity flow); set them for every login and service.
cat >"$etc/profile.d/azure-arc-identity.sh" <<'PROFILE'
export IDENTITY_ENDPOINT=http://localhost:40342/metadata/identity/oauth2/token
export IMDS_ENDPOINT=http://localhost:40342
PROFILE
chmod 0644 "$etc/profile.d/azure-arc-identity.sh"
for line in IDENTITY_ENDPOINT=http://localhost:40342/metadata/identity/oauth2/token IMDS_ENDPOINT=http://localhost:40342; do
  grep -qxF "$line" "$etc/environment" 2>/dev/null || echo "$line" >>"$etc/environment"
done
echo "arc-onboard: connected as ${arg[resource-name]}"
