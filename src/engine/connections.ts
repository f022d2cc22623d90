// The connections a forward has open right now, with live byte counters, so a snapshot can show
// them and shutdown can close them; and how many the whole process may have open at once.

import { readFileSync } from "node:fs";
import type { Duplex } from "node:stream";
import type { PipeCounters } from "./pipe.ts";

export interface OpenConnection extends PipeCounters {
  id: number;
  forward: string;
  source: string;
  target: string;
  openedAt: number;
  ends: [Duplex, Duplex];
}

let nextId = 1;

export class Connections {
  private open = new Map<number, OpenConnection>();

  add(forward: string, source: string, target: string, a: Duplex, b: Duplex): OpenConnection {
    const c: OpenConnection = { id: nextId++, forward, source, target, openedAt: Date.now(), up: 0, down: 0, ends: [a, b] };
    this.open.set(c.id, c);
    return c;
  }

  remove(id: number): void {
    this.open.delete(id);
  }

  get size(): number {
    return this.open.size;
  }

  list(): OpenConnection[] {
    return [...this.open.values()];
  }

  /** Cuts every open connection (both ends), e.g. when the grace period after a stop ran out. */
  destroyAll(): void {
    for (const c of this.open.values()) for (const s of c.ends) s.destroy();
  }
}

/**
 * Concurrent forwarded connections per process when nothing else is said (--max-connections): in
 * effect "as many as `ulimit -n` allows" (less a reserve), since each costs one descriptor here.
 * OpenSSH has no limit of its own; 4096 stopped the 10,000-connection benchmark row.
 */
export const DEFAULT_MAX_CONNECTIONS = 65536;
/** File descriptors kept for everything but forwarded connections (the session, logs, the status page). */
const FD_RESERVE = 64;

/**
 * How many forwarded connections the whole process carries at once. Over the limit a new one is
 * refused at once (a reset, not a hang), and the log says so once per burst — so running out is
 * visible, never the silent EMFILE the runtime gives (Bun's accept drops it without an event).
 */
export class ConnectionSlots {
  private used = 0;
  private refusedInBurst = 0;
  limit = DEFAULT_MAX_CONNECTIONS;

  /** Takes a slot; false when the limit is reached. `say` logs the first refusal of a burst. */
  take(say: (message: string, hint: string) => void): boolean {
    if (this.used < this.limit) {
      this.used++;
      return true;
    }
    if (this.refusedInBurst++ === 0)
      say(`connection limit ${this.limit} reached; new connections are refused until some close`, "raise it with --max-connections N (and `ulimit -n` to match)");
    return false;
  }

  release(): void {
    this.used--;
    // A burst ends when there is room again with some to spare, so a limit that is hovered at is
    // not logged on every connection.
    if (this.used < this.limit * 0.9) this.refusedInBurst = 0;
  }

  get inUse(): number {
    return this.used;
  }
}

/** The one limit of this process, shared by every forward. */
export const connectionSlots = new ConnectionSlots();

/**
 * The soft limit on open files (`ulimit -n`) where the system tells it (Linux /proc), so that a
 * connection limit it cannot hold is lowered — with a message — instead of ending in EMFILE.
 */
export function fitToOpenFileLimit(limit: number, readLimits: () => string = () => readFileSync("/proc/self/limits", "utf8")): { limit: number; openFiles?: number } {
  let text: string;
  try {
    text = readLimits();
  } catch {
    return { limit };
  }
  const m = /^Max open files\s+(\d+|unlimited)/m.exec(text);
  if (!m || m[1] === "unlimited") return { limit };
  const openFiles = Number(m[1]);
  return { limit: Math.max(1, Math.min(limit, openFiles - FD_RESERVE)), openFiles };
}
