// Starts an engine and keeps it running until a signal or a lost session, turning the outcome into an
// exit code. Shared by every command that holds tunnels open. Signals are caught from before the
// start, so a SIGINT while connecting is a clean stop, not a crash.

import { collectAfterBursts } from "./idle-collect.ts";
import type { BoundForward, Engine } from "../engine/engine.ts";
import type { FwdError } from "../errors.ts";
import { EXIT, exitCodeFor } from "./exit-codes.ts";
import type { Logger } from "./logger.ts";
import { onSignals } from "./signals.ts";

/** How long open connections may finish after the first SIGINT/SIGTERM. */
export const GRACE_MS = 3_000;
/** How long a new local connection waits for the session to come back before it is refused. */
export const ACQUIRE_TIMEOUT_MS = 5_000;

/**
 * `afterStart` runs once everything listens; an exit code from it ends the run there (after a
 * graceful stop), undefined keeps serving.
 */
export async function runEngine(
  engine: Engine,
  log: Logger,
  afterStart?: (bound: BoundForward[]) => Promise<number | undefined>,
): Promise<number> {
  let outcome: number | undefined;
  const stopCollecting = collectAfterBursts(engine.bus);
  const off = onSignals(
    (signal) => {
      outcome = EXIT.ok;
      void engine.stop(GRACE_MS, signal);
    },
    () => {
      log.log("info", "SIGHUP: reconnecting now");
      engine.reconnectNow();
    },
  );
  try {
    const started = await engine.start();
    if (outcome !== undefined) return outcome;
    if (!started.ok) {
      engine.kill();
      return report(log, started.error);
    }
    // A signal stops the engine while afterStart may still wait (on a plugin's probe): go then.
    const early = await Promise.race([afterStart?.(started.value), engine.ended.then(() => undefined)]);
    if (outcome !== undefined) return outcome;
    if (early !== undefined) {
      await engine.stop(early === EXIT.ok ? 1_000 : 0);
      return early;
    }
    const err = await engine.ended;
    if (outcome !== undefined) return outcome;
    return err ? report(log, err) : EXIT.ok;
  } finally {
    off();
    stopCollecting();
  }
}

/** Logs a FwdError (message and hint) and gives its exit code. */
export function report(log: Logger, e: FwdError): number {
  log.log("error", e.message, e.hint);
  return exitCodeFor(e.code);
}
