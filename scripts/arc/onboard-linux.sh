#!/usr/bin/env bash
# Connect (or disconnect) this Linux server to Azure Arc, non-interactively, with a short-lived ARM
# access token of the deployer (method=access-token) or a service principal (sp-id=...).
# Run as root by the ArcServer component over SSH:
#   bash -c "<this script>" arc-onboard <connect|disconnect> key=value ... < credential-on-stdin
# Keys: method sp-id tenant-id subscription-id resource-group location resource-name tags cloud users
# The credential (token or secret) arrives on stdin only: it is written to a root-only file that
# azcmagent reads with --config (Microsoft's advice, azure-docs azure-arc/servers/azcmagent-connect.md;
# the file's keys are the flags' long names, so "access-token" for --access-token), so it never
# appears on a command line, in `ps`, or in Pulumi's logs.
set -euo pipefail

mode="${1:?usage: arc-onboard connect|disconnect key=value...}"
shift
declare -A arg=()
for kv in "$@"; do arg["${kv%%=*}"]="${kv#*=}"; done
need() { [[ -n "${arg[$1]:-}" ]] || { echo "arc-onboard: missing $1=" >&2; exit 2; }; }
method="${arg[method]:-service-principal}"
case "$method" in
  access-token) ;;
  service-principal) need sp-id ;;
  *) echo "arc-onboard: unknown method $method" >&2; exit 2 ;;
esac
# Where /etc/profile.d and /etc/environment live; overridable only so tests can run the script.
etc="${ARC_ETC_DIR:-/etc}"

if [[ $(id -u) -ne 0 ]]; then
  echo "arc-onboard: must run as root (the SSH user needs passwordless sudo)" >&2
  exit 1
fi

