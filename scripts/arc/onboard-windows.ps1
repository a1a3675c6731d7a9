# Windows twin of onboard-linux.sh: connect (or disconnect) this server to Azure Arc with a service
# principal. The ArcServer component prepends the $Arc hashtable (non-secret values) and runs it with
# powershell -EncodedCommand over SSH as an administrator; the service principal secret arrives on stdin
# only and reaches azcmagent through a --config file readable by Administrators and SYSTEM alone
# (azure-docs azure-arc/servers/azcmagent-connect.md, onboard-service-principal.md).
$ErrorActionPreference = 'Stop'
if (-not $Arc) { throw 'arc-onboard: $Arc parameters missing' }

$secret = [Console]::In.ReadLine()
if (-not $secret) { [Console]::Error.WriteLine('arc-onboard: no service principal secret on stdin'); exit 2 }

$dir = Join-Path $env:ProgramData ('arc-onboard-' + [guid]::NewGuid().ToString('N'))
New-Item -ItemType Directory -Path $dir | Out-Null
# Only SYSTEM and Administrators may read the directory that holds the secret.
icacls $dir /inheritance:r /grant:r '*S-1-5-18:(OI)(CI)F' '*S-1-5-32-544:(OI)(CI)F' | Out-Null
$config = Join-Path $dir 'azcmagent.json'
$azcmagent = Join-Path $env:ProgramW6432 'AzureConnectedMachineAgent\azcmagent.exe'
try {
  if ($Arc.Mode -eq 'disconnect') {
    if (-not (Test-Path $azcmagent)) { Write-Output 'arc-onboard: agent not installed, nothing to disconnect'; exit 0 }
    @{ 'service-principal-id' = $Arc.ServicePrincipalId; 'service-principal-secret' = $secret } | ConvertTo-Json | Set-Content -Path $config -Encoding UTF8
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
    Invoke-WebRequest -UseBasicParsing -Uri 'https://gbl.his.arc.azure.com/azcmagent-windows' -OutFile $installer
    & $installer
  }
  $status = & $azcmagent show 2>$null | Select-String -Pattern '^\s*Agent Status\s*:\s*Connected'
  if ($status) {
    Write-Output 'arc-onboard: already connected, not reconnecting'
  } else {
    @{
      'service-principal-id' = $Arc.ServicePrincipalId; 'service-principal-secret' = $secret; 'tenant-id' = $Arc.TenantId
      'subscription-id' = $Arc.SubscriptionId; 'resource-group' = $Arc.ResourceGroup; 'location' = $Arc.Location
      'resource-name' = $Arc.ResourceName; 'tags' = $Arc.Tags; 'cloud' = 'AzureCloud'
    } | ConvertTo-Json | Set-Content -Path $config -Encoding UTF8
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
