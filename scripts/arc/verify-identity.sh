#!/usr/bin/env bash
# Proves, on an Arc-enabled Linux server, that its system-assigned identity works end to end with no
# secret anywhere: token from the local HIMDS endpoint (challenge flow, the hand-made Arc identity flow), a blob upload with
# that token, and a read of a probe secret from Key Vault. One line per step; the first failing step
# says why and the script exits non-zero.
#
# Inputs (environment variables, or KEY=VALUE arguments, as Arc run commands pass parameters):
#   STORAGE_ACCOUNT_URL  https://<account>.blob.core.windows.net/
#   CONTAINER            container the identity may write to
#   VAULT_URI            https://<vault>.vault.azure.net/   (empty: skip the Key Vault step)
#   SECRET_NAME          probe secret to read
#   EXPECTED_SECRET      value the probe secret must have (optional)
#   BLOB_NAME            default keyless-verify/<hostname>.txt
#   IDENTITY_ENDPOINT    default http://localhost:40342/metadata/identity/oauth2/token (the agent's)
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
BLOB_NAME="${BLOB_NAME:-keyless-verify/$(hostname).txt}"
: "${STORAGE_ACCOUNT_URL:?keyless-verify: STORAGE_ACCOUNT_URL is required}"
: "${CONTAINER:?keyless-verify: CONTAINER is required}"
VAULT_URI="${VAULT_URI:-}"
SECRET_NAME="${SECRET_NAME:-keyless-probe}"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

fail() {
  echo "FAIL $1" >&2
  exit 1
}

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

# HIMDS challenge flow: 401 with WWW-Authenticate: Basic realm=<key file>, then Basic <file contents>.
token_for() {
  local resource=$1 url status keyfile key
  url="${IDENTITY_ENDPOINT}?api-version=2020-06-01&resource=$(urlencode "$resource")"
  status=$(http -H "Metadata: true" "$url")
  [[ "$status" != "000" ]] || fail "himds: identity endpoint $IDENTITY_ENDPOINT is not reachable ($(tr -d '\r\n' <"$tmp/e")): is the agent running and connected (azcmagent show)?"
  [[ "$status" == "401" ]] || fail "himds: expected a 401 challenge from $IDENTITY_ENDPOINT, got HTTP $status: $(head -c 300 "$tmp/b")"
  keyfile=$(sed -n 's/^[Ww][Ww][Ww]-[Aa]uthenticate:[[:space:]]*Basic realm=\(.*\)$/\1/p' "$tmp/h" | tr -d '\r\n')
  [[ -n "$keyfile" ]] || fail "himds: the 401 carried no 'WWW-Authenticate: Basic realm=<key file>' header"
  if [[ ! -x "$(dirname "$keyfile")" || ! -r "$keyfile" && -e "$keyfile" ]]; then
    fail "himds: cannot read key file $keyfile as $(id -un): run as root or add the account to the himds group (gpasswd -a $(id -un) himds, then log in again)"
  fi
  [[ -e "$keyfile" ]] || fail "himds: key file $keyfile named by the challenge does not exist"
  key=$(cat "$keyfile")
  status=$(http -H "Metadata: true" -H "Authorization: Basic $key" "$url")
  case "$status" in
    200) ;;
    401 | 403) fail "himds: the endpoint rejected the key file's contents (HTTP $status, wrong or stale secret): $(head -c 300 "$tmp/b")" ;;
    000) fail "himds: identity endpoint went away during the challenge ($(tr -d '\r\n' <"$tmp/e"))" ;;
    *) fail "himds: token request for $resource answered HTTP $status: $(head -c 300 "$tmp/b")" ;;
  esac
  local token
  token=$(json_field access_token "$tmp/b")
  [[ -n "$token" ]] || fail "himds: token response for $resource has no access_token"
  printf '%s' "$token"
}

storage_token=$(token_for "$STORAGE_RESOURCE")
echo "PASS himds: token for $STORAGE_RESOURCE"

blob_url="${STORAGE_ACCOUNT_URL%/}/${CONTAINER}/${BLOB_NAME}"
printf 'keyless verification from %s at %s\n' "$(hostname)" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" >"$tmp/payload"
# OAuth on Blob needs x-ms-version 2017-11-09 or later; BlockBlob is the plain upload type.
status=$(http -X PUT -H "Authorization: Bearer $storage_token" -H "x-ms-version: 2021-08-06" \
  -H "x-ms-blob-type: BlockBlob" -H "Content-Type: text/plain" --data-binary "@$tmp/payload" "$blob_url")
case "$status" in
  201) echo "PASS storage: uploaded $blob_url" ;;
  403) fail "storage: HTTP 403 on $blob_url: the identity has no Storage Blob Data Contributor on container $CONTAINER yet (new role assignments can take up to 10 minutes): $(head -c 300 "$tmp/b")" ;;
  404) fail "storage: HTTP 404 on $blob_url: container $CONTAINER does not exist" ;;
  000) fail "storage: $blob_url is not reachable ($(tr -d '\r\n' <"$tmp/e"))" ;;
  *) fail "storage: upload to $blob_url answered HTTP $status: $(head -c 300 "$tmp/b")" ;;
esac

if [[ -z "$VAULT_URI" ]]; then
  echo "SKIP keyvault: no VAULT_URI (keyless:arc.grants.keyVault is none)"
else
  vault_token=$(token_for "$VAULT_RESOURCE")
  echo "PASS himds: token for $VAULT_RESOURCE"
  secret_url="${VAULT_URI%/}/secrets/${SECRET_NAME}?api-version=7.4"
  status=$(http -H "Authorization: Bearer $vault_token" "$secret_url")
  case "$status" in
    200) ;;
    403) fail "keyvault: HTTP 403 reading secret $SECRET_NAME: the identity has no Key Vault Secrets User on the vault yet (or the vault firewall blocks this host): $(head -c 300 "$tmp/b")" ;;
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
