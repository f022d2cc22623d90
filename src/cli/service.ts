// `fwd service print NAME|--all` and `fwd service install NAME|--all`: a systemd user unit that keeps
// `fwd up` running. It restarts on failure, but not after exits another attempt cannot fix (a bad
// config, a refused key, a changed host key); reload is SIGHUP; readiness is reported once every
// forward listens (Type=notify through systemd-notify), or the unit is Type=exec where that is missing.

import { fileURLToPath } from "node:url";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { FwdError, fail, ok, type Result } from "../errors.ts";
import { runtimeInfo } from "../runtime/index.ts";
import { configDir } from "../scenario/paths.ts";
import { EXIT } from "./exit-codes.ts";
import { loggerFor } from "./scenario-setup.ts";
import { report } from "./serve.ts";

const USAGE = "usage: fwd service print|install NAME|--all [--dir DIR] [-- fwd up options…]";
/** Exits after which restarting would only fail the same way again (see exit-codes.ts). */
const NO_RESTART = [EXIT.config, EXIT.auth, EXIT.hostKey];

export interface UnitRequest {
  /** One scenario, or undefined for every scenario of the folder. */
  name?: string;
  dir?: string;
  /** More `fwd up` options (e.g. --status 8022). */
  extra: string[];
  /** How fwd itself is started: the binary, or the runtime and the entry file. */
  command: string[];
  notify: boolean;
}

export function unitFileName(name: string | undefined): string {
  return name ? `fwd-${name}.service` : "fwd.service";
}

/** The unit's text. */
export function renderUnit(r: UnitRequest): string {
  const args = [...r.command, "up", ...(r.name ? [r.name] : []), ...(r.dir ? ["--dir", r.dir] : []), ...r.extra];
  const unit = unitFileName(r.name);
  return [
    `# ${unit}: ${r.name ? `the fwd scenario ${r.name}` : "every fwd scenario"}, kept running by systemd (made by fwd service).`,
    `#   systemctl --user daemon-reload && systemctl --user enable --now ${unit}`,
    `#   loginctl enable-linger ${process.env.USER ?? "$USER"}   # keeps it running while you are not logged in`,
    `#   systemctl --user reload ${unit}   # after editing the scenario files (SIGHUP)`,
    `#   journalctl --user -u ${unit} -f`,
    "[Unit]",
    `Description=fwd: ${r.name ? `scenario ${r.name}` : "every scenario"}`,
    "",
    "[Service]",
    ...(r.notify
      ? ["# Ready once every forward listens; systemd-notify sends it for fwd, hence NotifyAccess=all.", "Type=notify", "NotifyAccess=all"]
      : ["# systemd-notify was not found when this was made: started is all systemd learns.", "Type=exec"]),
    `ExecStart=${args.map(unitWord).join(" ")}`,
    "ExecReload=/bin/kill -HUP $MAINPID",
    "Restart=on-failure",
    "RestartSec=5",
    `# ${NO_RESTART.join(", ")}: a bad scenario, a refused key, a changed host key — a restart would fail the same way.`,
    `RestartPreventExitStatus=${NO_RESTART.join(" ")}`,
    "",
    "[Install]",
    "WantedBy=default.target",
    "",
  ].join("\n");
}

export async function serviceCommand(argv: string[]): Promise<number> {
  const log = loggerFor(argv);
  const dash = argv.indexOf("--");
  const own = dash < 0 ? argv : argv.slice(0, dash);
  const extra = dash < 0 ? [] : argv.slice(dash + 1);
  const [verb, ...rest] = own.filter((a) => a !== "--json" && a !== "-q");
  let dir: string | undefined;
  let all = false;
  const names: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    if (rest[i] === "--dir") dir = rest[++i];
    else if (rest[i] === "--all") all = true;
    else names.push(rest[i]!);
  }
  if (verb !== "print" && verb !== "install") return report(log, new FwdError("E_CONFIG", `fwd service: ${verb === undefined ? "print or install?" : `unknown '${verb}'`}`, USAGE));
  if (all === (names.length === 1) || names.length > 1) return report(log, new FwdError("E_CONFIG", "fwd service: name one scenario, or --all", USAGE));
  if (dir === "") return report(log, new FwdError("E_CONFIG", "--dir needs a folder", USAGE));
  const name = names[0];
  const folder = dir ? resolve(dir) : join(configDir(), "scenarios");
  const checked = checkName(name, folder);
  if (!checked.ok) return report(log, checked.error);
  const text = renderUnit({ ...(name ? { name } : {}), ...(dir ? { dir: folder } : {}), extra, command: fwdCommand(), notify: hasSystemdNotify() });
  if (verb === "print") {
    process.stdout.write(text);
    return EXIT.ok;
  }
  const unitDir = join(process.env.XDG_CONFIG_HOME?.startsWith("/") ? process.env.XDG_CONFIG_HOME : join(process.env.HOME || homedir(), ".config"), "systemd", "user");
  const file = join(unitDir, unitFileName(name));
  try {
    mkdirSync(unitDir, { recursive: true, mode: 0o700 });
    writeFileSync(file, text, { mode: 0o600 });
  } catch (e) {
    return report(log, new FwdError("E_CONFIG", `fwd service: ${file}: ${(e as Error).message}`, "check that folder's permissions"));
  }
  log.print(`wrote ${file}`, { file });
  log.print(`enable it:  systemctl --user daemon-reload && systemctl --user enable --now ${unitFileName(name)}`);
  log.print(`keep it running without a login:  loginctl enable-linger ${process.env.USER ?? "$USER"}`);
  return EXIT.ok;
}

function checkName(name: string | undefined, folder: string): Result<void> {
  if (name === undefined) return ok(undefined);
  if (!/^[A-Za-z0-9_][A-Za-z0-9._-]*$/.test(name)) return fail(new FwdError("E_CONFIG", `fwd service: scenario name "${name.replace(/[\x00-\x1f\x7f]/g, "?")}": expected letters, digits, . _ or -`, USAGE));
  if (!existsSync(join(folder, `${name}.toml`))) return fail(new FwdError("E_CONFIG", `fwd service: no scenario ${join(folder, `${name}.toml`)}`, "`fwd scenarios` lists them; --dir names another folder"));
  return ok(undefined);
}

/** This fwd, as the unit should start it: the standalone binary, or the runtime with the entry file. */
function fwdCommand(): string[] {
  const rt = runtimeInfo();
  if (rt.compiled) return [process.execPath];
  const main = fileURLToPath(new URL("../main.ts", import.meta.url));
  return rt.name === "deno" ? [process.execPath, "run", "-A", main] : [process.execPath, main];
}

function hasSystemdNotify(): boolean {
  return spawnSync("systemd-notify", ["--help"], { stdio: "ignore" }).status === 0;
}

/** One ExecStart word: quoted where it has spaces or quotes, with systemd's % and $ escaped. */
export function unitWord(w: string): string {
  const escaped = w.replace(/%/g, "%%").replace(/\$/g, "$$$$");
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(escaped) ? escaped : `"${escaped.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
}
