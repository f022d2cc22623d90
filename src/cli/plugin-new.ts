// `fwd plugin new NAME [DIR]`: writes a commented plugin to start from (into the user's plugins
// folder by default), and type declarations beside it (generated from src/index.ts) so an editor checks it.

import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { FwdError } from "../errors.ts";
import { configDir } from "../scenario/paths.ts";
import { EXIT } from "./exit-codes.ts";
import { loggerFor } from "./scenario-setup.ts";
import { report } from "./serve.ts";
import { PLUGIN_API_DTS, PLUGIN_DTS, pluginTemplate } from "./plugin-template.ts";

export async function pluginCommand(argv: string[]): Promise<number> {
  const log = loggerFor(argv);
  const [verb, name, dirArg] = argv;
  if (verb !== "new" || name === undefined)
    return report(log, new FwdError("E_CONFIG", "usage: fwd plugin new NAME [DIR]", "NAME is kebab-case, e.g. redis-via-bastion"));
  if (!/^[a-z][a-z0-9-]*$/.test(name)) return report(log, new FwdError("E_CONFIG", `plugin name '${name}': expected kebab-case (a-z, 0-9, -)`, "e.g. redis-via-bastion"));
  const dir = dirArg ?? join(configDir(), "plugins");
  const file = join(dir, `${name}.ts`);
  if (existsSync(file)) return report(log, new FwdError("E_CONFIG", `${file} exists already`, "pick another name, or edit that file"));
  // Whatever the umask, fwd must not write a plugin it would then refuse to run as writable by others.
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileSync(file, pluginTemplate(name), { mode: 0o644 });
  writeFileSync(join(dir, "fwd-plugin.d.ts"), PLUGIN_DTS, { mode: 0o644 });
  writeFileSync(join(dir, "fwd-plugin-api.d.ts"), PLUGIN_API_DTS, { mode: 0o644 });
  log.print(`wrote ${file}\n  try it: fwd scenarios show ${name}${dirArg ? ` --plugin ${file}` : ""}\n  run it: fwd run ${name}${dirArg ? ` --plugin ${file}` : ""} --bastion user@host --target host:port`);
  return EXIT.ok;
}
