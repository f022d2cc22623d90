// Keeps a started engine running until a signal or a lost session, and turns the outcome into an
// exit code. Shared by every command that holds tunnels open.

import type { Engine } from "../engine/engine.ts";
import type { FwdError } from "../errors.ts";
import { EXIT, exitCodeFor } from "./exit-codes.ts";
import type { Logger } from "./logger.ts";
import { onStopSignals } from "./signals.ts";

/** How long open connections may finish after the first SIGINT/SIGTERM. */
export const GRACE_MS = 3_000;

export async function serveUntilStopped(engine: Engine, log: Logger): Promise<number> {
  let outcome: number | undefined;
  const off = onStopSignals(
    (signal) => {
      const open = engine.snapshot().forwards.reduce((n, f) => n + f.stats.open, 0);
      log.log("info", `${signal}: stopping${open ? ` (up to ${GRACE_MS / 1000}s for ${open} open connection${open > 1 ? "s" : ""}; again to force)` : ""}`);
      outcome = EXIT.ok;
      void engine.stop(GRACE_MS);
    },
    () => {
      outcome = EXIT.forced;
      engine.kill();
    },
  );
  const err = await engine.ended;
  off();
  if (outcome !== undefined) return outcome;
  return err ? report(log, err) : EXIT.ok;
}

/** Logs a FwdError (message and hint) and gives its exit code. */
export function report(log: Logger, e: FwdError): number {
  log.log("error", e.message, e.hint);
  return exitCodeFor(e.code);
}
