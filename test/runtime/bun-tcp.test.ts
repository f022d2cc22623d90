// The Bun-socket transport (src/runtime/bun-tcp.ts) against real TCP peers on loopback: it carries
// every SSH byte, so order, backpressure, half-close and failures must be what node:net gives ssh2.

import { afterEach, describe, expect, test } from "bun:test";
import { createHash, randomBytes } from "node:crypto";
import net from "node:net";
import { BunTcpSocket } from "../../src/runtime/bun-tcp.ts";
import { MAX_BUFFERS, writevCalls, writevReady } from "../../src/runtime/writev.ts";

const servers: net.Server[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

async function server(onConn: (c: net.Socket) => void): Promise<number> {
  const s = net.createServer({ allowHalfOpen: true }, onConn);
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  return (s.address() as net.AddressInfo).port;
}

const once = <T = unknown>(e: NodeJS.EventEmitter, name: string) => new Promise<T>((r) => e.once(name, (...a: unknown[]) => r(a[0] as T)));

/**
 * Writes `pieces` in one callback to a peer that is not reading yet (the kernel's buffers fill, the
 * rest waits in user space), then lets it read; resolves with what it received and the order of the
 * write callbacks once the socket has drained and ended.
 */
async function throughSlowReader(pieces: Buffer[], afterWrites: (s: BunTcpSocket) => void = () => {}) {
  let received: Promise<Buffer>;
  let peer!: net.Socket;
  const port = await server((c) => {
    peer = c.pause();
    received = new Promise((r) => {
      const parts: Buffer[] = [];
      c.on("data", (d) => parts.push(d)).on("end", () => r(Buffer.concat(parts)));
    });
  });
  const s = BunTcpSocket.connect("127.0.0.1", port);
  await once(s, "connect");
  const done: number[] = [];
  pieces.forEach((p, i) => s.write(p, () => done.push(i)));
  afterWrites(s);
  const drained = once(s, "drain");
  peer.resume();
  await drained;
  s.end();
  return { got: await received!, done, s };
}

const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");

test("small and large writes arrive whole and in order; a slow reader makes it queue, drain and call back in order", async () => {
  const pieces = [Buffer.from("hello"), randomBytes(8 << 20), Buffer.from("x"), Buffer.from("y"), randomBytes(40_000), Buffer.from("end")];
  const { got, done, s } = await throughSlowReader(pieces, (s) => expect(s.writableLength).toBeGreaterThan(1 << 20));
  expect(got.length).toBe(pieces.reduce((n, p) => n + p.length, 0));
  expect(sha(got)).toBe(sha(Buffer.concat(pieces)));
  expect(done).toEqual([0, 1, 2, 3, 4, 5]);
  expect(s.writableLength).toBe(0);
});

test("large writes of one callback go out by writev, batch after batch, resumed mid-buffer when the kernel is full", async () => {
  // More buffers than one call takes, of sizes that end partial takes at odd places; from offsets of
  // a shared read buffer, as a channel's data is.
  const source = randomBytes(16 << 20);
  const pieces: Buffer[] = [];
  for (let at = 0, i = 0; at < source.length && pieces.length < 3 * MAX_BUFFERS; i++) {
    const n = 4096 + ((i * 7919) % 65_000);
    pieces.push(source.subarray(at, at + n));
    at += n + (i % 3);
  }
  const before = writevCalls();
  const { got, done } = await throughSlowReader(pieces, () => expect(writevReady()).toBe(true));
  expect(sha(got)).toBe(sha(Buffer.concat(pieces)));
  expect(done).toEqual(pieces.map((_, i) => i));
  expect(writevCalls() - before).toBeGreaterThanOrEqual(3);
});

test("a 'drain' listener that writes more and ends: all of it goes out before the FIN", async () => {
  let peer!: net.Socket;
  let got!: Promise<number>;
  const port = await server((c) => {
    peer = c.pause();
    got = new Promise((r) => {
      let n = 0;
      c.on("data", (d) => (n += d.length)).on("end", () => r(n));
    });
  });
  const s = BunTcpSocket.connect("127.0.0.1", port);
  await once(s, "connect");
  s.write(randomBytes(8 << 20));
  // Stream.pipe and the transport queue (src/ssh/transport-queue.ts) write from inside 'drain'.
  s.once("drain", () => s.end(randomBytes(8 << 20)));
  peer.resume();
  expect(await got!).toBe(16 << 20);
});

test("end(data, cb) calls cb once, when finished, as node's does", async () => {
  let got!: Promise<string>;
  const port = await server((c) => {
    got = new Promise((r) => {
      let t = "";
      c.on("data", (d) => (t += d)).on("end", () => r(t));
    });
  });
  const s = BunTcpSocket.connect("127.0.0.1", port);
  await once(s, "connect");
  let calls = 0;
  s.end("last words", () => calls++);
  expect(await got!).toBe("last words"); // the peer has our FIN: every callback has run by now
  await new Promise((r) => setImmediate(r));
  expect(calls).toBe(1);
  s.destroy();
});

test("a refused connection is an 'error' with node's code, then 'close'", async () => {
  const port = await server(() => {});
  servers.pop()!.close();
  await Bun.sleep(20);
  const s = BunTcpSocket.connect("127.0.0.1", port);
  const events: string[] = [];
  s.on("error", (e: NodeJS.ErrnoException) => events.push(`error ${e.code}`));
  await once(s, "close");
  expect(events).toEqual(["error ECONNREFUSED"]);
});

test("a reset by the peer is an 'error' ECONNRESET, not a clean end", async () => {
  const port = await server((c) => c.write("hi", () => setTimeout(() => c.resetAndDestroy(), 50)));
  const s = BunTcpSocket.connect("127.0.0.1", port);
  const events: string[] = [];
  s.on("data", (d: Buffer) => events.push(`data ${d}`)).on("end", () => events.push("end")).on("error", (e: NodeJS.ErrnoException) => events.push(`error ${e.code}`));
  await once(s, "close");
  expect(events).toEqual(["data hi", "error ECONNRESET"]);
});

test("the peer's end is 'end', and this side ends after what it still had to send", async () => {
  let peerGot: Promise<string>;
  const port = await server((c) => {
    peerGot = new Promise((r) => {
      let t = "";
      c.on("data", (d) => (t += d)).on("end", () => r(t));
    });
    c.end("bye");
  });
  const s = BunTcpSocket.connect("127.0.0.1", port);
  s.on("end", () => s.write("late")); // written after the peer's end: still delivered before our FIN
  let text = "";
  s.on("data", (d: Buffer) => (text += d));
  await once(s, "end");
  expect(text).toBe("bye");
  // node:net without allowHalfOpen ends by itself; what was written first still goes out.
  expect(await peerGot!).toBe("late");
  const wrote = await new Promise<Error | null | undefined>((r) => s.write("after", r));
  // Ended, or closed already by the time of the write: refused either way, never silently dropped.
  expect((wrote as NodeJS.ErrnoException).code).toMatch(/^ERR_STREAM_(WRITE_AFTER_END|DESTROYED)$/);
});

test("paused, no 'data' is emitted; resumed, what came meanwhile follows in order", async () => {
  const port = await server((c) => c.write("one", () => setTimeout(() => c.end("two"), 30)));
  const s = BunTcpSocket.connect("127.0.0.1", port);
  s.pause();
  let text = "";
  s.on("data", (d: Buffer) => (text += d));
  await once(s, "connect");
  await Bun.sleep(120);
  expect(text).toBe("");
  s.resume();
  await once(s, "end");
  expect(text).toBe("onetwo");
});

test("a name is looked up first, and 'lookup' says where it went", async () => {
  const port = await server((c) => c.end());
  const s = BunTcpSocket.connect("localhost", port);
  const [err, address] = await new Promise<[Error | null, string]>((r) => s.once("lookup", (e: Error | null, a: string) => r([e, a])));
  expect(err).toBeNull();
  expect(["127.0.0.1", "::1"]).toContain(address);
  s.on("error", () => {}); // ::1 may refuse: this test is about the lookup
  await once(s, "close");
});

test("destroy() drops what waits, calls its callbacks with an error and closes once", async () => {
  const port = await server((c) => c.pause());
  const s = BunTcpSocket.connect("127.0.0.1", port);
  await once(s, "connect");
  const results: (string | undefined)[] = [];
  s.write(randomBytes(16 << 20), (e) => results.push((e as NodeJS.ErrnoException | undefined)?.code));
  let closes = 0;
  s.on("close", () => closes++);
  s.destroy();
  await Bun.sleep(50);
  expect(results).toEqual(["ERR_STREAM_DESTROYED"]);
  expect(closes).toBe(1);
  expect(s.writableLength).toBe(0);
});

test("destroy() right after writes still sends what the kernel takes, as node's does (writes wait for the callback's end)", async () => {
  let got!: Promise<number>;
  const port = await server((c) => {
    got = new Promise((r) => {
      let n = 0;
      c.on("data", (d) => (n += d.length)).on("end", () => r(n));
    });
  });
  const s = BunTcpSocket.connect("127.0.0.1", port);
  await once(s, "connect");
  const results: (string | undefined)[] = [];
  for (const b of [randomBytes(64 << 10), Buffer.from("small"), randomBytes(64 << 10)]) s.write(b, (e) => results.push((e as NodeJS.ErrnoException | undefined)?.code ?? "ok"));
  s.destroy();
  expect(await got).toBe(2 * (64 << 10) + 5);
  expect(results).toEqual(["ok", "ok", "ok"]);
});

describe("listen(): the local end of -L, -D and --route under Bun", () => {
  const listening: { close(): void }[] = [];
  afterEach(() => {
    for (const l of listening.splice(0)) l.close();
  });
  const accept = () => {
    const got: BunTcpSocket[] = [];
    let wake: (() => void) | undefined;
    const l = BunTcpSocket.listen({ host: "127.0.0.1", port: 0 }, (s) => {
      got.push(s);
      wake?.();
    });
    listening.push({ close: () => l.stop(true) });
    const next = () => new Promise<BunTcpSocket>((r) => (got.length ? r(got.shift()!) : (wake = () => r(got.shift()!))));
    return { port: l.port, next };
  };

  test("a client that hangs up before its socket is resumed: 'end' comes after resume, never before anyone listens", async () => {
    const { port, next } = accept();
    const c = net.connect(port, "127.0.0.1");
    const s = await next();
    const events: string[] = [];
    c.end(); // FIN while fwd still opens the channel (the socket is handed over paused)
    await Bun.sleep(100);
    s.on("end", () => events.push("end")).on("data", (d: Buffer) => events.push(`data ${d}`));
    expect(events).toEqual([]);
    s.resume();
    await once(s, "end");
    expect(events).toEqual(["end"]);
    const closed = once(s, "close");
    s.end();
    await closed;
  });

  test("what a client sends before resume waits, in order, and comes before its end", async () => {
    const { port, next } = accept();
    const c = net.connect(port, "127.0.0.1", () => c.end("early"));
    const s = await next();
    await Bun.sleep(100);
    let text = "";
    s.on("data", (d: Buffer) => (text += d));
    s.resume();
    await once(s, "end");
    expect(text).toBe("early");
    s.destroy();
  });

  test("half-close: after the client's FIN the reply still goes out, then the socket closes", async () => {
    const { port, next } = accept();
    const reply = new Promise<string>((r) => {
      let t = "";
      const c = net.connect({ port, host: "127.0.0.1", allowHalfOpen: true }, () => c.end("question"));
      c.on("data", (d) => (t += d)).on("end", () => r(t));
    });
    const s = await next();
    s.resume();
    s.on("data", () => {});
    await once(s, "end");
    const closed = once(s, "close");
    s.end("answer");
    expect(await reply).toBe("answer");
    await closed;
  });

  // Bun reports the client's FIN only as the close once fwd has shut its own side down; a socket
  // paused for backpressure may still hold what the client sent before it.
  const events = (s: BunTcpSocket) => {
    const ev: string[] = [];
    s.on("data", (d: Buffer) => ev.push(`data ${d}`)).on("end", () => ev.push("end")).on("close", () => ev.push("close"));
    s.on("error", (e: NodeJS.ErrnoException) => ev.push(`error ${e.code}`));
    return ev;
  };

  test("fwd ends first, then the client sends and hangs up while paused: its bytes, 'end', then 'close'", async () => {
    const { port, next } = accept();
    const c = net.connect({ port, host: "127.0.0.1", allowHalfOpen: true });
    const s = await next();
    const ev = events(s);
    s.resume();
    const ended = once(c.resume(), "end");
    s.end("reply");
    await ended;
    s.pause(); // as the pipe does while the SSH channel takes no more
    await new Promise<void>((r) => c.end("tail of the upload", () => r()));
    await Bun.sleep(100); // the FIN is in; nothing may be said while paused
    expect(ev).toEqual([]);
    const closed = once(s, "close");
    s.resume();
    await closed;
    expect(ev).toEqual(["data tail of the upload", "end", "close"]);
  });

  test("the client sends and hangs up while paused, then fwd ends: its bytes still come before 'close'", async () => {
    const { port, next } = accept();
    const c = net.connect({ port, host: "127.0.0.1", allowHalfOpen: true });
    const s = await next();
    const ev = events(s);
    const ended = once(c.resume(), "end");
    await new Promise<void>((r) => c.end("request", () => r()));
    await Bun.sleep(50);
    s.end("early reply"); // the target answered and closed before its channel's reader ran
    await ended;
    await Bun.sleep(50);
    expect(ev).toEqual([]);
    const closed = once(s, "close");
    s.resume();
    await closed;
    expect(ev).toEqual(["data request", "end", "close"]);
  });

  test("a port already taken throws EADDRINUSE (Bun does not share ports by default)", () => {
    const { port } = accept();
    expect(() => BunTcpSocket.listen({ host: "127.0.0.1", port }, () => {})).toThrow(expect.objectContaining({ code: "EADDRINUSE" }));
  });

  test("resetAndDestroy() is a reset for the client, as node's is", async () => {
    const { port, next } = accept();
    const c = net.connect(port, "127.0.0.1");
    const seen = new Promise<string>((r) => c.once("error", (e: NodeJS.ErrnoException) => r(e.code ?? "")).once("end", () => r("end")));
    const s = await next();
    s.resetAndDestroy();
    expect(await seen).toBe("ECONNRESET");
  });
});

test("joinPerTurn: small writes from separate callbacks of one event-loop turn reach Bun's socket as one write", async () => {
  const port = await server((c) => c.resume());
  const counts: number[] = [];
  for (const joinPerTurn of [false, true]) {
    const s = BunTcpSocket.connect("127.0.0.1", port, { joinPerTurn });
    await once(s, "connect");
    // Bun's own socket, behind the wrapper: count the writes handed to it.
    const bun = (s as unknown as { s: { write(d: Uint8Array): number } }).s;
    const write = bun.write.bind(bun);
    let writes = 0;
    bun.write = (d) => (writes++, write(d));
    // Three callbacks of one turn, as three connections' packets are when their events come together.
    const wrote = new Promise<void>((r) => {
      s.write(Buffer.from("a"));
      process.nextTick(() => s.write(Buffer.from("b")));
      queueMicrotask(() => process.nextTick(() => (s.write(Buffer.from("c")), r())));
    });
    await wrote;
    await new Promise((r) => setTimeout(r, 20));
    counts.push(writes);
    s.destroy();
  }
  // Per callback, each one is its own send; per turn, one.
  expect(counts[0]).toBeGreaterThan(1);
  expect(counts[1]).toBe(1);
});

test("a pooled packet's memory goes back to the pool only once the kernel has all of it", async () => {
  const { takePacket, freePackets } = await import("../../src/runtime/packet-pool.ts");
  let peer!: net.Socket;
  const got: Buffer[] = [];
  const port = await server((c) => {
    peer = c;
    c.pause();
    c.on("data", (d) => got.push(d));
  });
  const s = BunTcpSocket.connect("127.0.0.1", port);
  await once(s, "connect");
  // The kernel's buffers filled first (by memory not from the pool), so every packet below waits here.
  const filler = Buffer.alloc(16 << 20, 1);
  s.write(filler);
  const packets = Array.from({ length: 40 }, (_, i) => takePacket(32_800).fill(10 + i));
  for (const p of packets) s.write(p);
  const waiting = freePackets();
  // While they wait, what the pool hands out must be memory none of them uses.
  for (let k = 0; k < 100; k++) takePacket(32_800).fill(0xee);
  const drained = once(s, "drain");
  peer.resume();
  await drained;
  expect(freePackets()).toBeGreaterThan(waiting);
  s.end();
  await new Promise((r) => peer.once("end", r));
  const all = Buffer.concat(got);
  expect(all.length).toBe(filler.length + 40 * 32_800);
  const at = (i: number) => filler.length + i * 32_800;
  for (let i = 0; i < 40; i++) expect([all[at(i)], all[at(i) + 32_799]]).toEqual([10 + i, 10 + i]);
});

describe("recycle(): a read buffer's memory freed once its reader is done", () => {
  test("a chunk this socket read is emptied (its memory freed); one it gave a reader back, or any other, is not", async () => {
    const port = await server((c) => {
      c.write(randomBytes(200_000));
      c.end();
    });
    const s = BunTcpSocket.connect("127.0.0.1", port);
    const chunks: Buffer[] = [];
    s.on("data", (d: Buffer) => chunks.push(d));
    await once(s, "end");
    expect(chunks.length).toBeGreaterThan(0);
    const [first, ...rest] = chunks;
    const length = first!.length;
    s.recycle(first!);
    expect(first!.length).toBe(0);
    expect(first!.buffer.byteLength).toBe(0);
    s.recycle(first!); // twice: nothing more happens
    // A chunk a reader had (the SOCKS handshake's leftovers come back by unshift) may still be viewed.
    if (rest.length > 0) {
      const back = rest[0]!;
      s.unshift(back);
      s.recycle(back);
      expect(back.length).toBeGreaterThan(0);
    }
    const foreign = Buffer.from("not read by this socket");
    s.recycle(foreign);
    expect(foreign.toString()).toBe("not read by this socket");
    expect(length).toBeGreaterThan(0);
    // As a writer it holds nothing of a write once the write's callback has run (what the pipe asks).
    expect(s.releasesWritten).toBe(true);
    s.destroy();
  });
});