umask 077
workdir=$(mktemp -d /tmp/arc-onboard.XXXXXX)
trap 'rm -rf "$workdir"' EXIT
json_escape() { local s=${1//\\/\\\\}; s=${s//\"/\\\"}; printf '%s' "$s"; }
config="$workdir/azcmagent.json"
# What connect adds to /etc/environment; disconnect removes exactly these lines.
identity_lines=(IDENTITY_ENDPOINT=http://localhost:40342/metadata/identity/oauth2/token IMDS_ENDPOINT=http://localhost:40342)

# Undo what connect wrote for the identity variables. The users stay in himds: the disconnect
# command line does not carry them.
forget_identity_variables() {
  local file="$etc/environment"
  rm -f "$etc/profile.d/azure-arc-identity.sh"
  [[ -f "$file" ]] && grep -qxF -e "${identity_lines[0]}" -e "${identity_lines[1]}" "$file" || return 0
  # Deletes those two whole lines and keeps every other byte (GNU sed keeps a missing final newline;
  # the lines hold nothing special to a regex, nor the # delimiter). Written back in place, so the
  # file keeps its owner and mode, and a symlink stays one.
  sed -e "\\#^${identity_lines[0]}\$#d" -e "\\#^${identity_lines[1]}\$#d" "$file" >"$workdir/environment"
  cat "$workdir/environment" >"$file"
}

if [[ "$mode" == "disconnect" && "$method" == "access-token" ]]; then
  # The token has expired by the time `pulumi destroy` runs. The stack has already deleted the
  # machine resource with the deployer's live Azure CLI login; only the local agent state is left
  # (azure-docs azure-arc/servers/azcmagent-disconnect.md, --force-local-only). stdin is not read.
  if ! command -v azcmagent >/dev/null 2>&1; then
    echo "arc-onboard: agent not installed, nothing to disconnect"
    forget_identity_variables
    exit 0
  fi
  azcmagent disconnect --force-local-only
  forget_identity_variables
  exit 0
fi

IFS= read -r secret || true
if [[ -z "$secret" ]]; then
  if [[ "$method" == "access-token" ]]; then
    echo "arc-onboard: no access token on stdin" >&2
  else
    echo "arc-onboard: no service principal secret on stdin" >&2
  fi
  exit 2
fi
# A control character would end the JSON string early or corrupt it: refuse rather than alter.
if [[ "$secret" =~ [[:cntrl:]] ]]; then
  echo "arc-onboard: the credential on stdin holds a control character" >&2
  exit 2
fi

if [[ "$mode" == "disconnect" ]]; then
  if ! command -v azcmagent >/dev/null 2>&1; then
    echo "arc-onboard: agent not installed, nothing to disconnect"
    forget_identity_variables
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
  forget_identity_variables
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

for k in tenant-id subscription-id resource-group location resource-name tags cloud; do
  if [[ "${arg[$k]:-}" =~ [[:cntrl:]] ]]; then
    echo "arc-onboard: $k holds a control character" >&2
    exit 2
  fi
done

show=$(azcmagent show 2>/dev/null) || true
# The value of a "Label   : value" line of `azcmagent show`, or nothing.
shown() {
  local line re="^[[:space:]]*$1[[:space:]]*:[[:space:]]*(.*[^[:space:]])"
  while IFS= read -r line; do
    if [[ "$line" =~ $re ]]; then
      printf '%s' "${BASH_REMATCH[1]}"
      return
    fi
  done <<<"$show"
}
if [[ "$(shown 'Agent Status')" == Connected* ]]; then
  # Connected as what? A host connected as another resource, group or subscription must not pass as
  # done: the stack's machine lookup would fail, and destroy's local disconnect would orphan that
  # other resource. ARM names compare case-insensitively (azure-docs
  # azure-resource-manager/management/resource-name-rules.md).
  name=$(shown 'Resource Name')
  group=$(shown 'Resource Group Name')
  sub=$(shown 'Subscription ID')
  want="${arg[resource-name]} in resource group ${arg[resource-group]}, subscription ${arg[subscription-id]}"
  if [[ -z "$name$group$sub" ]]; then
    echo "arc-onboard: WARNING: azcmagent show names no Resource Name, Resource Group Name or Subscription ID: not checking that this machine is connected as ${want}" >&2
  elif [[ -n "$name" && "${name,,}" != "${arg[resource-name],,}" || -n "$group" && "${group,,}" != "${arg[resource-group],,}" || -n "$sub" && "${sub,,}" != "${arg[subscription-id],,}" ]]; then
    have="${name:-?} in resource group ${group:-?}, subscription ${sub:-?}"
    echo "arc-onboard: this machine is connected to Azure Arc as ${have}, not as ${want}: disconnect it first (azcmagent disconnect), or list it in keyless:arc.servers as onboard: existing" >&2
    exit 1
  fi
  # Also what makes a re-run harmless: a connected machine is never re-onboarded, so the (possibly
  # expired) credential is not used.
  echo "arc-onboard: already connected, not reconnecting"
else
  if [[ "$method" == "access-token" ]]; then
    auth="\"access-token\":\"$(json_escape "$secret")\""
  else
    auth="\"service-principal-id\":\"$(json_escape "${arg[sp-id]}")\",\"service-principal-secret\":\"$(json_escape "$secret")\""
  fi
  printf '{%s,"tenant-id":"%s","subscription-id":"%s","resource-group":"%s","location":"%s","resource-name":"%s","tags":"%s","cloud":"%s"}\n' \
    "$auth" "$(json_escape "${arg[tenant-id]}")" \
    "$(json_escape "${arg[subscription-id]}")" "$(json_escape "${arg[resource-group]}")" "$(json_escape "${arg[location]}")" \
    "$(json_escape "${arg[resource-name]}")" "$(json_escape "${arg[tags]:-}")" "$(json_escape "${arg[cloud]:-AzureCloud}")" >"$config"
  azcmagent connect --config "$config"
fi

# Who may read the HIMDS key file: the himds group (azure-docs azure-arc/servers/managed-identity-authentication.md).
for u in ${arg[users]:-}; do
  gpasswd -a "$u" himds
done

# SDKs find the Arc identity through these two variables (same doc); set them for every login and service.
cat >"$etc/profile.d/azure-arc-identity.sh" <<'PROFILE'
export IDENTITY_ENDPOINT=http://localhost:40342/metadata/identity/oauth2/token
export IMDS_ENDPOINT=http://localhost:40342
PROFILE
chmod 0644 "$etc/profile.d/azure-arc-identity.sh"
for line in "${identity_lines[@]}"; do
  if ! grep -qxF "$line" "$etc/environment" 2>/dev/null; then
    # A file whose last line has no newline would get this line glued onto it.
    if [[ -s "$etc/environment" && -n "$(tail -c 1 "$etc/environment")" ]]; then echo >>"$etc/environment"; fi
    echo "$line" >>"$etc/environment"
  fi
done
echo "arc-onboard: connected as ${arg[resource-name]}"
