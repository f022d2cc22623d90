// Joins two duplex streams both ways: backpressure through pipe(), half-close passed on (an end on
// one side becomes an end on the other, so a client's FIN reaches the target as SSH EOF), and
// teardown of both when either fails or closes for good — without dropping bytes still queued.

import type { Duplex } from "node:stream";

export interface PipeCounters {
  up: number; // bytes a → b
  down: number; // bytes b → a
}

/** How long a side that has nothing more to receive may take to flush before it is cut. */
const LINGER_MS = 30_000;

/**
 * Resolves once both streams are closed, with the first error seen (if any). `a` is the side fwd
 * accepted or dialled locally; `b` is the SSH channel.
 */
export function pipeBoth(a: Duplex, b: Duplex, counters: PipeCounters): Promise<Error | undefined> {
  return new Promise((resolve) => {
    let firstError: Error | undefined;
    let closed = 0;
    const onClose = (other: Duplex) => () => {
      if (++closed === 2) return resolve(firstError);
      // The peer is gone, but what it sent may still sit in `other`'s write queue: flush, then close.
      drain(other);
      closeSoon(other);
    };
    const onError = (err: Error) => {
      firstError ??= err;
      drain(a);
      drain(b);
      abort(a);
      abort(b);
    };
    a.pipe(b);
    b.pipe(a);
    a.on("data", (chunk: Buffer) => (counters.up += chunk.length));
    b.on("data", (chunk: Buffer) => (counters.down += chunk.length));
    a.once("error", onError).once("close", onClose(b));
    b.once("error", onError).once("close", onClose(a));
    // A side that closed before we got here will never emit 'close' again.
    if (isClosed(a)) onClose(b)();
    if (isClosed(b)) onClose(a)();
  });
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
function drain(s: Duplex): void {
  s.unpipe();
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
