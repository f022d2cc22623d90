// `fwd check NAME [--option value …]`: connects, binds, runs the probe once, reports each step and
// exits — 0 when the far end answered as it should.

import { constants } from "node:os";
import { routeLabel } from "../ssh/route.ts";
import { formatEndpoint } from "../vocab/endpoint.ts";
import { runProbe } from "../plugin/deadline.ts";
import { EXIT } from "./exit-codes.ts";
import { probeContext } from "./probe-context.ts";
import { loggerFor, prepareScenario, progressFor } from "./scenario-setup.ts";
import { engineFor, report, serve } from "./serve.ts";

const USAGE = "usage: fwd check NAME [--option value …] | fwd check -f scenario.toml";

export async function checkScenario(argv: string[]): Promise<number> {
  const progress = progressFor(argv);
  const log = loggerFor(argv, progress);
  const prepared = await prepareScenario(argv, log, USAGE, { progress });
  if (!prepared.ok) return report(log, prepared.error);
  const { plugin, options, concrete, maxConnections } = prepared.value;
  const engine = engineFor(concrete.engine, { exitOnForwardFailure: true, reconnect: { ...prepared.value.reconnect, enabled: false }, maxConnections });
  return serve(engine, {
    log,
    progress,
    // The ✓/✗ lines are the report: the engine's own events stay out of it.
    events: () => {},
    startFailed: (e) => log.print(`✗ ssh: ${e.message}`),
    afterStart: async (bound) => {
      for (const hops of Object.values(concrete.targets)) log.print(`✓ ssh: connected to ${routeLabel(hops)}`);
      for (const b of bound) log.print(`✓ forward: ${b.spec.id} listening on ${formatEndpoint(b.bound)}`);
      if (!plugin.probe) {
        log.print(`- probe: ${plugin.name} has none`);
        return EXIT.ok;
      }
      const r = await runProbe(plugin, options, probeContext(engine, bound, concrete.names));
      log.print(`${r.ok ? "✓" : "✗"} probe: ${r.detail}`);
      return r.ok ? EXIT.ok : EXIT.probe;
    },
    finishGraceMs: 0,
    // An interrupted check answered nothing: the code the shell gives a process the signal ended.
    interrupted: (signal) => 128 + (constants.signals[signal as NodeJS.Signals] ?? 0),
  });
}
