// The one place that turns a plan into a running engine: its log, the status page (--status), the
// collection after bursts, SIGINT/SIGTERM/SIGHUP, readiness for systemd, and the outcome as an exit
// code. Every command that connects (ssh-style, run, check, up, demo) goes through `serve`, so each
// gets these the same way. Signals are caught from before the start, so a SIGINT while connecting
// is a clean stop, not a crash.

import type { BoundForward, EngineOptions, EnginePlan } from "../engine/engine.ts";
import { Engine } from "../engine/engine.ts";
import type { EngineEvent, EventBus } from "../engine/events.ts";
import type { FwdError } from "../errors.ts";
import type { StatusServer } from "../status/serve.ts";
import { EXIT, exitCodeFor } from "./exit-codes.ts";
import { collectAfterBursts } from "./idle-collect.ts";
import { trimFileMappings } from "../runtime/trim-mappings.ts";
import type { Logger } from "./logger.ts";
import type { ProgressLine } from "./progress.ts";
import { notifyReady } from "./service-notify.ts";
import { onSignals } from "./signals.ts";
import { statusFromFlag, type StatusRequest } from "./status-flag.ts";

/** How long open connections may finish after the first SIGINT/SIGTERM. */
export const GRACE_MS = 3_000;
/** How long a new local connection waits for the session to come back before it is refused. */
export const ACQUIRE_TIMEOUT_MS = 5_000;

/** The session settings a command chooses; the acquire timeout is the same for every command. */
export type SessionSettings = Omit<EngineOptions, "acquireTimeoutMs">;

export function engineFor(plan: EnginePlan, settings: SessionSettings): Engine {
  return new Engine(plan, { ...settings, acquireTimeoutMs: ACQUIRE_TIMEOUT_MS });
}

export interface ServeOptions {
  log: Logger;
  /** Where the engine's events go: the log by default (see logEvents for the progress line). */
  events?: (e: EngineEvent) => void;
  /** The terminal's progress line: erased for good once the start is over, or at the end. */
  progress?: ProgressLine;
  /** The status page, when `listen` is set (`--status`). */
  status?: StatusRequest;
  /** Once the page is up (or none was asked for), before connecting: fill its store, say what comes. */
  beforeStart?: (page: StatusServer | undefined) => void;
  /**
   * Once everything listens; an exit code from it ends the run there (0: open connections get
   * `finishGraceMs` to finish; any other: cut at once), undefined keeps serving.
   */
  afterStart?: (bound: BoundForward[], page: StatusServer | undefined) => Promise<number | undefined>;
  /** The start failed: said before the error itself. */
  startFailed?: (e: FwdError) => void;
  /** SIGHUP: every session reconnects now, unless the command means something else by it. */
  hangup?: () => void;
  /** Tell systemd (NOTIFY_SOCKET) once serving: `fwd up` runs as a Type=notify service. */
  notify?: boolean;
  /** How long open connections may finish when afterStart ends the run with success; 1 s if unset. */
  finishGraceMs?: number;
  /** The exit code of a run stopped by SIGINT/SIGTERM: 0 (a stop asked for) if unset. */
  interrupted?: (signal: string) => number;
}

export async function serve(engine: Engine, o: ServeOptions): Promise<number> {
  const { log } = o;
  engine.bus.on(o.events ?? ((e) => log.event(e)));
  const page = await statusFromFlag(o.status ?? {}, engine, log);
  if (!page.ok) return report(log, page.error);
  try {
    o.beforeStart?.(page.value);
    return await run(engine, o, page.value);
  } finally {
    o.progress?.done();
    await page.value?.stop();
  }
}

async function run(engine: Engine, o: ServeOptions, page: StatusServer | undefined): Promise<number> {
  const { log } = o;
  let outcome: number | undefined;
  const stopCollecting = collectAfterBursts(engine.bus);
  const stopTrim = trimAfterConnect(engine.bus, log);
  const off = onSignals(
    (signal) => {
      outcome = o.interrupted?.(signal) ?? EXIT.ok;
      void engine.stop(GRACE_MS, signal);
    },
    o.hangup ??
      (() => {
        log.log("info", "SIGHUP: reconnecting now");
        engine.reconnectNow();
      }),
  );
  try {
    const started = await engine.start();
    o.progress?.done();
    if (outcome !== undefined) return outcome;
    if (!started.ok) {
      engine.kill();
      o.startFailed?.(started.error);
      return report(log, started.error);
    }
    // A signal stops the engine while afterStart may still wait (on a plugin's probe): go then.
    const early = await Promise.race([o.afterStart?.(started.value, page), engine.ended.then(() => undefined)]);
    if (outcome !== undefined) return outcome;
    if (early !== undefined) {
      await engine.stop(early === EXIT.ok ? (o.finishGraceMs ?? 1_000) : 0);
      return early;
    }
    // Not awaited: systemd-notify may wait seconds for its barrier, and a signal must stop fwd meanwhile.
    if (o.notify) void notifyReady(log);
    const err = await engine.ended;
    if (outcome !== undefined) return outcome;
    return err ? report(log, err) : EXIT.ok;
  } finally {
    off();
    stopCollecting();
    stopTrim();
  }
}

/** How long after the first session is up the pages only start-up used are handed back. */
const TRIM_AFTER_MS = 1_000;

/**
 * Once, after the first session is up (starting and connecting are done): see runtime/trim-mappings.ts.
 * The compiled code goes too unless a connection came meanwhile (its code is hot, and would be compiled
 * again at once).
 */
function trimAfterConnect(bus: EventBus, log: Logger): () => void {
  const stopped = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let busy = false;
  const off = bus.on((e) => {
    if (e.type === "connection-open") busy = true;
    if (e.type !== "session" || e.state !== "up" || timer) return;
    timer = setTimeout(async () => {
      off();
      // Most of starting up (arguments, config, authentication) never runs again; what does (a
      // rekey, a reconnect) compiles again.
      const kib = await trimFileMappings({ dropCode: !busy, signal: stopped.signal });
      if (kib > 0) log.log("debug", `handed back ${(kib / 1024).toFixed(1)} MiB of program pages used only to start${busy ? "" : ", and the compiled code"}`);
    }, TRIM_AFTER_MS);
    timer.unref?.();
  });
  return () => {
    stopped.abort();
    off();
    clearTimeout(timer);
  };
}

/**
 * Engine events to the log, and on the progress line "connected, opening forwards" once a session
 * is up (give no progress line when there is nothing to open).
 */
export function logEvents(log: Logger, progress?: ProgressLine): (e: EngineEvent) => void {
  return (e) => {
    log.event(e);
    if (progress && e.type === "session" && e.state === "up") progress.set(`${e.host}: connected, opening forwards`);
  };
}

/** Logs a FwdError (message and hint) and gives its exit code. */
export function report(log: Logger, e: FwdError): number {
  log.log("error", e.message, e.hint);
  return exitCodeFor(e.code);
}
