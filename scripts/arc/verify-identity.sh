#!/usr/bin/env bash
# Proves, on an Arc-enabled Linux server, that its system-assigned identity works end to end with no
# secret anywhere: token from the local HIMDS endpoint (the agent's challenge flow), a blob upload
# with that token, and a read of a probe secret from Key Vault. One line per step; the first failing
# step says why and the script exits non-zero. New role assignments take up to 10 minutes to reach
# the data plane (azure-docs role-based-access-control/troubleshooting.md), so a 403 from Blob or Key
# Vault is retried with a bounded backoff before it counts as a failure.
#
# The challenge's key file is validated the way Microsoft's client does it (MSAL's Azure Arc source,
# @azure/msal-node client/ManagedIdentitySources/AzureArc): directly inside the agent's token
# directory, named *.key, at most 4096 bytes; and a regular file, not a link. The key and the tokens
# never appear on a command line: curl reads every Authorization header from an owner-only file (-H @file).
#
# Inputs (environment variables, or KEY=VALUE arguments, as Arc run commands pass parameters):
#   STORAGE_ACCOUNT_URL  https://<account>.blob.core.windows.net/
#   CONTAINER            container the identity may write to
#   VAULT_URI            https://<vault>.vault.azure.net/   (empty: skip the Key Vault step)
#   SECRET_NAME          probe secret to read
#   EXPECTED_SECRET      value the probe secret must have (optional)
#   BLOB_NAME            default <hostname>/keyless-verify.txt (the prefix the grant allows)
#   IDENTITY_ENDPOINT    default http://localhost:40342/metadata/identity/oauth2/token (the agent's)
#   RETRY_DELAYS         seconds to wait before each retry of a 403, default "10 20 30 60 60 60 60 60 60 60" (~8 min)
#   STORAGE_RESOURCE     default https://storage.azure.com/ ; VAULT_RESOURCE default https://vault.azure.net
# curl honours CURL_CA_BUNDLE, which the tests use for their local TLS stand-ins.
set -euo pipefail

for kv in "$@"; do
  [[ "$kv" == *=* ]] || { echo "keyless-verify: argument $kv is not KEY=VALUE" >&2; exit 2; }
  export "${kv%%=*}=${kv#*=}"
done

IDENTITY_ENDPOINT="${IDENTITY_ENDPOINT:-http://localhost:40342/metadata/identity/oauth2/token}"
STORAGE_RESOURCE="${STORAGE_RESOURCE:-https://storage.azure.com/}"
VAULT_RESOURCE="${VAULT_RESOURCE:-https://vault.azure.net}"
BLOB_NAME="${BLOB_NAME:-$(hostname)/keyless-verify.txt}"
: "${STORAGE_ACCOUNT_URL:?keyless-verify: STORAGE_ACCOUNT_URL is required}"
: "${CONTAINER:?keyless-verify: CONTAINER is required}"
VAULT_URI="${VAULT_URI:-}"
SECRET_NAME="${SECRET_NAME:-keyless-probe}"

RETRY_DELAYS="${RETRY_DELAYS:-10 20 30 60 60 60 60 60 60 60}"
# The agent's token directory (fixed: the challenge may name no other place).
TOKENS_DIR=/var/opt/azcmagent/tokens

umask 077
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

fail() {
  echo "FAIL $1" >&2
  exit 1
}

