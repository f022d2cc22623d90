// Every plugin fwd knows: the built-in ones (embedded), those in the user's plugins folder, and
// those named with --plugin. A plugin that fails to load is reported and left out; the rest work.

import { readdirSync } from "node:fs";
import { join } from "node:path";
import { BUILTIN_PLUGINS } from "../../plugins/index.ts";
import { checkTrusted } from "../file-trust.ts";
import { FwdError } from "../errors.ts";
import { configDir } from "../scenario/paths.ts";
import { loadPluginFile } from "./load.ts";
import type { Plugin } from "./types.ts";

export interface Registry {
  plugins: Map<string, { plugin: Plugin; source: string }>;
  problems: FwdError[];
}

/** `api`: src/index.ts's fwdApi, what a plugin file's default-exported function receives. */
export async function loadRegistry(extraFiles: string[], api: object): Promise<Registry> {
  const plugins = new Map<string, { plugin: Plugin; source: string }>();
  for (const p of BUILTIN_PLUGINS) plugins.set(p.name, { plugin: p, source: "built-in" });
  const problems: FwdError[] = [];
  const dir = join(configDir(), "plugins");
  let inDir: string[] = [];
  try {
    inDir = readdirSync(dir).filter((f) => /\.(ts|js|mjs)$/.test(f) && !f.endsWith(".d.ts")).map((f) => join(dir, f));
  } catch {
    // no plugins folder: nothing to load
  }
  // A folder others can write may hold anything by now: none of it runs (each file is checked too).
  const folder = inDir.length > 0 ? checkTrusted(dir, { what: "plugins folder" }) : undefined;
  if (folder && !folder.ok) {
    problems.push(new FwdError(folder.error.code, `${folder.error.message}: its plugins are not loaded`, folder.error.hint, { reason: folder.error.reason }));
    inDir = [];
  }
  for (const file of [...inDir, ...extraFiles]) {
    const r = await loadPluginFile(file, api);
    if (!r.ok) {
      problems.push(r.error);
      continue;
    }
    // A user's plugin may replace a built-in one of the same name, deliberately: it is listed as theirs.
    plugins.set(r.value.name, { plugin: r.value, source: file });
  }
  return { plugins, problems };
}
