// Many idle connections held open through a tunnel's -L: opened in batches (each proves its channel
// is up with a 1-byte echo), held while the tunnel's memory is read, then all closed, and the memory
// read again once the tunnel has let go of every descriptor, to see whether it returns to its baseline.

import net from "node:net";
import { fdCount, rssMiB } from "./proc.ts";

/** Connections opened at once: below OpenSSH's listen backlog (128), so no SYN waits for a retry. */
const BATCH = 100;
/** One connection's open-and-echo may take this long before it counts as failed. */
const OPEN_TIMEOUT_MS = 10_000;
/** Bound on the tunnel closing everything after the client side has gone. */
const CLOSE_TIMEOUT_MS = 30_000;
const FD_SLACK = 2;

export interface IdleResult {
  count: number;
  /** Connections that got their echo and were held. */
  opened: number;
  failed: number;
  openSeconds: number;
  heldRssMiB: number;
  heldFds: number;
  afterCloseRssMiB: number;
  /** Seconds from closing the last client socket to the tunnel's descriptors being back to baseline. */
  closeSeconds: number;
  /** False when the tunnel still held descriptors at the close deadline. */
  closed: boolean;
}

/**
 * Opens `count` connections to `port` (the tunnel's -L to the echo server) within `capMs`, waits
 * `settleMs`, reads the tunnel's RSS, closes them all, waits for the tunnel's descriptor count to be
 * back where it was (bounded) and `settleMs` more, and reads its RSS again.
 */
export async function holdIdle(pid: number, port: number, count: number, capMs: number, settleMs: number): Promise<IdleResult> {
  const baseFds = fdCount(pid);
  const held: net.Socket[] = [];
  let failed = 0;
  const t0 = performance.now();
  const deadline = t0 + capMs;
  try {
    while (held.length + failed < count && performance.now() < deadline) {
      const n = Math.min(BATCH, count - held.length - failed);
      const batch = await Promise.all(Array.from({ length: n }, () => openOne(port)));
      for (const s of batch) s ? held.push(s) : failed++;
    }
    const openSeconds = (performance.now() - t0) / 1000;
    await Bun.sleep(settleMs);
    const heldRssMiB = rssMiB(pid);
    const heldFds = fdCount(pid);
    for (const s of held) s.destroy();
    const closing = performance.now();
    // A little slack: a runtime may open a descriptor or two of its own along the way (a leak is thousands).
    const closed = await until(() => fdCount(pid) <= baseFds + FD_SLACK, CLOSE_TIMEOUT_MS);
    const closeSeconds = (performance.now() - closing) / 1000;
    await Bun.sleep(settleMs);
    return { count, opened: held.length, failed, openSeconds, heldRssMiB, heldFds, afterCloseRssMiB: rssMiB(pid), closeSeconds, closed };
  } finally {
    for (const s of held) s.destroy();
  }
}

/** Connects, sends one byte and waits for its echo; resolves with the open socket, or undefined. */
function openOne(port: number): Promise<net.Socket | undefined> {
  return new Promise((resolve) => {
    const s = net.connect({ host: "127.0.0.1", port, noDelay: true });
    const fail = () => {
      clearTimeout(timer);
      s.destroy();
      resolve(undefined);
    };
    const timer = setTimeout(fail, OPEN_TIMEOUT_MS);
    s.once("connect", () => s.write("x"));
    s.once("data", () => {
      clearTimeout(timer);
      s.removeListener("error", fail);
      s.removeListener("close", fail);
      // A held socket that errors later (the tunnel dropped it) is simply gone; the count was taken.
      s.on("error", () => {});
      resolve(s);
    });
    s.once("error", fail);
    s.once("close", fail);
  });
}

/** Polls `ok` every 50 ms until it holds (true) or `ms` pass (false). */
async function until(ok: () => boolean, ms: number): Promise<boolean> {
  const deadline = performance.now() + ms;
  for (;;) {
    if (ok()) return true;
    if (performance.now() > deadline) return false;
    await Bun.sleep(50);
  }
}
