// X11 as a forward kind: an X connection the server opens back (an Incoming marked x11 on a fake
// Link) reaches the local display with the real cookie in place of the fake one, and is carried like
// any other connection — counted, in the snapshot, waited for by a graceful stop. One without the
// fake cookie is refused and counted. (test/e2e/x11.test.ts does the same with sshd and Xvfb.)

import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Engine } from "../../src/engine/engine.ts";
import type { Incoming, Link } from "../../src/engine/link.ts";
import { FwdError, fail, ok } from "../../src/errors.ts";
import { redact } from "../../src/redact.ts";
import type { X11Forward } from "../../src/vocab/forward.ts";

const dir = mkdtempSync(join(tmpdir(), "fwd-x11-unit-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const FAKE = "00112233445566778899aabbccddeeff";
const REAL = "ffeeddccbbaa99887766554433221100";
const PROTOCOL = "MIT-MAGIC-COOKIE-1";

/** An X11 connection setup (little-endian) carrying `cookie`. */
function setup(cookie: string): Buffer {
  const head = Buffer.alloc(12);
  head.write("l", 0, "latin1");
  head.writeUInt16LE(11, 2);
  head.writeUInt16LE(PROTOCOL.length, 6);
  head.writeUInt16LE(16, 8);
  const name = Buffer.alloc(20);
  name.write(PROTOCOL, "latin1");
  return Buffer.concat([head, name, Buffer.from(cookie, "hex")]);
}

/** A "display" on a unix socket that records what each client sent. */
async function display() {
  const path = join(dir, `X${Math.random().toString(36).slice(2)}`);
  const got: Buffer[] = [];
  const sockets: net.Socket[] = [];
  const server = net.createServer((s) => {
    sockets.push(s);
    s.on("data", (d) => got.push(d));
  });
  await new Promise<void>((r) => server.listen(path, r));
  return { path, got, sockets, close: () => (sockets.forEach((s) => s.destroy()), server.close()) };
}

/** One end of a loopback TCP pair as the channel the server opened; the other end is the X client on the server. */
async function channelPair(): Promise<{ channel: net.Socket; client: net.Socket }> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const accepted = new Promise<net.Socket>((r) => server.once("connection", r));
  const client = net.connect((server.address() as net.AddressInfo).port, "127.0.0.1");
  const channel = await accepted;
  server.close();
  return { channel, client };
}

function fakeLink(): Link & { deliver(c: Incoming): void } {
  const fns: ((c: Incoming) => void)[] = [];
  return {
    ended: new Promise(() => {}),
    open: async () => fail(new FwdError("E_CHANNEL", "fake", "")),
    listen: async () => fail(new FwdError("E_CHANNEL", "fake", "")),
    onIncoming: (fn) => (fns.push(fn), () => {}),
    close() {},
    deliver: (c) => fns.forEach((fn) => fn(c)),
  };
}

const x11 = (path: string): X11Forward => ({ kind: "x11", id: "-Y", target: { path }, protocol: PROTOCOL, fakeCookie: FAKE, realCookie: REAL });

async function engineWith(spec: X11Forward) {
  const link = fakeLink();
  const engine = new Engine({ sessions: [{ name: "main", host: "u@a", connect: async () => ok(link) }], forwards: [spec] }, { exitOnForwardFailure: true, acquireTimeoutMs: 100 });
  const started = await engine.start();
  expect(started.ok && started.value).toEqual([]);
  return { engine, link };
}

const until = async (cond: () => boolean) => {
  const end = Date.now() + 3_000;
  while (!cond()) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await Bun.sleep(5);
  }
};

test("an X connection reaches the display with the real cookie, and shows in the snapshot and stats", async () => {
  const d = await display();
  const { engine, link } = await engineWith(x11(d.path));
  const { channel, client } = await channelPair();
  link.deliver({ x11: true, bind: { path: "" }, origin: { host: "127.0.0.1", port: 40000 }, accept: () => channel, reject: () => {}, isOpen: () => true });
  client.write(setup(FAKE));
  await until(() => Buffer.concat(d.got).length >= 48);
  expect(Buffer.concat(d.got).equals(setup(REAL))).toBe(true);
  const f = engine.snapshot().forwards[0]!;
  expect(f.spec.kind).toBe("x11");
  expect([f.stats.open, f.stats.total, f.connections.length]).toEqual([1, 1, 1]);
  expect(f.connections[0]!.target).toBe(d.path);
  // What the status page and --json show of the spec never carries a cookie.
  const shown = JSON.stringify(redact(f.spec));
  expect([shown.includes(REAL), shown.includes(FAKE)]).toEqual([false, false]);
  // A graceful stop waits for it: still open after a short grace is cut only at its end.
  const stopped = engine.stop(200);
  await Bun.sleep(50);
  expect(engine.snapshot().forwards[0]!.connections.length).toBe(1);
  await stopped;
  await until(() => engine.snapshot().forwards[0]!.connections.length === 0);
  expect(engine.snapshot().forwards[0]!.stats.open).toBe(0);
  client.destroy();
  d.close();
});

test("an X connection without the fake cookie is refused, counted, and never reaches the display", async () => {
  const d = await display();
  const { engine, link } = await engineWith(x11(d.path));
  const { channel, client } = await channelPair();
  const closed = new Promise((r) => client.once("close", r));
  link.deliver({ x11: true, bind: { path: "" }, origin: { host: "127.0.0.1", port: 40001 }, accept: () => channel, reject: () => {}, isOpen: () => true });
  client.write(setup(REAL));
  await closed;
  const f = engine.snapshot().forwards[0]!;
  expect([f.stats.total, f.stats.failures]).toEqual([0, { "not-allowed": 1 }]);
  expect(d.sockets.length).toBe(0);
  engine.kill();
  d.close();
});

test("a connection on a -R address is not the x11 forward's: rejected when no forward takes it", async () => {
  const d = await display();
  const { engine, link } = await engineWith(x11(d.path));
  let rejected = 0;
  link.deliver({ bind: { host: "127.0.0.1", port: 8080 }, origin: { host: "127.0.0.1", port: 1 }, accept: () => new net.Socket(), reject: () => rejected++, isOpen: () => true });
  expect(rejected).toBe(1);
  engine.kill();
  d.close();
});
