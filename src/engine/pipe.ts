// Joins two duplex streams both ways: backpressure with a bound on what each direction holds (and on
// what every connection of the process holds together), half-close passed on (an end on one side
// becomes an end on the other, so a client's FIN reaches the target as SSH EOF), and teardown of
// both when either fails or closes for good — without dropping bytes still queued.

import type { Duplex } from "node:stream";
import { BufferBudget, PER_DIRECTION_BYTES, processBudget } from "./budget.ts";

export interface PipeCounters {
  up: number; // bytes a → b
  down: number; // bytes b → a
}

/** The largest single write: two SSH packets (ssh2 sends 32 KiB each). */
const SLICE_BYTES = 64 * 1024;

/** How long a side that has nothing more to receive may take to flush before it is cut. */
const LINGER_MS = 30_000;

/**
 * Resolves once both streams are closed, with the first error seen (if any). `a` is the side fwd
 * accepted or dialled locally; `b` is the SSH channel.
 */
export function pipeBoth(a: Duplex, b: Duplex, counters: PipeCounters, budget: BufferBudget = processBudget): Promise<Error | undefined> {
  return new Promise((resolve) => {
    let firstError: Error | undefined;
    let closed = 0;
    const up = pump(a, b, (n) => (counters.up += n), budget);
    const down = pump(b, a, (n) => (counters.down += n), budget);
    const pumpFrom = (s: Duplex) => (s === a ? up : down);
    const onClose = (other: Duplex) => () => {
      if (++closed === 2) {
        up.release();
        down.release();
        return resolve(firstError);
      }
      // The peer is gone, but what it sent may still sit in `other`'s write queue: flush, then close.
      drain(other, pumpFrom(other));
      closeSoon(other);
    };
    const onError = (err: Error) => {
      firstError ??= err;
      drain(a, up);
      drain(b, down);
      abort(a);
      abort(b);
    };
    a.once("error", onError).once("close", onClose(b));
    b.once("error", onError).once("close", onClose(a));
    // A side that closed before we got here will never emit 'close' again.
    if (isClosed(a)) onClose(b)();
    if (isClosed(b)) onClose(a)();
  });
}

interface Pump {
  /** Stops carrying: later bytes from the source are not written on. */
  stop(): void;
  /** Gives back to the budget what is still counted as held (a destroyed stream never calls back). */
  release(): void;
}

/**
 * Carries `from` into `to`, counting as held every byte written whose write has not completed yet
 * (for a socket: not yet handed to the kernel; for an ssh2 channel: not yet inside the SSH window and
 * the transport's bounded queue). Reading pauses while this direction holds more than its share, or
 * while the process is over its budget and this direction holds more than its floor — so a stalled
 * peer costs a bounded amount and never starves the rest. Not pipe(): it pauses only at the
 * writable's highWaterMark, and ssh2 sets a channel's to 2 MiB.
 */
function pump(from: Duplex, to: Duplex, count: (n: number) => void, budget: BufferBudget): Pump {
  let held = 0;
  let paused = false;
  let released = false;
  const mayRead = () => held <= PER_DIRECTION_BYTES && budget.allows(held);
  // Paused for its own share, its own write callbacks wake it; paused for the process's budget,
  // the budget does (only then is it on the budget's list, so a callback never walks every stall).
  const wake = () => {
    if (!paused || held > PER_DIRECTION_BYTES / 2) return;
    if (!budget.allows(held)) return budget.wait(wake);
    paused = false;
    budget.unwait(wake);
    from.resume();
  };
  const recycler = recyclerOf(from, to);
  const onData = (chunk: Buffer) => {
    const n = chunk.length;
    count(n);
    held += n;
    budget.take(n);
    // Only this pump read the chunk: once every piece is written, nothing refers to it.
    const recycle = recycler !== undefined && from.listenerCount("data") === 1;
    let left = Math.ceil(n / SLICE_BYTES);
    let failed = false;
    // In slices: a writer that waits (an ssh2 channel behind a full transport queue) then holds
    // the rest as views of this chunk, not as encrypted packets made ahead of time.
    for (let at = 0; at < n; at += SLICE_BYTES) {
      const piece = n <= SLICE_BYTES ? chunk : chunk.subarray(at, at + SLICE_BYTES);
      to.write(piece, (err?: Error | null) => {
        if (released) return;
        held -= piece.length;
        budget.give(piece.length);
        if (err) failed = true;
        if (--left === 0 && recycle && !failed) recycler.recycle(chunk);
        wake();
      });
    }
    if (!paused && !mayRead()) {
      paused = true;
      from.pause();
      if (held <= PER_DIRECTION_BYTES) budget.wait(wake);
    }
  };
  const onEnd = () => to.end();
  from.on("data", onData);
  from.once("end", onEnd);
  // Accepted sockets arrive paused, and a 'data' listener does not undo an explicit pause().
  from.resume();
  return {
    stop() {
      from.off("data", onData);
      from.off("end", onEnd);
      budget.unwait(wake);
    },
    release() {
      if (released) return;
      released = true;
      budget.unwait(wake);
      budget.give(held);
      held = 0;
    },
  };
}

/**
 * A source that can reuse the memory of what it read (Bun's sockets free a read buffer at once;
 * an ssh2 channel gives its packet back to the pool it was decrypted into), and a writer that,
 * once a write's callback has run, holds nothing of what it was given — both say so.
 */
interface Recycles {
  recycle(chunk: Uint8Array): void;
}
function recyclerOf(from: Duplex, to: Duplex): Recycles | undefined {
  const source = from as Partial<Recycles>;
  if (typeof source.recycle !== "function" || (to as { releasesWritten?: boolean }).releasesWritten !== true) return undefined;
  return source as Recycles;
}

const isClosed = (s: Duplex) => s.destroyed || (s as { closed?: boolean }).closed === true;

/** A failure on one side is a reset (RST) on a TCP socket, so its peer cannot mistake it for a clean end. */
function abort(s: Duplex): void {
  const reset = (s as { resetAndDestroy?: () => void }).resetAndDestroy;
  const state = (s as { readyState?: string }).readyState;
  if (typeof reset === "function" && state !== undefined && state !== "closed" && state !== "opening") reset.call(s);
  else s.destroy();
}

/**
 * Unread bytes from `s` have nowhere to go any more; let them flow away so the stream can reach its
 * end. ssh2 emits a channel's 'close' only after its 'end', and a paused channel with data never ends.
 */
function drain(s: Duplex, p: Pump): void {
  p.stop();
  s.resume();
}

function closeSoon(s: Duplex): void {
  if (s.destroyed) return;
  if (s.writableFinished) {
    s.destroy();
    return;
  }
  const timer = setTimeout(() => s.destroy(), LINGER_MS);
  timer.unref?.();
  s.once("finish", () => {
    clearTimeout(timer);
    s.destroy();
  });
  s.end();
}
