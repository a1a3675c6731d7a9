// Runs before `npm test` and `npm run plan` (package.json pre-scripts) on whatever Node is on PATH,
// so it is plain old JavaScript. One line saying what to install, instead of a crash minutes later.
// `npm ci` is stopped earlier still by engine-strict (.npmrc) and package.json "engines".
var want = require("../package.json").engines.node; // ">=22.13.0"
var min = want.replace(/^>=/, "").split(".").map(Number);
var have = process.versions.node.split(".").map(Number);
var old = have[0] < min[0] || (have[0] === min[0] && (have[1] < min[1] || (have[1] === min[1] && have[2] < min[2])));
if (old) {
  process.stderr.write("keyless needs Node.js " + min.join(".") + " or later (this is " + process.version + "): install Node 24 (`nvm install` reads .nvmrc) and run `npm ci` again\n");
  process.exit(1);
}
