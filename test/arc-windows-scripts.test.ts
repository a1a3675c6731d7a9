import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { arcScripts, cmdExeLimit } from "../components/arc-server";
import { readStackConfig, secretPlaceholder } from "../tools/plan/stack-file";
import { planProgram, resource, root } from "./support/harness";

// PowerShell cannot run here: check statically that the Windows scripts mirror the Linux ones step for
// step (same endpoints, versions, failure steps and wording) and that the Windows onboarding command
// carries no secret.

const sh = arcScripts.verifyLinux;
const ps = arcScripts.verifyWindows;

/** "FAIL <step>: <first words>" of every failure message. */
function failures(text: string): string[] {
  const out = new Set<string>();
  for (const m of text.matchAll(/fail "((?:himds|storage|keyvault): [^"$({]{8,40})/gi)) out.add(m[1].replace(/\s+$/, ""));
  return [...out].sort();
}

describe("verify-identity.ps1 mirrors verify-identity.sh", () => {
  it("uses the same HIMDS api-version, token resources, Blob and Key Vault API versions", () => {
    for (const needle of ["api-version=2020-06-01", "https://storage.azure.com/", "https://vault.azure.net", "2021-08-06", "BlockBlob", "api-version=7.4", "Basic realm=", "http://localhost:40342/metadata/identity/oauth2/token", "/keyless-verify.txt", "4096", ".key", "WAIT "]) {
      expect(sh).toContain(needle);
      expect(ps).toContain(needle);
    }
  });

  it("bounds every request at 30 s, as curl --max-time 30 does on Linux (the run command's timeout counts on it)", () => {
    expect(sh).toContain("--max-time 30");
    const requests = ps.match(/Invoke-(WebRequest|RestMethod) [^\n]*/g) ?? [];
    expect(requests).toHaveLength(4);
    for (const r of requests) expect(r).toContain("-TimeoutSec 30");
  });

  it("sends the key file's contents without line breaks, on both", () => {
    expect(sh).toContain(`tr -d '\\r\\n' <"$keyfile"`);
    expect(ps).toContain('$key = ([string]$raw) -replace "[`r`n]", \'\'');
  });

  it("fails at the same steps with the same wording", () => {
    const linux = failures(sh);
    expect(linux.length).toBeGreaterThanOrEqual(12);
    expect(failures(ps)).toEqual(linux);
  });

  it("prints the same PASS lines and exits 1 on failure", () => {
    for (const line of ["PASS himds: token for", "PASS storage: uploaded", "PASS keyvault: read secret", "keyless-verify: OK"]) {
      expect(sh).toContain(line);
      expect(ps).toContain(line);
    }
    expect(ps).toMatch(/function Fail[\s\S]*?exit 1/);
  });
});

