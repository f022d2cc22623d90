// What the status page shows, kept from the engine's events and snapshots: the engine's state, the
// last log lines, the scenario and its probe. Secrets in a scenario's options never leave here.

import type { Engine, EngineSnapshot } from "../engine/engine.ts";
import type { EngineEvent } from "../engine/events.ts";
import { formatEndpoint } from "../engine/types.ts";
import { VERSION } from "../version.ts";

const LOG_LINES = 200;
const SECRET = /pass|secret|token|key|credential/i;

export interface ScenarioInfo {
  name: string;
  plugin: string;
  options: Record<string, unknown>;
}

export interface ProbeInfo {
  ok: boolean;
  detail: string;
  at: number;
}

export interface LogLine {
  at: number;
  level: string;
  message: string;
}

export interface StatusSnapshot extends EngineSnapshot {
  version: string;
  startedAt: number;
  now: number;
  scenario?: ScenarioInfo & { probe?: ProbeInfo };
  logs: LogLine[];
}

export class StatusStore {
  private logs: LogLine[] = [];
  private readonly startedAt = Date.now();
  private scenario: (ScenarioInfo & { probe?: ProbeInfo }) | undefined;
  private readonly listeners = new Set<() => void>();

  constructor(private readonly engine: Engine) {
    engine.bus.on((e) => {
      const line = logLine(e);
      if (line) {
        this.logs.push(line);
        if (this.logs.length > LOG_LINES) this.logs.shift();
      }
      for (const fn of this.listeners) fn();
    });
  }

  setScenario(s: ScenarioInfo): void {
    this.scenario = { ...s, options: maskSecrets(s.options) };
  }

  setProbe(p: { ok: boolean; detail: string }): void {
    if (this.scenario) this.scenario.probe = { ...p, at: Date.now() };
    for (const fn of this.listeners) fn();
  }

  /** Called on every engine event (for the page's live stream). */
  onChange(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  snapshot(): StatusSnapshot {
    return {
      version: VERSION,
      startedAt: this.startedAt,
      now: Date.now(),
      ...this.engine.snapshot(),
      ...(this.scenario ? { scenario: this.scenario } : {}),
      logs: [...this.logs],
    };
  }
}

function maskSecrets(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, SECRET.test(k) ? "••••••" : v]));
}

/** The events worth a line in the page's log (connections are shown live, not logged). */
function logLine(e: EngineEvent): LogLine | undefined {
  const at = Date.now();
  switch (e.type) {
    case "log":
      return e.level === "debug" ? undefined : { at, level: e.level, message: e.message };
    case "session":
      return { at, level: e.state === "failed" ? "error" : e.state === "up" ? "info" : "warn", message: `${e.host}: ${e.state}${e.reason ? ` (${e.reason})` : ""}` };
    case "listening":
      return { at, level: "info", message: `${e.forward}: listening ${e.side === "server" ? "on the server " : ""}${formatEndpoint(e.bind)}` };
    case "open-failed":
      return { at, level: "warn", message: e.message };
    default:
      return undefined;
  }
}
