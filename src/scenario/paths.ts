// Where a user's fwd files live: $XDG_CONFIG_HOME/fwd (or ~/.config/fwd), with plugins/ and
// scenarios/ inside; and the one way from a scenario's name to its file.

import { homedir } from "node:os";
import { join, relative, resolve, sep } from "node:path";
import { FwdError, fail, ok, type Result } from "../errors.ts";

export function configDir(): string {
  const xdg = process.env.XDG_CONFIG_HOME;
  return join(xdg && xdg.startsWith("/") ? xdg : join(process.env.HOME || homedir(), ".config"), "fwd");
}

/**
 * The file of the scenario called `name` in the user's scenarios folder. A name is a file name there,
 * nothing else: `fwd run ../../etc/x` must not read a file outside it.
 */
export function scenarioFile(name: string): Result<string> {
  const dir = join(configDir(), "scenarios");
  const bad = (why: string) =>
    fail<string>(new FwdError("E_CONFIG", `scenario name "${name.replace(/[\x00-\x1f\x7f]/g, "?")}": ${why}`, `a scenario is a file NAME.toml in ${dir}; run one kept elsewhere with -f PATH`));
  if (name.includes("\0")) return bad("contains a NUL byte");
  if (name.includes("/") || name.includes("\\")) return bad("contains a path separator");
  if (name === "." || name === ".." || name.includes("..")) return bad("contains '..'");
  const file = resolve(dir, `${name}.toml`);
  // Belt and braces: whatever the name, the resolved file must lie directly in the folder.
  const rel = relative(resolve(dir), file);
  if (rel.startsWith("..") || rel.includes(sep)) return bad("leaves the scenarios folder");
  return ok(file);
}
