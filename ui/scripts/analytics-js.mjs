// Copies the browser SDK (@segment/analytics-next, pinned in package.json and locked in
// package-lock.json) into the built app, so that `headwater serve` hosts analytics.js itself:
// its standalone bundle (what the snippet loads), its UMD build and the chunks both load on
// demand. Run by `npm run build` after `vite build`, which empties the output folder first.
import { copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const ui = dirname(dirname(fileURLToPath(import.meta.url)));
const pkg = join(ui, "node_modules", "@segment", "analytics-next");
const from = join(pkg, "dist", "umd");
const to = join(ui, "..", "src", "headwater", "web", "dist", "analytics-next");

const { version } = JSON.parse(readFileSync(join(pkg, "package.json"), "utf8"));
const files = readdirSync(from).filter((name) => name.endsWith(".js") || name.endsWith(".js.map"));
if (!files.includes("standalone.js")) {
  throw new Error(`no standalone.js in ${from}: run npm ci in ui/`);
}
mkdirSync(to, { recursive: true });
for (const name of files) copyFileSync(join(from, name), join(to, name));
writeFileSync(join(to, "version.json"), JSON.stringify({ package: "@segment/analytics-next", version }) + "\n");
console.log(`analytics.js ${version}: ${files.length} files copied to ${to}`);
