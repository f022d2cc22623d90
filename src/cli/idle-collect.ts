// A collection once a burst of connections has ended. Closed connections leave their buffers to the
// garbage collector, which on its own keeps the memory: measured, 5,000 connections through one -L
// took fwd from 50 to 109 MiB, and closing them left 112 MiB; one full collection after the burst
// brought it to 64 MiB. Nothing runs while connections keep closing (no pause in a busy tunnel),
// and nothing for a handful of connections.
//
// The burst also brings back program pages that start-up handed back (the JIT, the collector): with
// 2,000 connections, file pages went 12 → 26 MiB and stayed there after the collection. They are
// handed back again with it (runtime/trim-mappings.ts): after 2,000 connections fwd went back to
// 31 MiB instead of 44 (23 before them); after 10,000 to 35 instead of 48. When no connection is
// left open, the compiled code goes too (24 and 29 MiB), at the cost of compiling it again for the
// next burst.

import type { EventBus } from "../engine/events.ts";
import { trimFileMappings } from "../runtime/trim-mappings.ts";

/** Closes since the last collection that make one worth its pause. */
const BURST = 256;
/** How long the closing must have stopped: a busy tunnel closes far more often than this. */
const QUIET_MS = 1_000;

/**
 * Collects; `idle` when no connection is open, so that code compiled for them may go as well.
 * Resolves with the KiB of program pages handed back (if it hands any back).
 */
export type Collect = (idle: boolean, signal: AbortSignal) => Promise<number> | void;

const collectAll: Collect = (idle, signal) => trimFileMappings({ dropCode: idle, signal });

export function collectAfterBursts(bus: EventBus, collect: Collect = collectAll, o = { burst: BURST, quietMs: QUIET_MS }): () => void {
  // Aborted on stop: a collection still waiting then does nothing.
  const stopped = new AbortController();
  let closed = 0;
  let open = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const off = bus.on((e) => {
    if (e.type === "connection-open") open++;
    if (e.type !== "connection-close") return;
    open = Math.max(0, open - 1);
    if (++closed < o.burst) return;
    clearTimeout(timer);
    timer = setTimeout(async () => {
      const n = closed;
      closed = 0;
      const idle = open === 0;
      const kib = await collect(idle, stopped.signal);
      if (kib) bus.log("debug", `handed back ${(kib / 1024).toFixed(1)} MiB of program pages after ${n} connections closed${idle ? ", and the compiled code" : ""}`);
    }, o.quietMs);
    timer.unref?.();
  });
  return () => {
    stopped.abort();
    clearTimeout(timer);
    off();
  };
}
