// Renders engine events for a terminal or, with --json, as one JSON object a line. Listening lines go
// to stdout (scripts read them); everything else to stderr. Whatever is printed as JSON goes through
// the redactor first, so a field that holds a secret never reaches a log.

import type { EngineEvent, LogLevel } from "../engine/events.ts";
import { formatEndpoint } from "../vocab/endpoint.ts";
import { redact } from "../redact.ts";

export interface LoggerOptions {
  json: boolean;
  /** -q: 0 shows errors only; 1 normal; 2 (-v) connections too; 3+ (-vv) debug. */
  verbosity: number;
  out?: (line: string) => void;
  err?: (line: string) => void;
}

const LEVEL_MIN: Record<LogLevel, number> = { error: 0, warn: 1, info: 1, debug: 3 };

export class Logger {
  private readonly out: (line: string) => void;
  private readonly err: (line: string) => void;

  constructor(private readonly o: LoggerOptions) {
    this.out = o.out ?? ((l) => process.stdout.write(l + "\n"));
    this.err = o.err ?? ((l) => process.stderr.write(l + "\n"));
  }

  log(level: LogLevel, message: string, hint?: string): void {
    this.event({ type: "log", level, message, ...(hint ? { hint } : {}) });
  }

  /** A line of the command's own output (stdout), e.g. a URL to open. */
  print(message: string, fields: Record<string, unknown> = {}): void {
    if (this.o.json) this.out(JSON.stringify({ time: new Date().toISOString(), type: "output", message, ...redact(fields) }));
    else this.out(message);
  }

  event(e: EngineEvent): void {
    const need = minVerbosity(e, this.o.json);
    if (this.o.verbosity < need) return;
    if (this.o.json) {
      this.out(JSON.stringify({ time: new Date().toISOString(), ...redact(e) }));
      return;
    }
    const text = render(e);
    if (e.type === "listening") this.out(text);
    else this.err(text);
  }
}

function minVerbosity(e: EngineEvent, json: boolean): number {
  switch (e.type) {
    case "log":
      return LEVEL_MIN[e.level];
    case "connection-open":
    case "connection-close":
      return 2;
    case "session":
      // On a terminal "failed" says what the error fwd then reports says, and "closed" follows it or
      // a stop: with them a failed connection was three lines where one (and its hint) says it all.
      // A program reading --json still gets every state change.
      if (e.state === "failed" || e.state === "closed") return json ? 1 : 2;
      return e.state === "connecting" ? 2 : 1;
    case "open-failed":
      return 1;
    case "listening":
      return 0;
  }
}

function render(e: EngineEvent): string {
  switch (e.type) {
    case "log":
      // An error reads as main.ts prints one (and as the README shows): `fwd: message`, then the hint.
      return `${e.level === "info" ? "" : e.level === "error" ? "fwd: " : `${e.level}: `}${e.message}${e.hint ? `\n  hint: ${e.hint}` : ""}`;
    case "listening": {
      const where = e.side === "server" ? "on the server " : "";
      const to = e.target ? formatEndpoint(e.target) : e.via === "route" ? "redirected connections, connecting from the server" : e.side === "server" ? "SOCKS, connecting from here" : "SOCKS, connecting from the server";
      return `listening ${where}${formatEndpoint(e.bind)} -> ${to}`;
    }
    case "session": {
      if (e.state === "reconnecting")
        return `${e.host}: reconnecting: attempt ${e.attempt} in ${((e.nextInMs ?? 0) / 1000).toFixed(1)}s${e.reason ? ` (${e.reason})` : ""}`;
      if (e.state === "up" && e.downMs !== undefined) return `${e.host}: reconnected after ${(e.downMs / 1000).toFixed(1)}s down`;
      return `${e.host}: ${e.state === "up" ? "connected" : e.state}${e.reason ? ` (${e.reason})` : ""}`;
    }
    case "open-failed":
      return `warn: ${e.message}${e.hint ? `\n  hint: ${e.hint}` : ""}`;
    case "connection-open":
      return `${e.forward}: #${e.conn} ${e.source} -> ${e.target}`;
    case "connection-close":
      return `${e.forward}: #${e.conn} closed after ${e.ageMs} ms, ${e.bytesUp} bytes up, ${e.bytesDown} down${e.error ? ` (${e.error})` : ""}`;
  }
}