# Every Authorization header below comes from a file (-H @file), which curl reads since 7.55.0 (curl
# docs, -H: "Starting in 7.55.0, this option can take an argument in @filename style").
curl_version=$(curl --version 2>/dev/null | sed -n '1s/^curl \([0-9][0-9.]*\).*/\1/p') || true
[[ "$curl_version" =~ ^([0-9]+)\.([0-9]+) ]] || fail "curl: not installed, or curl --version names no version; this check needs curl 7.55.0 or later"
if ((10#${BASH_REMATCH[1]} < 7 || 10#${BASH_REMATCH[1]} == 7 && 10#${BASH_REMATCH[2]} < 55)); then
  fail "curl: $curl_version is older than 7.55.0, which this check needs (-H @file)"
fi

urlencode() {
  local s=$1 out="" c i
  for ((i = 0; i < ${#s}; i++)); do
    c=${s:i:1}
    case "$c" in [a-zA-Z0-9.~_-]) out+="$c" ;; *) out+=$(printf '%%%02X' "'$c") ;; esac
  done
  printf '%s' "$out"
}

# GET with curl; prints the HTTP status; headers and body land in $tmp/h and $tmp/b.
http() {
  : >"$tmp/b"
  : >"$tmp/h"
  local code
  # On a connection failure curl still prints 000 for %{http_code} and exits non-zero.
  code=$(curl -sS -o "$tmp/b" -D "$tmp/h" -w '%{http_code}' --max-time 30 "$@" 2>"$tmp/e") || true
  printf '%s' "${code:-000}"
}

json_field() { # json_field <name> <file>: a top-level string field, enough for token and secret bodies
  sed -n "s/.*\"$1\"[[:space:]]*:[[:space:]]*\"\\([^\"]*\\)\".*/\\1/p" "$2" | head -n 1
}

# Validate the key file a challenge names, as MSAL does; prints nothing, fails with the reason.
check_key_file() {
  local keyfile=$1 size
  [[ "$keyfile" == *.key ]] || fail "himds: the challenge names $keyfile, not a .key file: refusing to read it"
  [[ "$keyfile" == "$TOKENS_DIR/$(basename -- "$keyfile")" ]] || fail "himds: the challenge names $keyfile, outside the agent's token directory $TOKENS_DIR: refusing to read it"
  if [[ ! -x "$TOKENS_DIR" || ! -r "$keyfile" && -e "$keyfile" ]]; then
    fail "himds: cannot read key file $keyfile as $(id -un): run as root or add the account to the himds group (gpasswd -a $(id -un) himds, then log in again)"
  fi
  [[ -e "$keyfile" ]] || fail "himds: key file $keyfile named by the challenge does not exist"
  [[ -f "$keyfile" && ! -L "$keyfile" ]] || fail "himds: key file $keyfile is not a regular file: refusing to read it"
  size=$(stat -c %s -- "$keyfile")
  ((size <= 4096)) || fail "himds: key file $keyfile is $size bytes, over the 4096 the agent writes: refusing to read it"
}

# HIMDS challenge flow: 401 with WWW-Authenticate: Basic realm=<key file>, then Basic <file contents>.
# Writes "Authorization: Bearer <token>" for $1 into the file $2.
token_for() {
  local resource=$1 out=$2 url status keyfile
  url="${IDENTITY_ENDPOINT}?api-version=2020-06-01&resource=$(urlencode "$resource")"
  status=$(http -H "Metadata: true" "$url")
  [[ "$status" != "000" ]] || fail "himds: identity endpoint $IDENTITY_ENDPOINT is not reachable ($(tr -d '\r\n' <"$tmp/e")): is the agent running and connected (azcmagent show)?"
  [[ "$status" == "401" ]] || fail "himds: expected a 401 challenge from $IDENTITY_ENDPOINT, got HTTP $status: $(head -c 300 "$tmp/b")"
  keyfile=$(sed -n 's/^[Ww][Ww][Ww]-[Aa]uthenticate:[[:space:]]*Basic realm=\(.*\)$/\1/p' "$tmp/h" | tr -d '\r\n')
  [[ -n "$keyfile" ]] || fail "himds: the 401 carried no 'WWW-Authenticate: Basic realm=<key file>' header"
  check_key_file "$keyfile"
  # The key goes into a header file (printf is a shell builtin: no process sees it in its argv).
  { printf 'Authorization: Basic '; tr -d '\r\n' <"$keyfile"; printf '\n'; } >"$tmp/basic"
  status=$(http -H "Metadata: true" -H "@$tmp/basic" "$url")
  rm -f "$tmp/basic"
  case "$status" in
    200) ;;
    401 | 403) fail "himds: the endpoint rejected the key file's contents (HTTP $status, wrong or stale secret): $(head -c 300 "$tmp/b")" ;;
    000) fail "himds: identity endpoint went away during the challenge ($(tr -d '\r\n' <"$tmp/e"))" ;;
    *) fail "himds: token request for $resource answered HTTP $status: $(head -c 300 "$tmp/b")" ;;
  esac
  local token
  token=$(json_field access_token "$tmp/b")
  [[ -n "$token" ]] || fail "himds: token response for $resource has no access_token"
  printf 'Authorization: Bearer %s\n' "$token" >"$out"
  : >"$tmp/b"
}

