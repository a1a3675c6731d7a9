# Windows twin of verify-identity.sh, step for step: HIMDS challenge flow, blob upload with the bearer
# token, probe secret read from Key Vault, a 403 retried with a bounded backoff while new grants
# propagate. The challenge's key file is validated as MSAL does (directly inside
# %ProgramData%\AzureConnectedMachineAgent\Tokens, *.key, at most 4096 bytes). Parameters arrive as
# script parameters (Arc run command) or environment variables; the first failing step says why and
# the script exits 1. Keys and tokens stay in this process (request headers), never on a command line.
param(
  [string]$StorageAccountUrl = $env:STORAGE_ACCOUNT_URL,
  [string]$Container = $env:CONTAINER,
  [string]$VaultUri = $env:VAULT_URI,
  [string]$SecretName = $(if ($env:SECRET_NAME) { $env:SECRET_NAME } else { 'keyless-probe' }),
  [string]$ExpectedSecret = $env:EXPECTED_SECRET,
  [string]$BlobName = $(if ($env:BLOB_NAME) { $env:BLOB_NAME } else { "$($env:COMPUTERNAME)/keyless-verify.txt" }),
  [string]$IdentityEndpoint = $(if ($env:IDENTITY_ENDPOINT) { $env:IDENTITY_ENDPOINT } else { 'http://localhost:40342/metadata/identity/oauth2/token' }),
  [string]$StorageResource = 'https://storage.azure.com/',
  [string]$VaultResource = 'https://vault.azure.net',
  [int[]]$RetryDelays = @(10, 20, 30, 60, 60, 60, 60, 60, 60, 60)
)
$TokensDir = Join-Path $env:ProgramData 'AzureConnectedMachineAgent\Tokens\'
$ErrorActionPreference = 'Stop'
# Windows PowerShell 5.1 on older Windows Server may not offer TLS 1.2. The stack's storage account
# requires TLS 1.2 (components/blob-storage.ts, minimumTlsVersion) and Key Vault expects it of clients
# (azure-docs key-vault/general/security-features.md, "TLS and HTTPS"): add it, as Microsoft's generated
# Arc onboarding scripts do (-bor 3072).
[Net.ServicePointManager]::SecurityProtocol = [Net.ServicePointManager]::SecurityProtocol -bor [Net.SecurityProtocolType]::Tls12

function Fail([string]$Message) {
  [Console]::Error.WriteLine("FAIL $Message")
  exit 1
}

function Get-Status($ErrorRecord) {
  if ($ErrorRecord.Exception.Response) { return [int]$ErrorRecord.Exception.Response.StatusCode }
  return 0
}

function Get-HimdsToken([string]$Resource) {
  $uri = '{0}?api-version=2020-06-01&resource={1}' -f $IdentityEndpoint, [uri]::EscapeDataString($Resource)
  $keyFile = $null
  try {
    Invoke-WebRequest -Method GET -Uri $uri -Headers @{ Metadata = 'true' } -UseBasicParsing -TimeoutSec 30 | Out-Null
    Fail "himds: expected a 401 challenge from $IdentityEndpoint, got a token without one"
  } catch {
    $status = Get-Status $_
    if ($status -eq 0) { Fail "himds: identity endpoint $IdentityEndpoint is not reachable ($($_.Exception.Message)): is the agent running and connected (azcmagent show)?" }
    if ($status -ne 401) { Fail "himds: expected a 401 challenge from $IdentityEndpoint, got HTTP $status" }
    $header = $_.Exception.Response.Headers['WWW-Authenticate']
    if ($header -match 'Basic realm=(.+)') { $keyFile = $Matches[1].Trim() }
  }
  if (-not $keyFile) { Fail "himds: the 401 carried no 'WWW-Authenticate: Basic realm=<key file>' header" }
  $leaf = Split-Path -Leaf $keyFile
  if (-not $leaf.EndsWith('.key')) { Fail "himds: the challenge names $keyFile, not a .key file: refusing to read it" }
  if ($keyFile -ne ($TokensDir + $leaf)) { Fail "himds: the challenge names $keyFile, outside the agent's token directory ${TokensDir}: refusing to read it" }
  if (-not (Test-Path -LiteralPath $keyFile)) { Fail "himds: key file $keyFile named by the challenge does not exist" }
  $item = Get-Item -LiteralPath $keyFile -Force
  if ($item.PSIsContainer -or $item.LinkType) { Fail "himds: key file $keyFile is not a regular file: refusing to read it" }
  if ($item.Length -gt 4096) { Fail "himds: key file $keyFile is $($item.Length) bytes, over the 4096 the agent writes: refusing to read it" }
  try { $raw = Get-Content -Raw -LiteralPath $keyFile } catch {
    Fail "himds: cannot read key file $keyFile as $env:USERNAME: run as an administrator or a member of 'Hybrid agent extension applications'"
  }
  # Line breaks removed, as verify-identity.sh does (tr -d '\r\n'): a header value cannot carry them.
  $key = ([string]$raw) -replace "[`r`n]", ''
  try {
    $response = Invoke-WebRequest -Method GET -Uri $uri -Headers @{ Metadata = 'true'; Authorization = "Basic $key" } -UseBasicParsing -TimeoutSec 30
  } catch {
    $status = Get-Status $_
    if ($status -eq 401 -or $status -eq 403) { Fail "himds: the endpoint rejected the key file's contents (HTTP $status, wrong or stale secret)" }
    if ($status -eq 0) { Fail "himds: identity endpoint went away during the challenge ($($_.Exception.Message))" }
    Fail "himds: token request for $Resource answered HTTP $status"
  }
  $token = (ConvertFrom-Json $response.Content).access_token
  if (-not $token) { Fail "himds: token response for $Resource has no access_token" }
  return $token
}

