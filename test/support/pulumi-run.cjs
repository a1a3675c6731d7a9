// Runs the program the way `pulumi up` does: @pulumi/pulumi's own language-runtime entry
// (cmd/run/run.js `run`), given Pulumi.yaml's `main`, under the loader `nodeargs` names, with the
// SDK's mock monitor and the offline plan's mocks standing in for the engine. Prints one JSON line,
// { "types": [...] }: the type of every registration, and "invoke <token> via <provider>" for every
// invoke ("DEFAULT" when it names no provider). Usage (from the project root):
//   node --require ./tools/runtime/register.cjs test/support/pulumi-run.cjs <main> < config.json
// config.json: { "project", "stack", "values": { "ns:key": "value" }, "secretKeys": [...] }
"use strict";
const Module = require("node:module");
const path = require("node:path");
const fs = require("node:fs");

// cmd/run/index.js parses the engine's argv and starts at once; only run.js's `run` is wanted, and
// it reads one constant from index.js.
const index = require.resolve("@pulumi/pulumi/cmd/run/index.js", { paths: [process.cwd()] });
const stub = new Module(index);
stub.filename = index;
stub.loaded = true;
stub.exports = { nodeJSProcessExitedAfterLoggingUserActionableMessage: 32 };
require.cache[index] = stub;

const pulumi = require(require.resolve("@pulumi/pulumi", { paths: [process.cwd()] }));
const { run } = require(require.resolve("@pulumi/pulumi/cmd/run/run.js", { paths: [process.cwd()] }));
const config = JSON.parse(fs.readFileSync(0, "utf8"));
const types = [];
// The offline plan's mocks (realistic ARM ids, principal ids), recording each registration's type.
const { mocks } = require("../../tools/plan/mocks.ts");
pulumi.runtime.setAllConfig(config.values, config.secretKeys);
pulumi.runtime
  .setMocks(
    {
      newResource: (a) => {
        types.push(a.type);
        return mocks.newResource(a);
      },
      call: (a) => {
        types.push(`invoke ${a.token} via ${a.provider ? a.provider.split("::").slice(-2).join("::") : "DEFAULT"}`);
        return mocks.call(a);
      },
    },
    config.project,
    config.stack,
    true,
  )
  .then(() => run({ _: [path.resolve(process.argv[2])], pwd: process.cwd() }, () => {}, (err) => process.stderr.write(`${err}\n`), () => false))
  .then(async () => {
    // Every outstanding registration has reached the mock monitor (what the runtime awaits before it exits).
    await require(require.resolve("@pulumi/pulumi/runtime/settings", { paths: [process.cwd()] })).waitForRPCs();
    process.stdout.write(`${JSON.stringify({ types })}\n`);
  })
  .catch((err) => {
    process.stderr.write(`pulumi-run: ${err && err.stack ? err.stack : err}\n`);
    process.exit(1);
  });
