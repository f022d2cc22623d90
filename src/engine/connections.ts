// The connections a forward has open right now, with live byte counters, so a snapshot can show
// them and shutdown can close them.

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
