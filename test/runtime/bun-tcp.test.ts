// The Bun-socket transport (src/runtime/bun-tcp.ts) against real TCP peers on loopback: it carries
// every SSH byte, so order, backpressure, half-close and failures must be what node:net gives ssh2.

import { afterEach, expect, test } from "bun:test";
import { createHash, randomBytes } from "node:crypto";
import net from "node:net";
import { BunTcpSocket } from "../../src/runtime/bun-tcp.ts";

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

test("small and large writes arrive whole and in order; a slow reader makes it queue, drain and call back in order", async () => {
  let received: Promise<Buffer>;
  let peer!: net.Socket;
  const port = await server((c) => {
    peer = c;
    c.pause(); // a reader that is not reading yet: the kernel's buffers fill, the rest waits in user space
    received = new Promise((r) => {
      const parts: Buffer[] = [];
      c.on("data", (d) => parts.push(d)).on("end", () => r(Buffer.concat(parts)));
    });
  });
  const s = BunTcpSocket.connect("127.0.0.1", port);
  await once(s, "connect");
  const pieces = [Buffer.from("hello"), randomBytes(8 << 20), Buffer.from("x"), Buffer.from("y"), randomBytes(40_000), Buffer.from("end")];
  const done: number[] = [];
  pieces.forEach((p, i) => s.write(p, () => done.push(i)));
  expect(s.writableLength).toBeGreaterThan(1 << 20);
  const drained = once(s, "drain");
  peer.resume();
  await drained;
  s.end();
  const got = await received!;
  const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");
  expect(got.length).toBe(pieces.reduce((n, p) => n + p.length, 0));
  expect(sha(got)).toBe(sha(Buffer.concat(pieces)));
  expect(done).toEqual([0, 1, 2, 3, 4, 5]);
  expect(s.writableLength).toBe(0);
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
