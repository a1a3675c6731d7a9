#!/usr/bin/env bash
# Proves, from inside the VM, that its user-assigned identity can pull from the registry with no
# registry password anywhere (the hand-made VM-to-ACR flow): az login --identity, az acr login, docker pull.
#
# Runs as a managed run command (root). Named run command parameters arrive as environment
# variables (azure-compute-docs articles/virtual-machines/linux/run-command-managed.md):
#   IDENTITY_CLIENT_ID     client id of the user-assigned identity attached to the VM
#   REGISTRY_NAME          registry name, for az acr login
#   REGISTRY_LOGIN_SERVER  <name>.azurecr.io
#   VERIFY_IMAGE           repository:tag to pull
# Optional: VERIFY_ATTEMPTS (default 20) and VERIFY_RETRY_SECONDS (default 30) bound the retries
# that cover role-assignment propagation: a new AcrPull grant can take up to 10 minutes to apply
# (azure-docs role-based-access-control/troubleshooting.md), and 20 x 30 s covers that, well inside
# the run command's timeout (components/container-host.ts verifyTimeoutSeconds).
#
# Stdout is exactly one line, "verify: OK ..." or "verify: FAILED at <step>: <why>"; tool output goes
# to stderr. Exit codes: 0 ok, 2 parameters, 3 cloud-init, 4 tools, 5 az login, 6 az acr login, 7 docker pull.
set -uo pipefail

ATTEMPTS=${VERIFY_ATTEMPTS:-20}
RETRY_SECONDS=${VERIFY_RETRY_SECONDS:-30}

fail() { # code step reason
  printf 'verify: FAILED at %s: %s\n' "$2" "$3"
  exit "$1"
}

# The most telling line of a tool's output: the last error line, or the last line.
reason() {
  local line
  line=$(printf '%s\n' "$1" | grep -iE 'error|denied|unauthorized|forbidden|not found' | tail -n 1)
  [ -n "$line" ] || line=$(printf '%s\n' "$1" | grep -v '^[[:space:]]*$' | tail -n 1)
  printf '%s' "${line:-no output}"
}

# retry <exit code> <step> <command...>: run until it succeeds or the attempts run out.
OUTPUT=""
retry() {
  local code=$1 step=$2 n=1
  shift 2
  while :; do
    if OUTPUT=$("$@" 2>&1); then
      printf '%s\n' "$OUTPUT" >&2
      return 0
    fi
    printf '%s\n' "$OUTPUT" >&2
    [ "$n" -lt "$ATTEMPTS" ] || fail "$code" "$step" "$(reason "$OUTPUT") (after $n attempts)"
    echo "verify: $step failed (attempt $n of $ATTEMPTS); retrying in ${RETRY_SECONDS}s" >&2
    sleep "$RETRY_SECONDS"
    n=$((n + 1))
  done
}

for name in IDENTITY_CLIENT_ID REGISTRY_NAME REGISTRY_LOGIN_SERVER VERIFY_IMAGE; do
  [ -n "${!name:-}" ] || fail 2 parameters "$name is not set (pass it as a named run command parameter)"
done

# cloud-init installs Docker and the Azure CLI; the run command can start before it is done.
# Exit 2 means "finished with recoverable errors" (cloud-init 23.4+): go on, the tool check decides.
ci_status=0
ci_output=$(cloud-init status --wait 2>&1) || ci_status=$?
printf '%s\n' "$ci_output" >&2
case "$ci_status" in
  0) ;;
  2) echo "verify: cloud-init reported recoverable errors; continuing" >&2 ;;
  *) fail 3 cloud-init "cloud-init status exited $ci_status ($(reason "$ci_output")); see /var/log/cloud-init-output.log" ;;
esac

for tool in az docker; do
  command -v "$tool" >/dev/null 2>&1 || fail 4 tools "$tool is not installed; see /var/log/cloud-init-output.log"
done

# A private az profile and Docker config for this run only: no token is left on disk afterwards.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export AZURE_CONFIG_DIR="$work/az" DOCKER_CONFIG="$work/docker"
mkdir -p "$AZURE_CONFIG_DIR" "$DOCKER_CONFIG"

retry 5 "az login" az login --identity --client-id "$IDENTITY_CLIENT_ID" --output none
retry 6 "az acr login" az acr login --name "$REGISTRY_NAME"
ref="$REGISTRY_LOGIN_SERVER/$VERIFY_IMAGE"
retry 7 "docker pull" docker pull "$ref"

digest=$(printf '%s\n' "$OUTPUT" | sed -n 's/^Digest: //p' | tail -n 1)
printf 'verify: OK pulled %s%s with identity %s (no registry password)\n' "$ref" "${digest:+ ($digest)}" "$IDENTITY_CLIENT_ID"
