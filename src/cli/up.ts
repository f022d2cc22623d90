// `fwd up [NAME…] [--dir DIR]`: every scenario of the user's folder (or the named ones) in one
// process and one engine, sessions shared where the hops are the same, one status page for all.
// SIGHUP (or `fwd reload`) reads the folder again, as nginx and sshd do; SIGINT/SIGTERM stop.

import { join } from "node:path";
import { FwdError } from "../errors.ts";
import { configDir } from "../scenario/paths.ts";
import { exitCodeFor } from "./exit-codes.ts";
import { liveControl } from "./forward-live.ts";
import { loggerFor } from "./scenario-setup.ts";
import { engineFor, report, serve } from "./serve.ts";
import { Fleet } from "./up-fleet.ts";

const USAGE = "usage: fwd up [NAME…] [--dir DIR] [--status [address:]port] [-F ssh_config] [-o Key=Value] [-i identity] [-v|-q] [--json]";
/** Options whose value is the next argument, passed on to every scenario (as `fwd run` takes them). */
const SSH_WITH_VALUE = new Set(["-F", "-o", "-i", "-c", "--max-retries"]);

export async function upCommand(argv: string[]): Promise<number> {
  const log = loggerFor(argv);
  const names: string[] = [];
  const sshArgs: string[] = [];
  let dir = join(configDir(), "scenarios");
  let status: string | undefined;
  let openMetrics = false;
  let maxConnections: number | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const next = () => argv[++i] ?? "";
    if (a === "--dir") dir = next();
    else if (a === "--status") status = next();
    else if (a === "--status-open-metrics") openMetrics = true;
    else if (a === "--max-connections") {
      const n = next();
      if (!/^\d+$/.test(n) || Number(n) < 1) return report(log, new FwdError("E_CONFIG", `--max-connections '${n}': expected a whole number of at least 1`, USAGE));
      maxConnections = Number(n);
    } else if (SSH_WITH_VALUE.has(a)) sshArgs.push(a, next());
    else if (a === "--json") continue;
    else if (a.startsWith("-")) sshArgs.push(a);
    else names.push(a);
  }
  if (dir === "") return report(log, new FwdError("E_CONFIG", "--dir needs a folder", USAGE));
  const verbosity = argv.includes("-q") ? 0 : 1 + argv.filter((a) => /^-v+$/.test(a)).reduce((n, a) => n + a.length - 1, 0);

  const engine = engineFor({ sessions: [], forwards: [] }, { exitOnForwardFailure: true, keepRunning: true, ...(maxConnections ? { maxConnections } : {}) });
  let changed = () => {};
  const fleet = new Fleet(engine, { dir, names, sshArgs, json: argv.includes("--json"), verbosity, log, changed: () => changed() });
  try {
    return await serve(engine, {
      log,
      events: (e) => fleet.route(e),
      status: { listen: status, openMetrics, control: liveControl(engine, { via: (n) => fleet.via(n), reload: async () => ({ ok: true as const, value: { ...(await fleet.reload()) } }) }) },
      beforeStart: (page) => {
        page?.store.setScenarios(() => fleet.list());
        changed = () => page?.store.changed();
      },
      hangup: () => {
        log.log("info", `SIGHUP: reading ${dir} again`);
        void fleet.reload().then((r) => log.log("info", summary(r)));
      },
      afterStart: async () => {
        const first = await fleet.reload();
        if (fleet.size > 0) {
          log.log("info", `up: ${summary(first)}`);
          return undefined;
        }
        const p = first.problems[0];
        if (!p) return report(log, new FwdError("E_CONFIG", `${dir}: no scenarios to run`, "put scenario files NAME.toml there (see `fwd scenarios`), or name another folder with --dir"));
        return exitCodeFor(p.code as FwdError["code"]);
      },
      notify: true,
    });
  } finally {
    fleet.stopAll();
  }
}

function summary(r: { started: string[]; stopped: string[]; restarted: string[]; unchanged: string[]; problems: unknown[] }): string {
  const part = (what: string, xs: string[]) => (xs.length ? [`${what} ${xs.join(", ")}`] : []);
  const parts = [...part("started", r.started), ...part("stopped", r.stopped), ...part("restarted", r.restarted), ...part("unchanged", r.unchanged)];
  return `${parts.join("; ") || "nothing to do"}${r.problems.length ? `; ${r.problems.length} file${r.problems.length > 1 ? "s" : ""} with problems (see above)` : ""}`;
}
