// pipeBoth over real TCP sockets: byte counts, half-close in both directions, backpressure, teardown.

import { describe, expect, test } from "bun:test";
import net from "node:net";
import { pipeBoth } from "../../src/engine/pipe.ts";

/** A relay: clients connect to `port`; each accepted socket is piped to a new connection to `target`. */
async function relay(targetPort: number) {
  const results: Promise<Error | undefined>[] = [];
  const counters = { up: 0, down: 0 };
  const server = net.createServer({ allowHalfOpen: true }, (a) => {
    const b = net.connect({ port: targetPort, host: "127.0.0.1", allowHalfOpen: true });
    results.push(pipeBoth(a, b, counters));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { port: (server.address() as net.AddressInfo).port, counters, results, close: () => server.close() };
}

async function listen(onConn: (s: net.Socket) => void) {
  const server = net.createServer({ allowHalfOpen: true }, onConn);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { port: (server.address() as net.AddressInfo).port, close: () => server.close() };
}

describe("pipeBoth", () => {
  test("a side that was already closed settles the pipe instead of hanging it", async () => {
    const { PassThrough } = await import("node:stream");
    const gone = new PassThrough();
    gone.destroy();
    await new Promise((r) => setTimeout(r, 10));
    const other = new PassThrough();
    const r = await Promise.race([pipeBoth(gone, other, { up: 0, down: 0 }).then(() => "settled"), new Promise((res) => setTimeout(() => res("hung"), 1000))]);
    expect(r).toBe("settled");
    expect(other.destroyed).toBe(true);
  });

  test("counts bytes each way and passes a FIN on, so the reply after it arrives", async () => {
    const target = await listen((s) => {
      let n = 0;
      s.on("data", (d) => (n += d.length));
      s.on("end", () => s.end("x".repeat(n * 2)));
    });
    const r = await relay(target.port);
    const reply = await new Promise<string>((resolve) => {
      const c = net.connect({ port: r.port, host: "127.0.0.1", allowHalfOpen: true }, () => c.end("hello"));
      let got = "";
      c.on("data", (d) => (got += d));
      c.on("end", () => (c.end(), resolve(got)));
    });
    expect(reply).toBe("x".repeat(10));
    expect(await r.results[0]).toBeUndefined();
    expect(r.counters).toEqual({ up: 5, down: 10 });
    r.close();
    target.close();
  });

  test("a target that never reads stops the client within a few MiB (backpressure)", async () => {
    const stalled: net.Socket[] = [];
    const target = await listen((s) => {
      s.pause();
      stalled.push(s);
    });
    const r = await relay(target.port);
    const c = net.connect(r.port, "127.0.0.1");
    await new Promise((res) => c.once("connect", res));
    const chunk = Buffer.alloc(64 * 1024);
    let written = 0;
    const deadline = Date.now() + 1500;
    // Write while the socket accepts; a relay without backpressure would take all 256 MiB at once.
    while (Date.now() < deadline && written < 256 * 1024 * 1024) {
      if (!c.write(chunk)) {
        const drained = await Promise.race([
          new Promise((res) => c.once("drain", () => res(true))),
          new Promise((res) => setTimeout(() => res(false), 300)),
        ]);
        if (!drained) continue;
      }
      written += chunk.length;
    }
    expect(written).toBeLessThan(64 * 1024 * 1024);
    expect(r.counters.up).toBeLessThan(64 * 1024 * 1024);
    c.destroy();
    for (const s of stalled) s.destroy();
    expect(await r.results[0]).toBeDefined(); // a reset is reported, not swallowed
    r.close();
    target.close();
  });

  test("when the target resets, the client's socket is closed too", async () => {
    const target = await listen((s) => s.on("data", () => s.resetAndDestroy()));
    const r = await relay(target.port);
    const closed = await new Promise<boolean>((resolve) => {
      const c = net.connect(r.port, "127.0.0.1", () => c.write("boom"));
      c.on("error", () => {});
      c.on("close", () => resolve(true));
    });
    expect(closed).toBe(true);
    expect((await r.results[0])?.message).toMatch(/ECONNRESET|reset/i);
    r.close();
    target.close();
  });

  describe("recycling what was read, once it is written on", () => {
    /** A source that can recycle, a sink whose write callbacks wait for the test; chunk pushed by the test. */
    async function rig(opts: { releasesWritten?: boolean; secondReader?: boolean } = {}) {
      const { Duplex } = await import("node:stream");
      const recycled: Buffer[] = [];
      const source = Object.assign(new Duplex({ read() {}, write(_c, _e, cb) { cb(); } }), { recycle: (c: Buffer) => void recycled.push(c) });
      const waiting: ((err?: Error) => void)[] = [];
      const sink = Object.assign(new Duplex({ read() {}, write(_c, _e, cb) { waiting.push(cb); } }), { releasesWritten: opts.releasesWritten ?? true });
      void pipeBoth(source, sink, { up: 0, down: 0 });
      if (opts.secondReader) source.on("data", () => {});
      const chunk = Buffer.alloc(150_000, 7); // three pieces of at most 64 KiB
      source.push(chunk);
      await new Promise((r) => setTimeout(r, 10));
      return { chunk, recycled, waiting, done: () => (source.destroy(), sink.destroy()) };
    }

    test("recycled once, after the last of its pieces' write callbacks, never before", async () => {
      const r = await rig();
      expect(r.waiting.length).toBe(1); // a Writable hands its _write one piece at a time
      for (let i = 0; i < 3; i++) {
        expect(r.recycled.length).toBe(0);
        r.waiting.shift()!();
        await new Promise((res) => setTimeout(res, 5));
      }
      expect(r.recycled).toEqual([r.chunk]);
      r.done();
    });

    test("not when the writer does not say it lets go of what it was given, nor when another reader had the chunk too", async () => {
      for (const opts of [{ releasesWritten: false }, { secondReader: true }]) {
        const r = await rig(opts);
        for (let i = 0; i < 3; i++) {
          r.waiting.shift()!();
          await new Promise((res) => setTimeout(res, 5));
        }
        expect(r.recycled.length).toBe(0);
        r.done();
      }
    });

    test("not when an earlier piece's write failed, though the last one's succeeded", async () => {
      // A writer that is not a node Writable, so one failure does not fail what comes after it.
      const { EventEmitter } = await import("node:events");
      const { Duplex } = await import("node:stream");
      const recycled: Buffer[] = [];
      const source = Object.assign(new Duplex({ read() {}, write(_c, _e, cb) { cb(); } }), { recycle: (c: Buffer) => void recycled.push(c) });
      const waiting: ((err?: Error) => void)[] = [];
      const sink = Object.assign(new EventEmitter(), {
        releasesWritten: true,
        destroyed: false,
        write: (_c: Buffer, cb: (err?: Error) => void) => (waiting.push(cb), true),
        end() {},
        pause() {},
        resume() {},
        destroy() {
          this.destroyed = true;
        },
      });
      void pipeBoth(source, sink as unknown as import("node:stream").Duplex, { up: 0, down: 0 });
      source.push(Buffer.alloc(150_000, 7));
      await new Promise((r) => setTimeout(r, 10));
      expect(waiting.length).toBe(3);
      waiting[0]!(new Error("gone"));
      waiting[1]!();
      waiting[2]!();
      await new Promise((r) => setTimeout(r, 5));
      expect(recycled.length).toBe(0);
      source.destroy();
    });

    test("not when a write failed", async () => {
      const r = await rig();
      for (let i = 0; i < 2; i++) {
        r.waiting.shift()!();
        await new Promise((res) => setTimeout(res, 5));
      }
      r.waiting.shift()!(new Error("gone")); // the last piece's
      await new Promise((res) => setTimeout(res, 5));
      expect(r.recycled.length).toBe(0);
      r.done();
    });
  });
});
