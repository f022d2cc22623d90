// `fwd check NAME [--option value …]`: connects, binds, runs the probe once, reports each step and
// exits — 0 when the far end answered as it should.

import { Engine } from "../engine/engine.ts";
import { routeLabel } from "../ssh/route.ts";
import { formatEndpoint } from "../vocab/endpoint.ts";
import { runProbe } from "../plugin/deadline.ts";
import { EXIT } from "./exit-codes.ts";
import { probeContext } from "./probe-context.ts";
import { loggerFor, prepareScenario, progressFor } from "./scenario-setup.ts";
import { ACQUIRE_TIMEOUT_MS, report } from "./serve.ts";

const USAGE = "usage: fwd check NAME [--option value …] | fwd check -f scenario.toml";

export async function checkScenario(argv: string[]): Promise<number> {
  const progress = progressFor(argv);
  const log = loggerFor(argv, progress);
  const prepared = await prepareScenario(argv, log, USAGE, { progress });
  if (!prepared.ok) return report(log, prepared.error);
  const { name, plugin, options, concrete } = prepared.value;
  const engine = new Engine(concrete.engine, { exitOnForwardFailure: true, acquireTimeoutMs: ACQUIRE_TIMEOUT_MS, reconnect: { ...prepared.value.reconnect, enabled: false } });
  const started = await engine.start();
  progress.done();
  if (!started.ok) {
    engine.kill();
    log.print(`✗ ssh: ${started.error.message}`);
    return report(log, started.error);
  }
  try {
    for (const hops of Object.values(concrete.targets)) log.print(`✓ ssh: connected to ${routeLabel(hops)}`);
    for (const b of started.value) log.print(`✓ forward: ${b.spec.id} listening on ${formatEndpoint(b.bound)}`);
    if (!plugin.probe) {
      log.print(`- probe: ${plugin.name} has none`);
      return EXIT.ok;
    }
    const r = await runProbe(plugin, options, probeContext(engine, started.value, concrete.names));
    log.print(`${r.ok ? "✓" : "✗"} probe: ${r.detail}`);
    return r.ok ? EXIT.ok : EXIT.probe;
  } finally {
    await engine.stop(0, `${name}: check done`);
  }
}