if (-not $StorageAccountUrl -or -not $Container) { Fail 'usage: STORAGE_ACCOUNT_URL and CONTAINER are required' }

$storageToken = Get-HimdsToken $StorageResource
Write-Output "PASS himds: token for $StorageResource"

# A 403 right after the grant is usually propagation: wait and try again, a bounded number of times.
function Invoke-WithRetry([scriptblock]$Request) {
  foreach ($delay in @($RetryDelays) + @(-1)) {
    try { return & $Request } catch {
      if ((Get-Status $_) -ne 403 -or $delay -lt 0) { throw }
      [Console]::Error.WriteLine("WAIT $delay s: HTTP 403, the role assignment may still be propagating")
      Start-Sleep -Seconds $delay
    }
  }
}

$blobUrl = '{0}/{1}/{2}' -f $StorageAccountUrl.TrimEnd('/'), $Container, $BlobName
$payload = "keyless verification from $($env:COMPUTERNAME) at $((Get-Date).ToUniversalTime().ToString('yyyy-MM-ddTHH:mm:ssZ'))"
try {
  Invoke-WithRetry {
    Invoke-WebRequest -Method PUT -Uri $blobUrl -Body $payload -ContentType 'text/plain' -UseBasicParsing -TimeoutSec 30 -Headers @{
      Authorization = "Bearer $storageToken"; 'x-ms-version' = '2021-08-06'; 'x-ms-blob-type' = 'BlockBlob'
    }
  } | Out-Null
  Write-Output "PASS storage: uploaded $blobUrl"
} catch {
  $status = Get-Status $_
  if ($status -eq 403) { Fail "storage: HTTP 403 on ${blobUrl}: the identity has no Storage Blob Data Contributor on container $Container for this path (still 403 after the retries; new role assignments can take up to 10 minutes)" }
  if ($status -eq 404) { Fail "storage: HTTP 404 on ${blobUrl}: container $Container does not exist" }
  if ($status -eq 0) { Fail "storage: $blobUrl is not reachable ($($_.Exception.Message))" }
  Fail "storage: upload to $blobUrl answered HTTP $status"
}

if (-not $VaultUri) {
  Write-Output 'SKIP keyvault: no VAULT_URI (keyless:arc.grants.keyVault is none)'
} else {
  $vaultToken = Get-HimdsToken $VaultResource
  Write-Output "PASS himds: token for $VaultResource"
  $secretUrl = '{0}/secrets/{1}?api-version=7.4' -f $VaultUri.TrimEnd('/'), $SecretName
  try {
    $secret = Invoke-WithRetry { Invoke-RestMethod -Method GET -Uri $secretUrl -TimeoutSec 30 -Headers @{ Authorization = "Bearer $vaultToken" } }
  } catch {
    $status = Get-Status $_
    if ($status -eq 403) { Fail "keyvault: HTTP 403 reading secret ${SecretName}: the identity has no Key Vault Secrets User on the secret yet (still 403 after the retries), or the vault firewall blocks this host" }
    if ($status -eq 404) { Fail "keyvault: HTTP 404: secret $SecretName does not exist in $VaultUri" }
    if ($status -eq 0) { Fail "keyvault: $VaultUri is not reachable ($($_.Exception.Message))" }
    Fail "keyvault: reading secret $SecretName answered HTTP $status"
  }
  if ($ExpectedSecret -and $secret.value -ne $ExpectedSecret) { Fail "keyvault: secret $SecretName has an unexpected value" }
  Write-Output "PASS keyvault: read secret $SecretName"
}
Write-Output 'keyless-verify: OK'