# Run a request until it answers something other than 403, waiting RETRY_DELAYS between tries: a
# 403 right after the grant is usually propagation. Prints the last status.
with_retry() {
  local status delay
  status=$("$@")
  for delay in $RETRY_DELAYS; do
    [[ "$status" == "403" ]] || break
    echo "WAIT $delay s: HTTP 403, the role assignment may still be propagating" >&2
    sleep "$delay"
    status=$("$@")
  done
  printf '%s' "$status"
}

token_for "$STORAGE_RESOURCE" "$tmp/storage-auth"
echo "PASS himds: token for $STORAGE_RESOURCE"

blob_url="${STORAGE_ACCOUNT_URL%/}/${CONTAINER}/${BLOB_NAME}"
printf 'keyless verification from %s at %s\n' "$(hostname)" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" >"$tmp/payload"
# OAuth on Blob needs x-ms-version 2017-11-09 or later; BlockBlob is the plain upload type.
status=$(with_retry http -X PUT -H "@$tmp/storage-auth" -H "x-ms-version: 2021-08-06" \
  -H "x-ms-blob-type: BlockBlob" -H "Content-Type: text/plain" --data-binary "@$tmp/payload" "$blob_url")
case "$status" in
  201) echo "PASS storage: uploaded $blob_url" ;;
  403) fail "storage: HTTP 403 on $blob_url: the identity has no Storage Blob Data Contributor on container $CONTAINER for this path (still 403 after the retries; new role assignments can take up to 10 minutes): $(head -c 300 "$tmp/b")" ;;
  404) fail "storage: HTTP 404 on $blob_url: container $CONTAINER does not exist" ;;
  000) fail "storage: $blob_url is not reachable ($(tr -d '\r\n' <"$tmp/e"))" ;;
  *) fail "storage: upload to $blob_url answered HTTP $status: $(head -c 300 "$tmp/b")" ;;
esac

if [[ -z "$VAULT_URI" ]]; then
  echo "SKIP keyvault: no VAULT_URI (keyless:arc.grants.keyVault is none)"
else
  token_for "$VAULT_RESOURCE" "$tmp/vault-auth"
  echo "PASS himds: token for $VAULT_RESOURCE"
  secret_url="${VAULT_URI%/}/secrets/${SECRET_NAME}?api-version=7.4"
  status=$(with_retry http -H "@$tmp/vault-auth" "$secret_url")
  case "$status" in
    200) ;;
    403) fail "keyvault: HTTP 403 reading secret $SECRET_NAME: the identity has no Key Vault Secrets User on the secret yet (still 403 after the retries), or the vault firewall blocks this host: $(head -c 300 "$tmp/b")" ;;
    404) fail "keyvault: HTTP 404: secret $SECRET_NAME does not exist in $VAULT_URI" ;;
    000) fail "keyvault: $VAULT_URI is not reachable ($(tr -d '\r\n' <"$tmp/e"))" ;;
    *) fail "keyvault: reading secret $SECRET_NAME answered HTTP $status: $(head -c 300 "$tmp/b")" ;;
  esac
  value=$(json_field value "$tmp/b")
  if [[ -n "${EXPECTED_SECRET:-}" && "$value" != "$EXPECTED_SECRET" ]]; then
    fail "keyvault: secret $SECRET_NAME has an unexpected value"
  fi
  echo "PASS keyvault: read secret $SECRET_NAME"
fi
echo "keyless-verify: OK"
