// The engine's event stream: everything that happens to sessions, forwards and connections, as plain
// data, so that the CLI's log lines and (later) the status page read the same facts.

import type { Endpoint } from "../vocab/endpoint.ts";

export type SessionState = "connecting" | "up" | "reconnecting" | "failed" | "closed";
export type LogLevel = "debug" | "info" | "warn" | "error";

export type EngineEvent =
  | {
      type: "session";
      session: string;
      state: SessionState;
      host: string;
      reason?: string;
      /** Time spent in the previous state. */
      sinceMs: number;
      /** While reconnecting: which attempt comes next, and in how long. */
      attempt?: number;
      nextInMs?: number;
      /** On a reconnect: how long the session was down. */
      downMs?: number;
    }
  | {
      type: "listening";
      forward: string;
      /** Where the port is: here (-L, -D) or on the SSH server (-R). */
      side: "local" | "server";
      bind: Endpoint;
      /** Where connections go; absent when each SOCKS request names its own. */
      target?: Endpoint;
      /** What arrives: SOCKS requests, or connections nftables redirected (--route). */
      via?: "socks" | "route";
    }
  | { type: "connection-open"; forward: string; conn: number; source: string; target: string }
  | {
      type: "connection-close";
      forward: string;
      conn: number;
      bytesUp: number;
      bytesDown: number;
      ageMs: number;
      error?: string;
    }
  | { type: "open-failed"; forward: string; reason: string; message: string; hint?: string }
  | { type: "log"; level: LogLevel; message: string; hint?: string };

type Listener = (e: EngineEvent) => void;

/** A synchronous fan-out. A throwing subscriber is dropped rather than allowed to break the engine. */
export class EventBus {
  private listeners = new Set<Listener>();

  on(fn: Listener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  emit(e: EngineEvent): void {
    for (const fn of this.listeners) {
      try {
        fn(e);
      } catch {
        this.listeners.delete(fn);
      }
    }
  }

  log(level: LogLevel, message: string, hint?: string): void {
    this.emit({ type: "log", level, message, ...(hint ? { hint } : {}) });
  }
}
