// `fwd run NAME [--option value …]`: a scenario (a user's file, or a plugin with flags) brought up
// and kept up — the plan's tunnels, the lines that say how to use them, and the probe's verdict.

import * as v from "valibot";
import { routeLabel } from "../ssh/route.ts";
import { formatEndpoint } from "../vocab/endpoint.ts";
import { runProbe } from "../plugin/deadline.ts";
import { sshCommandLines } from "../plugin/to-engine.ts";
import { redact } from "../redact.ts";
import { EXIT } from "./exit-codes.ts";
import { probeContext } from "./probe-context.ts";
import { loggerFor, prepareScenario, progressFor } from "./scenario-setup.ts";
import { engineFor, logEvents, report, serve } from "./serve.ts";
import { liveControl } from "./forward-live.ts";
import { statusFlags } from "./status-flag.ts";

const USAGE = "usage: fwd run NAME [--option value …] [--dry-run] | fwd run -f scenario.toml — `fwd scenarios` lists them";

export async function runScenario(argv: string[]): Promise<number> {
  const progress = progressFor(argv);
  const log = loggerFor(argv, progress);
  const prepared = await prepareScenario(argv, log, USAGE, { progress });
  if (!prepared.ok) return report(log, prepared.error);
  const { name, plugin, options, concrete, args, reconnect, maxConnections } = prepared.value;

  if (args.long["dry-run"]) {
    log.print(`${name}: plugin ${plugin.name}, options ${JSON.stringify(redact(options))}`);
    for (const [session, hops] of Object.entries(concrete.targets)) log.print(`session ${session}: ${routeLabel(hops)}`);
    for (const f of concrete.engine.forwards)
      log.print(`forward ${f.id}: ${f.kind} ${formatEndpoint(f.bind)} -> ${f.kind === "route" ? f.networks.join(", ") : f.kind === "dynamic" || (f.kind === "remote" && !f.target) ? "SOCKS" : formatEndpoint(f.target!)}`);
    for (const line of sshCommandLines(concrete)) log.print(`equivalent: ${line}`);
    // ssh itself cannot redirect a network: the line above carries only the plan's other forwards.
    if (concrete.engine.forwards.some((f) => f.kind === "route")) log.print("equivalent: none for the route forward (ssh has no transparent routing; sshuttle comes closest)");
    return EXIT.ok;
  }

  const engine = engineFor(concrete.engine, { exitOnForwardFailure: true, reconnect, maxConnections });
  return serve(engine, {
    log,
    progress,
    events: logEvents(log, progress),
    status: statusFlags(args, liveControl(engine)),
    beforeStart: (page) => page?.store.setScenario({ name, plugin: plugin.name, options }),
    afterStart: async (bound, page) => {
      const ctx = probeContext(engine, bound, concrete.names);
      for (const line of plugin.usage?.(options as v.InferOutput<typeof plugin.options>, ctx.bound) ?? []) log.print(line);
      if (plugin.probe) {
        const r = await runProbe(plugin, options as v.InferOutput<typeof plugin.options>, ctx);
        page?.store.setProbe({ ok: r.ok, detail: r.detail });
        if (r.ok) log.log("info", `${name}: probe ok: ${r.detail}`);
        else if (r.timedOut) log.log("warn", `${name}: probe ${r.detail}`, "the tunnel is up and keeps forwarding; the probe's far end never answered");
        else log.log("warn", `${name}: probe failed: ${r.detail}`, "the tunnel is up, but the far end did not answer as expected; check the target address as the server sees it");
      }
      return undefined;
    },
  });
}
