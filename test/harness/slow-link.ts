// A user-space link between a client and a TCP server, for what loopback hides: a one-way delay per
// direction (half the round trip) and a rate cap. The kernel here has no netem, so tests and the
// benchmark put this relay between fwd (or ssh) and sshd. Bytes keep their order; each direction
// holds at most `queueBytes` in flight, then stops reading, as a router's queue would.

import net from "node:net";

export interface SlowLinkOptions {
  /** Target port on 127.0.0.1 (the sshd). */
  targetPort: number;
  /** Added to each direction: a 100 ms round trip is 50. */
  delayMs: number;
  /** Bytes per second per direction; 0 for no cap. */
  rateBytesPerS?: number;
  /** In flight per direction before the relay stops reading (default 32 MiB). */
  queueBytes?: number;
}

export interface SlowLink {
  port: number;
  close(): Promise<void>;
}

export async function startSlowLink(o: SlowLinkOptions): Promise<SlowLink> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer({ noDelay: true }, (client) => {
    const upstream = net.connect({ host: "127.0.0.1", port: o.targetPort, noDelay: true });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on("close", () => sockets.delete(s));
      s.on("error", () => {
        client.destroy();
        upstream.destroy();
      });
    }
    relay(client, upstream, o);
    relay(upstream, client, o);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

/** One direction: each chunk leaves `delayMs` after it arrived, and no sooner than the rate allows. */
function relay(from: net.Socket, to: net.Socket, o: SlowLinkOptions): void {
  const limit = o.queueBytes ?? 32 * 1024 * 1024;
  const rate = o.rateBytesPerS ?? 0;
  const queue: { at: number; data: Buffer }[] = [];
  let queued = 0;
  let nextFree = 0; // when the rate cap lets the next byte out
  let timer: ReturnType<typeof setTimeout> | undefined;
  let ended = false;
  const pump = () => {
    timer = undefined;
    const now = performance.now();
    while (queue.length > 0 && queue[0]!.at <= now) {
      const { data } = queue.shift()!;
      queued -= data.length;
      to.write(data);
    }
    if (queued < limit && from.isPaused()) from.resume();
    if (queue.length > 0) timer = setTimeout(pump, Math.max(0, queue[0]!.at - now));
    else if (ended) to.end();
  };
  from.on("data", (data: Buffer) => {
    const now = performance.now();
    // A rate cap spreads the chunk's departure: it leaves when the link has carried all before it.
    const wire = rate > 0 ? (data.length / rate) * 1000 : 0;
    nextFree = Math.max(nextFree, now) + wire;
    queue.push({ at: Math.max(now + o.delayMs, nextFree + o.delayMs), data });
    queued += data.length;
    if (queued >= limit) from.pause();
    timer ??= setTimeout(pump, Math.max(0, queue[0]!.at - now));
  });
  from.on("end", () => {
    ended = true;
    timer ??= setTimeout(pump, 0);
  });
}
