// Builds dist/fwd: one standalone executable (`bun build --compile`) with the plugins and scenarios
// embedded, that runs with no node_modules beside it, and the plugin declarations generated first.

import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { generatePluginApiDts, PLUGIN_API_DTS_FILE, pluginApiDtsModule } from "./plugin-dts.ts";

const root = join(import.meta.dir, "..");
const out = join(root, "dist", "fwd");
mkdirSync(join(root, "dist"), { recursive: true });
// The plugin declarations the binary embeds (for `fwd plugin new`) are generated from src/index.ts
// here, so a binary never hands out types older than its API.
const dts = pluginApiDtsModule(generatePluginApiDts());
if (!existsSync(PLUGIN_API_DTS_FILE) || readFileSync(PLUGIN_API_DTS_FILE, "utf8") !== dts) writeFileSync(PLUGIN_API_DTS_FILE, dts);
const extra = process.argv.slice(2);
const r = spawnSync(process.execPath, [
  "build", "--compile", "--minify", "--sourcemap", "--bytecode",
  // A tool dropped on servers must not pick up a .env or bunfig.toml (which can preload code) from
  // whatever directory it is started in.
  "--no-compile-autoload-dotenv", "--no-compile-autoload-bunfig",
  ...extra,
  join(root, "src", "main.ts"), "--outfile", out,
], {
  stdio: "inherit",
  cwd: root,
});
if (r.status !== 0) process.exit(r.status ?? 1);
console.log(`built ${out}`);
