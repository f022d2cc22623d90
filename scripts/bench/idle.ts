// Many idle connections held open through a tunnel's -L: opened in batches, each batch counted as open
// once the echo server behind the tunnel holds that many more descriptors (every channel made it to
// the target; nothing is sent, so the connections stay idle), held while the tunnel's memory is read,
// then all closed, and the memory read again once the tunnel has let go of every descriptor.

import net from "node:net";
import { fdCount, rssMiB } from "./proc.ts";

/** Connections opened at once: below OpenSSH's listen backlog (128), so no SYN waits for a retry. */
const BATCH = 100;
/** Bound on the tunnel closing everything after the client side has gone. */
const CLOSE_TIMEOUT_MS = 30_000;
/** A runtime may open a descriptor or two of its own along the way (a leak would be thousands). */
const FD_SLACK = 2;

export interface IdleResult {
  count: number;
  /** Connections that reached the echo server and were held. */
  opened: number;
  /** Connections refused or reset on the client side. */
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
 * Opens `count` connections to `port` (the tunnel's -L to the echo server `echoPid`) within `capMs`,
 * waits `settleMs`, reads the tunnel's RSS, closes them all, waits for the tunnel's descriptor count
 * to be back where it was (bounded) and `settleMs` more, and reads its RSS again.
 */
export async function holdIdle(pid: number, echoPid: number, port: number, count: number, capMs: number, settleMs: number): Promise<IdleResult> {
  const baseFds = fdCount(pid);
  // Connections of an earlier row may still be closing at the echo server: start from a steady count.
  await steady(() => fdCount(echoPid), 5_000);
  const echoBase = fdCount(echoPid);
  const reached = () => fdCount(echoPid) - echoBase;
  const held: net.Socket[] = [];
  let failed = 0;
  const t0 = performance.now();
  const deadline = t0 + capMs;
  try {
    while (held.length < count && failed < count && performance.now() < deadline) {
      const n = Math.min(BATCH, count - held.length);
      const batch = await Promise.all(Array.from({ length: n }, () => connect(port, deadline)));
      for (const s of batch) s ? held.push(s) : failed++;
      // The next batch waits for this one to be through the tunnel, so the listen backlog never overflows.
      await until(() => reached() >= held.length, deadline - performance.now());
    }
    const openSeconds = (performance.now() - t0) / 1000;
    const opened = Math.min(held.length, reached());
    await Bun.sleep(settleMs);
    const heldRssMiB = rssMiB(pid);
    const heldFds = fdCount(pid);
    for (const s of held) s.destroy();
    const closing = performance.now();
    const closed = await until(() => fdCount(pid) <= baseFds + FD_SLACK && fdCount(echoPid) <= echoBase + FD_SLACK, CLOSE_TIMEOUT_MS);
    const closeSeconds = (performance.now() - closing) / 1000;
    await Bun.sleep(settleMs);
    return { count, opened, failed, openSeconds, heldRssMiB, heldFds, afterCloseRssMiB: rssMiB(pid), closeSeconds, closed };
  } finally {
    for (const s of held) s.destroy();
  }
}

/** Resolves with the connected socket, or undefined when it fails or the deadline comes first. */
function connect(port: number, deadline: number): Promise<net.Socket | undefined> {
  return new Promise((resolve) => {
    const s = net.connect({ host: "127.0.0.1", port, noDelay: true });
    const fail = () => {
      clearTimeout(timer);
      s.destroy();
      resolve(undefined);
    };
    const timer = setTimeout(fail, Math.max(0, deadline - performance.now()));
    s.once("error", fail);
    s.once("connect", () => {
      clearTimeout(timer);
      s.removeListener("error", fail);
      // A held socket that the tunnel drops later is simply gone; the count was taken at the target.
      s.on("error", () => {});
      resolve(s);
    });
  });
}

/** Waits (at most `ms`) until `read` gives the same value twice 100 ms apart. */
async function steady(read: () => number, ms: number): Promise<void> {
  const deadline = performance.now() + ms;
  let last = read();
  while (performance.now() < deadline) {
    await Bun.sleep(100);
    const now = read();
    if (now === last) return;
    last = now;
  }
}

/** Polls `ok` every 50 ms (reading a descriptor table of 10,000 costs a little) until it holds (true) or `ms` pass (false). */
async function until(ok: () => boolean, ms: number): Promise<boolean> {
  const deadline = performance.now() + ms;
  for (;;) {
    if (ok()) return true;
    if (performance.now() > deadline) return false;
    await Bun.sleep(50);
  }
}
