// What the engine looks like from outside at one moment: plain copies that readers (the status
// page, `fwd status`, tests) can keep without holding live engine state.

import type { Carrier } from "./carrier.ts";
import type { ExitStats } from "./dynamic-forward.ts";
import { copyStats, type ForwardStats } from "./stats.ts";
import type { Endpoint } from "../vocab/endpoint.ts";
import type { ForwardSpec } from "../vocab/forward.ts";

export interface ForwardSnapshot {
  spec: ForwardSpec;
  bound?: Endpoint;
  stats: ForwardStats;
  /** A pooled -D: connections and bytes per exit (session). */
  exits?: Record<string, ExitStats>;
  connections: { id: number; source: string; target: string; openedAt: number; up: number; down: number }[];
}

export interface SessionSnapshot {
  name: string;
  host: string;
  state: string;
  since: number;
  rttMs?: number;
  /** The session's cipher and compression, once negotiated. */
  cipher?: string;
  compression?: string;
  reconnects: number;
  lastError?: string;
  attempt: number;
  nextAttemptAt?: number;
  history: { state: string; at: number; reason?: string }[];
}

export interface EngineSnapshot {
  sessions: SessionSnapshot[];
  forwards: ForwardSnapshot[];
}

export function snapshotOf(c: Carrier, spec: ForwardSpec, bound: Endpoint | undefined): ForwardSnapshot {
  const open = c.connections.list();
  const stats = copyStats(c.stats);
  for (const x of open) {
    stats.bytesUp += x.up;
    stats.bytesDown += x.down;
  }
  return {
    spec,
    ...(bound ? { bound } : {}),
    stats,
    connections: open.map(({ id, source, target, openedAt, up, down }) => ({ id, source, target, openedAt, up, down })),
  };
}
