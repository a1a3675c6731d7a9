# Windows twin of onboard-linux.sh: connect (or disconnect) this server to Azure Arc with a short-lived
# ARM access token of the deployer ($Arc.Method 'access-token') or a service principal. The ArcServer
# component runs a short encoded bootstrap over SSH as an administrator: it sets the $Arc hashtable
# (non-secret values), reads stdin (first line: $Credential, the token or secret; the rest: this
# script) and runs this script. The script never rides on the command line, which cmd.exe cuts at
# 8,191 characters. The credential reaches azcmagent through a --config file readable by
# Administrators and SYSTEM alone (azure-docs azure-arc/servers/azcmagent-connect.md: the file's keys
# are the flags' long names; onboard-service-principal.md).
$ErrorActionPreference = 'Stop'
if (-not $Arc) { throw 'arc-onboard: $Arc parameters missing' }
$tokenMethod = $Arc.Method -eq 'access-token'
$azcmagent = Join-Path $env:ProgramW6432 'AzureConnectedMachineAgent\azcmagent.exe'

if ($Arc.Mode -eq 'disconnect' -and $tokenMethod) {
  # The token has expired by the time `pulumi destroy` runs; the stack has already deleted the machine
  # resource with the deployer's live Azure CLI login (azure-docs azcmagent-disconnect.md, --force-local-only).
  if (-not (Test-Path $azcmagent)) { Write-Output 'arc-onboard: agent not installed, nothing to disconnect'; exit 0 }
  & $azcmagent disconnect --force-local-only
  exit $LASTEXITCODE
}

$secret = $Credential
if (-not $secret) {
  if ($tokenMethod) { [Console]::Error.WriteLine('arc-onboard: no access token on stdin') } else { [Console]::Error.WriteLine('arc-onboard: no service principal secret on stdin') }
  exit 2
}

$dir = Join-Path $env:ProgramData ('arc-onboard-' + [guid]::NewGuid().ToString('N'))
New-Item -ItemType Directory -Path $dir | Out-Null
# Only SYSTEM and Administrators may read the directory that holds the secret.
icacls $dir /inheritance:r /grant:r '*S-1-5-18:(OI)(CI)F' '*S-1-5-32-544:(OI)(CI)F' | Out-Null
$config = Join-Path $dir 'azcmagent.json'
# UTF-8 without a byte-order mark: Windows PowerShell 5.1's `Set-Content -Encoding UTF8` writes one,
# and azcmagent (Go) reads the file as JSON, which must not start with a BOM (RFC 8259 section 8.1).
function Write-AgentConfig([hashtable]$Settings) {
  [IO.File]::WriteAllText($config, ($Settings | ConvertTo-Json), (New-Object System.Text.UTF8Encoding $false))
}
try {
  if ($Arc.Mode -eq 'disconnect') {
    if (-not (Test-Path $azcmagent)) { Write-Output 'arc-onboard: agent not installed, nothing to disconnect'; exit 0 }
    Write-AgentConfig @{ 'service-principal-id' = $Arc.ServicePrincipalId; 'service-principal-secret' = $secret }
    # Deletes the Microsoft.HybridCompute/machines resource too, so destroy leaves no orphan.
    & $azcmagent disconnect --config $config
    if ($LASTEXITCODE -ne 0) {
      # The Onboarding role alone may not delete the resource: disconnect locally (see onboard-linux.sh).
      [Console]::Error.WriteLine('arc-onboard: WARNING: could not delete the Azure resource with the service principal; disconnecting locally only')
      & $azcmagent disconnect --force-local-only
      if ($LASTEXITCODE -ne 0) { exit $LASTEXITCODE }
    }
    exit 0
  }
  if (-not (Test-Path $azcmagent)) {
    # Microsoft's installer script for Windows (azure-docs azure-arc/servers/onboard-service-principal.md).
    $installer = Join-Path $dir 'install_windows_azcmagent.ps1'
    # Windows PowerShell 5.1 on older Windows Server may not offer TLS 1.2; Arc machines are to use
    # TLS 1.2 (azure-docs azure-arc/servers/network-requirements.md, "Transport Layer Security 1.2
    # protocol"). Add it, as Microsoft's generated Arc onboarding scripts do (-bor 3072).
    [Net.ServicePointManager]::SecurityProtocol = [Net.ServicePointManager]::SecurityProtocol -bor [Net.SecurityProtocolType]::Tls12
    Invoke-WebRequest -UseBasicParsing -Uri 'https://gbl.his.arc.azure.com/azcmagent-windows' -OutFile $installer
    & $installer
  }
  $show = @(& $azcmagent show 2>$null)
  # The value of a "Label   : value" line of `azcmagent show`, or nothing.
  function Get-Shown([string]$Label) {
    foreach ($line in $show) { if ("$line" -match "^\s*$Label\s*:\s*(.*\S)") { return $Matches[1] } }
  }
  if ((Get-Shown 'Agent Status') -like 'Connected*') {
    # Connected as what? Checked as in onboard-linux.sh; -ne compares case-insensitively, as ARM names do.
    $name = Get-Shown 'Resource Name'
    $group = Get-Shown 'Resource Group Name'
    $sub = Get-Shown 'Subscription ID'
    $want = "$($Arc.ResourceName) in resource group $($Arc.ResourceGroup), subscription $($Arc.SubscriptionId)"
    if (-not ($name -or $group -or $sub)) {
      [Console]::Error.WriteLine("arc-onboard: WARNING: azcmagent show names no Resource Name, Resource Group Name or Subscription ID: not checking that this machine is connected as ${want}")
    } elseif (($name -and $name -ne $Arc.ResourceName) -or ($group -and $group -ne $Arc.ResourceGroup) -or ($sub -and $sub -ne $Arc.SubscriptionId)) {
      $have = '{0} in resource group {1}, subscription {2}' -f $(if ($name) { $name } else { '?' }), $(if ($group) { $group } else { '?' }), $(if ($sub) { $sub } else { '?' })
      [Console]::Error.WriteLine("arc-onboard: this machine is connected to Azure Arc as ${have}, not as ${want}: disconnect it first (azcmagent disconnect), or list it in keyless:arc.servers as onboard: existing")
      exit 1
    }
    # A connected machine is never re-onboarded, so a re-run never uses the (possibly expired) credential.
    Write-Output 'arc-onboard: already connected, not reconnecting'
  } else {
    $settings = @{
      'tenant-id' = $Arc.TenantId; 'subscription-id' = $Arc.SubscriptionId; 'resource-group' = $Arc.ResourceGroup
      'location' = $Arc.Location; 'resource-name' = $Arc.ResourceName; 'tags' = $Arc.Tags; 'cloud' = 'AzureCloud'
    }
    if ($tokenMethod) { $settings['access-token'] = $secret } else { $settings['service-principal-id'] = $Arc.ServicePrincipalId; $settings['service-principal-secret'] = $secret }
    Write-AgentConfig $settings
    & $azcmagent connect --config $config
    if ($LASTEXITCODE -ne 0) { exit $LASTEXITCODE }
  }
  # The agent sets IDENTITY_ENDPOINT and IMDS_ENDPOINT machine-wide on Windows; make sure they are there.
  [Environment]::SetEnvironmentVariable('IDENTITY_ENDPOINT', 'http://localhost:40342/metadata/identity/oauth2/token', 'Machine')
  [Environment]::SetEnvironmentVariable('IMDS_ENDPOINT', 'http://localhost:40342', 'Machine')
  Write-Output "arc-onboard: connected as $($Arc.ResourceName)"
} finally {
  Remove-Item -Recurse -Force -Path $dir -ErrorAction SilentlyContinue
}