describe("Windows onboarding", () => {
  it("takes the credential from the bootstrap's stdin line into an Administrators/SYSTEM-only --config file", () => {
    const onboard = readFileSync(join(root, "scripts/arc/onboard-windows.ps1"), "utf8");
    expect(onboard).toContain("$secret = $Credential");
    expect(onboard).toContain("/inheritance:r /grant:r '*S-1-5-18:(OI)(CI)F' '*S-1-5-32-544:(OI)(CI)F'");
    expect(onboard).toMatch(/& \$azcmagent connect --config \$config/);
    expect(onboard).toMatch(/& \$azcmagent disconnect --config \$config/);
    expect(onboard).toContain("$settings['access-token'] = $secret");
    expect(onboard).toMatch(/'disconnect' -and \$tokenMethod\) \{[\s\S]*?& \$azcmagent disconnect --force-local-only/);
    expect(onboard).not.toMatch(/--service-principal-secret|--access-token/);
  });

  it("writes the agent's --config file as UTF-8 without a byte-order mark (azcmagent reads it as JSON)", () => {
    const onboard = readFileSync(join(root, "scripts/arc/onboard-windows.ps1"), "utf8");
    // Windows PowerShell 5.1's Set-Content -Encoding UTF8 and Out-File would write a BOM.
    const code = onboard.split("\n").filter((l) => !/^\s*#/.test(l)).join("\n");
    expect(code).not.toMatch(/Set-Content|Out-File|-Encoding/);
    expect(onboard).toContain("[IO.File]::WriteAllText($config, ($Settings | ConvertTo-Json), (New-Object System.Text.UTF8Encoding $false))");
    expect(onboard.match(/Write-AgentConfig (@\{|\$settings)/g)).toHaveLength(2);
  });

  it("stops, as onboard-linux.sh does, when the agent is connected as another resource, group or subscription", () => {
    const onboard = readFileSync(join(root, "scripts/arc/onboard-windows.ps1"), "utf8");
    // The same labels of `azcmagent show`, compared with -ne (case-insensitive, as bash's ${x,,} and ARM names).
    expect(onboard).toContain(`foreach ($line in $show) { if ("$line" -match "^\\s*$Label\\s*:\\s*(.*\\S)") { return $Matches[1] } }`);
    expect(onboard).toMatch(/if \(\(Get-Shown 'Agent Status'\) -like 'Connected\*'\) \{/);
    for (const [label, variable, param] of [["Resource Name", "$name", "ResourceName"], ["Resource Group Name", "$group", "ResourceGroup"], ["Subscription ID", "$sub", "SubscriptionId"]]) {
      expect(arcScripts.onboardLinux).toContain(`$(shown '${label}')`);
      expect(onboard).toContain(`${variable} = Get-Shown '${label}'`);
      expect(onboard).toContain(`(${variable} -and ${variable} -ne $Arc.${param})`);
    }
    expect(arcScripts.onboardLinux).toContain('want="${arg[resource-name]} in resource group ${arg[resource-group]}, subscription ${arg[subscription-id]}"');
    expect(onboard).toContain('$want = "$($Arc.ResourceName) in resource group $($Arc.ResourceGroup), subscription $($Arc.SubscriptionId)"');
    // Word for word the same messages: the refusal (then exit 1) and the warning when show names none.
    const linux = [...arcScripts.onboardLinux.matchAll(/echo "(arc-onboard: (?:this machine is connected|WARNING: azcmagent show names)[^"]*)" >&2(\n\s*exit 1)?/g)].map((m) => [m[1], Boolean(m[2])]);
    const windows = [...onboard.matchAll(/\[Console\]::Error\.WriteLine\("(arc-onboard: (?:this machine is connected|WARNING: azcmagent show names)[^"]*)"\)(\n\s*exit 1)?/g)].map((m) => [m[1], Boolean(m[2])]);
    expect(linux).toEqual([
      ["arc-onboard: WARNING: azcmagent show names no Resource Name, Resource Group Name or Subscription ID: not checking that this machine is connected as ${want}", false],
      ["arc-onboard: this machine is connected to Azure Arc as ${have}, not as ${want}: disconnect it first (azcmagent disconnect), or list it in keyless:arc.servers as onboard: existing", true],
    ]);
    expect(windows).toEqual(linux);
  });

  it.each(["onboard-windows.ps1", "verify-identity.ps1"])("%s adds TLS 1.2 before its first web request (Windows PowerShell 5.1 on older Windows Server)", (file) => {
    const code = readFileSync(join(root, "scripts/arc", file), "utf8")
      .split("\n")
      .filter((l) => !/^\s*#/.test(l))
      .join("\n");
    const tls = code.indexOf("[Net.ServicePointManager]::SecurityProtocol = [Net.ServicePointManager]::SecurityProtocol -bor [Net.SecurityProtocolType]::Tls12");
    const request = code.search(/Invoke-(WebRequest|RestMethod) /);
    expect(tls).toBeGreaterThan(-1);
    expect(request).toBeGreaterThan(tls);
  });

  it("the script itself does not fit cmd.exe's 8,191 characters as an encoded command", () => {
    // Why the script travels on stdin: as -EncodedCommand (UTF-16, base64) it is far over the limit.
    expect(Buffer.from(arcScripts.onboardWindows, "utf16le").toString("base64").length).toBeGreaterThan(cmdExeLimit);
  });

  it.each(["access-token", "service-principal"] as const)("runs a short encoded bootstrap (%s) that holds the parameters but no secret; the script comes on stdin", async (method) => {
    const fleet = readStackConfig(`${root}/stacks/arc-fleet.yaml`);
    const arc = JSON.parse(fleet.values["keyless:arc"]) as { servers: Record<string, unknown>[]; onboarding?: unknown };
    arc.servers[2] = { name: "arc-win-01", os: "windows", onboard: "ssh", ssh: { host: "198.51.100.7", user: "Administrator", port: 22 } };
    const secrets = JSON.parse(fleet.values["keyless:arcSecrets"]) as { sshPrivateKeys: Record<string, string>; servicePrincipalSecret?: string };
    secrets.sshPrivateKeys["arc-win-01"] = secretPlaceholder;
    if (method === "service-principal") {
      arc.onboarding = { servicePrincipalId: "3f2b8c1d-6e4a-4b7c-9d0e-1a2b3c4d5e6f" };
      secrets.servicePrincipalSecret = secretPlaceholder;
    }
    // Long tags: the command stays short whatever the script's size, but the parameters ride in it.
    const tags = { owner: "platform", "cost-center": "c".repeat(200), application: "a b ".repeat(50).trim() };
    const p = await planProgram({ ...fleet.values, "keyless:tags": JSON.stringify(tags), "keyless:arc": JSON.stringify(arc), "keyless:arcSecrets": JSON.stringify(secrets) }, { stack: "arc", secretKeys: fleet.secretKeys, preview: false, allowPlaceholders: true });
    const cmd = resource(p, "command:remote:Command", "arc-arc-win-01-onboard");
    expect(cmd.inputs.stdin).toBe("[secret]");
    for (const [mode, text] of [["connect", cmd.inputs.create], ["disconnect", cmd.inputs.delete]] as const) {
      expect((text as string).length).toBeLessThanOrEqual(cmdExeLimit);
      const m = /^powershell\.exe -NoProfile -NonInteractive -ExecutionPolicy Bypass -EncodedCommand ([A-Za-z0-9+/=]+)$/.exec(text as string);
      expect(m).not.toBeNull();
      const script = Buffer.from(m?.[1] ?? "", "base64").toString("utf16le");
      const sp = method === "service-principal" ? "3f2b8c1d-6e4a-4b7c-9d0e-1a2b3c4d5e6f" : "";
      expect(script).toContain(`$Arc = @{ Mode = '${mode}'; Method = '${method}'; ServicePrincipalId = '${sp}';`);
      expect(script).toContain("ResourceGroup = 'rg-keyless-arc-arc'; Location = 'japaneast'; ResourceName = 'arc-win-01'");
      expect(script).toContain(`Tags = 'application='${"a b ".repeat(50).trim()}'`.replace(/'/g, "''").replace(/^Tags = ''/, "Tags = '"));
      // The bootstrap reads the credential line, then runs the rest of stdin as the script.
      expect(script).toContain("$Credential = $stdin.Substring(0, $nl).TrimEnd([char]13)");
      expect(script).toContain("& ([scriptblock]::Create($stdin.Substring($nl + 1)))");
      expect(script).not.toContain(arcScripts.onboardWindows.slice(0, 200));
      expect(script).not.toContain(secretPlaceholder);
    }
  });
});
