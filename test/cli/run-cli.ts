// Runs `fwd` from source to its end, synchronously, with a clean environment and a module probe
// preloaded (fixtures/loaded-modules.ts): for help, completion and -G, which print and exit.

import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { TEST_HOME } from "../harness/fwd.ts";

const ROOT = join(import.meta.dir, "..", "..");

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  /** Heavy packages (ssh2, hono, valibot, smol-toml) that the run evaluated. */
  loaded: string[];
}

export function fwdSync(args: string[], env: Record<string, string> = {}, input?: string): CliResult {
  const r = spawnSync(process.execPath, ["--preload", join(import.meta.dir, "fixtures", "loaded-modules.ts"), join(ROOT, "src", "main.ts"), ...args], {
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: TEST_HOME, ...env },
    input,
    timeout: 20_000,
  });
  const stderr = r.stderr.toString();
  const probe = /^loaded-packages: (.*)$/m.exec(stderr);
  return {
    code: r.status ?? 128,
    stdout: r.stdout.toString(),
    stderr: stderr.replace(/^loaded-packages: .*\n?/m, ""),
    loaded: probe && probe[1] !== "none" ? probe[1]!.split(",") : [],
  };
}
