// What every forward kind shares once it has both ends of a connection: the open-connection record,
// the pipe, the counters and the events. And the bookkeeping for one that could not be opened.

import type { Duplex } from "node:stream";
import type { FwdError } from "../errors.ts";
import { Connections } from "./connections.ts";
import type { EventBus } from "./events.ts";
import { pipeBoth } from "./pipe.ts";
import { countFailure, emptyStats, type ForwardStats } from "./stats.ts";

export interface ForwardRuntime {
  bus: EventBus;
  /** How long a new connection may wait for a live session before it is refused. */
  acquireTimeoutMs: number;
}

export class Carrier {
  readonly stats: ForwardStats = emptyStats();
  readonly connections = new Connections();

  constructor(
    readonly id: string,
    protected readonly rt: ForwardRuntime,
  ) {}

  /** Pipes `near` (the side fwd accepted) and `far` until both close, counting all of it. */
  async carry(near: Duplex, far: Duplex, source: string, target: string): Promise<{ up: number; down: number }> {
    const conn = this.connections.add(this.id, source, target, near, far);
    this.stats.open++;
    this.stats.total++;
    this.rt.bus.emit({ type: "connection-open", forward: this.id, conn: conn.id, source, target });
    const err = await pipeBoth(near, far, conn);
    this.stats.open--;
    this.stats.bytesUp += conn.up;
    this.stats.bytesDown += conn.down;
    this.connections.remove(conn.id);
    this.rt.bus.emit({
      type: "connection-close",
      forward: this.id,
      conn: conn.id,
      bytesUp: conn.up,
      bytesDown: conn.down,
      ageMs: Date.now() - conn.openedAt,
      ...(err ? { error: err.message } : {}),
    });
    return { up: conn.up, down: conn.down };
  }

  /** Counts and reports a connection that could not be opened. */
  refuse(error: FwdError): void {
    const reason = error.reason ?? error.code;
    countFailure(this.stats, reason);
    this.rt.bus.emit({
      type: "open-failed",
      forward: this.id,
      reason,
      message: error.message,
      ...(error.hint ? { hint: error.hint } : {}),
    });
  }
}
