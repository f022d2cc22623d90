// What the status page shows, kept from the engine's events and snapshots: the engine's state, the
// last log lines, the scenario and its probe. Every snapshot leaves through the redactor, so no secret
// (a SOCKS password in a forward's spec, a scenario option named like one) reaches the API or the page.
// It also keeps the last minutes of throughput and round trips (history.ts), sampled by `sample()`.

import type { Engine, EngineSnapshot } from "../engine/engine.ts";
import type { EngineEvent } from "../engine/events.ts";
import { formatEndpoint } from "../vocab/endpoint.ts";
import { History, type HistoryJson, type HistorySample } from "./history.ts";
import { redact } from "../redact.ts";
import { VERSION } from "../version.ts";

const LOG_LINES = 200;

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

/** One scenario of many (`fwd up`): its file, the forwards and sessions it holds, or why it is not running. */
export interface ScenarioStatus {
  name: string;
  file: string;
  plugin?: string;
  state: "running" | "failed";
  forwards: string[];
  sessions: string[];
  probe?: ProbeInfo;
  error?: string;
}

export interface StatusSnapshot extends EngineSnapshot {
  version: string;
  startedAt: number;
  now: number;
  scenario?: ScenarioInfo & { probe?: ProbeInfo };
  /** `fwd up`: every scenario of the folder, running or not. */
  scenarios?: ScenarioStatus[];
  logs: LogLine[];
  /** The newest history sample (rates and round trips), so a live page extends its charts. */
  sample?: HistorySample;
}

export class StatusStore {
  private logs: LogLine[] = [];
  private readonly startedAt = Date.now();
  private scenario: (ScenarioInfo & { probe?: ProbeInfo }) | undefined;
  private readonly listeners = new Set<() => void>();
  private readonly history = new History();
  private scenarios: (() => ScenarioStatus[]) | undefined;

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
    this.scenario = { ...s };
  }

  setProbe(p: { ok: boolean; detail: string }): void {
    if (this.scenario) this.scenario.probe = { ...p, at: Date.now() };
    for (const fn of this.listeners) fn();
  }

  /** `fwd up`: where the list of scenarios comes from (read at each snapshot). */
  setScenarios(list: () => ScenarioStatus[]): void {
    this.scenarios = list;
  }

  /** Something outside the engine's events changed (a probe, a reload): tell the live readers. */
  changed(): void {
    for (const fn of this.listeners) fn();
  }

  /** Called on every engine event (for the page's live stream). */
  onChange(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Takes one history sample from the engine now (serve.ts calls it every HISTORY_STEP_MS). */
  sample(): void {
    this.history.record(this.engine.snapshot(), Date.now());
  }

  /** The charts' data: every sample kept, secrets redacted like the snapshot. */
  historyJson(): HistoryJson {
    return redact(this.history.json());
  }

  /** The page's state now, secrets redacted (a copy: nothing in it is live). */
  snapshot(): StatusSnapshot {
    const latest = this.history.latest();
    return redact({
      version: VERSION,
      startedAt: this.startedAt,
      now: Date.now(),
      ...this.engine.snapshot(),
      ...(this.scenario ? { scenario: this.scenario } : {}),
      ...(this.scenarios ? { scenarios: this.scenarios() } : {}),
      logs: this.logs,
      ...(latest ? { sample: latest } : {}),
    });
  }
}

/** The events worth a line in the page's log (connections are shown live, not logged). */
function logLine(e: EngineEvent): LogLine | undefined {
  const at = Date.now();
  switch (e.type) {
    case "log":
      return e.level === "debug" ? undefined : { at, level: e.level, message: e.message };
    case "session":
      // Connecting (the first time) and closing are the normal course; only a drop is a warning.
      return { at, level: e.state === "failed" ? "error" : e.state === "reconnecting" ? "warn" : "info", message: `${e.host}: ${e.state}${e.reason ? ` (${e.reason})` : ""}` };
    case "listening":
      return { at, level: "info", message: `${e.forward}: listening ${e.side === "server" ? "on the server " : ""}${formatEndpoint(e.bind)}` };
    case "open-failed":
      return { at, level: "warn", message: e.message };
    default:
      return undefined;
  }
}
