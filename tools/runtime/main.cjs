"use strict";
// The program's entry for `pulumi up` (Pulumi.yaml `main`). Pulumi's Node.js runtime calls the
// module's export when that export is a function, but for a CommonJS program it does not look inside
// `export default` (it unwraps `default` only for "type": "module" packages: @pulumi/pulumi
// cmd/run/run.js; pulumi/pulumi#4017). index.ts's default export is the program, so this hands the
// runtime that function. `.ts` loads through tools/runtime/register.cjs (Pulumi.yaml `nodeargs`).
module.exports = require("../../index.ts").default;
