import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { rootSchema } from "../lib/config";
import { bool, intRange, oneOf, pattern, strictObject, uniqueList } from "../lib/config/rules";
import { renderConfigReference } from "../tools/docs/config-reference";
import { root } from "./support/harness";

// docs/config-reference.md is generated from the schema; it must be what `npm run docs:config` writes.

describe("docs/config-reference.md", () => {
  it("is up to date with lib/config (run `npm run docs:config` after changing the schema)", () => {
    expect(readFileSync(join(root, "docs/config-reference.md"), "utf8")).toBe(renderConfigReference());
  });

  it("documents every key of the root schema with its rule text", () => {
    const doc = renderConfigReference();
    for (const key of Object.keys(z.toJSONSchema(rootSchema).properties ?? {})) expect(doc).toContain(`keyless:${key}`);
    expect(doc).toContain("| `keyless:workload` | string | yes |  | pattern `^[a-z0-9]{2,10}$` | must be 2-10 lowercase letters or digits |");
    expect(doc).toContain("| `keyless:keyVault.softDeleteRetentionDays` | integer | no | `90` | 7 to 90 | must be a whole number from 7 to 90 |");
  });

  it("walks any section generically: nested objects, lists of objects, maps of objects, descriptions", () => {
    const schema = strictObject({
      workload: pattern(/^[a-z]{2}$/, "two letters"),
      arc: strictObject({
        enabled: bool().default(false).describe("Build the Arc part."),
        servers: uniqueList(strictObject({ name: pattern(/^[a-z]+$/, "lowercase letters"), port: intRange(1, 65535).default(22) }), "servers", (s) => s.name),
        tenants: z.record(z.string(), strictObject({ role: oneOf(["Reader", "Contributor"]) })),
      }).optional(),
    });
    const doc = renderConfigReference(schema);
    expect(doc).toContain("## keyless:arc\n\nOptional object.\n");
    expect(doc).toContain("| `keyless:arc.enabled`<br>Build the Arc part. | boolean | no | `false` |  | must be true or false |");
    expect(doc).toContain("| `keyless:arc.servers[].name` | string | yes |  | pattern `^[a-z]+$` | must be lowercase letters |");
    expect(doc).toContain("| `keyless:arc.servers[].port` | integer | no | `22` | 1 to 65535 | must be a whole number from 1 to 65535 |");
    expect(doc).toContain("| `keyless:arc.tenants.<name>.role` | string | yes |  | `Reader`, `Contributor` | must be one of Reader \\| Contributor |");
  });
});
