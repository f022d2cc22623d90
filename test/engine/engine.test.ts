// Engine against a fake Link (no SSH: the engine's contract is the Link interface). start() brings up
// sessions then forwards, stop() drains and disconnects, a stop while connecting ends the start, a
// -R is requested again on the link that replaces a lost one (retried while a stale session holds
// the port), and a connection that finds no live session is refused after the acquire deadline.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import net from "node:net";
import type { Duplex } from "node:stream";
import type { ReconnectPolicy } from "../../src/engine/backoff.ts";
import { Engine } from "../../src/engine/engine.ts";
import type { Connect, Incoming, Link } from "../../src/engine/link.ts";
import { FwdError, fail, ok, type Result } from "../../src/errors.ts";
import { formatEndpoint, type Endpoint, type TcpEndpoint } from "../../src/vocab/endpoint.ts";
import type { ForwardSpec } from "../../src/vocab/forward.ts";
import { exchange, startEcho } from "../harness/net.ts";

let echo: Awaited<ReturnType<typeof startEcho>>;
beforeAll(async () => void (echo = await startEcho()));
afterAll(async () => await echo?.close());

const FAST: ReconnectPolicy = { enabled: true, maxRetries: Infinity, initialDelayMs: 5, maxDelayMs: 10, stableAfterMs: 60_000 };

/**
 * A link whose channels are plain TCP connections from here (the "server" reaches what this machine
 * reaches), whose listen() answers from a script, and that can deliver incoming connections.
 */
function fakeLink(listens: (() => Result<Endpoint>)[] = []) {
  let end!: (e: FwdError | undefined) => void;
  const fns: ((c: Incoming) => void)[] = [];
  const l = {
    ended: new Promise<FwdError | undefined>((r) => (end = r)),
    opened: [] as string[],
    listened: [] as string[],
    closed: false,
    open: async (target: Endpoint): Promise<Result<Duplex>> => {
      l.opened.push(formatEndpoint(target));
      const t = target as TcpEndpoint;
      const s = net.connect(t.port, t.host);
      return new Promise((resolve) => {
        s.once("connect", () => resolve(ok(s)));
        s.once("error", (e) => resolve(fail(new FwdError("E_CHANNEL", `open ${formatEndpoint(target)}: ${e.message}`, ""))));
      });
    },
    listen: async (bind: Endpoint): Promise<Result<Endpoint>> => {
      l.listened.push(formatEndpoint(bind));
      return (listens.shift() ?? (() => ok({ ...(bind as TcpEndpoint), port: (bind as TcpEndpoint).port || 40_000 })))();
    },
    onIncoming: (fn: (c: Incoming) => void) => (fns.push(fn), () => {}),
    deliver: (c: Incoming) => fns.forEach((fn) => fn(c)),
    close() {
      l.closed = true;
      end(undefined);
    },
    lose: () => end(new FwdError("E_CLOSED", "u@a: connection lost", "")),
  };
  return l satisfies Link;
}

/** connect() answering from a script, one result per attempt; one past the script hangs until aborted, as connectRoute does. */
function scripted(results: (() => Promise<Result<Link>>)[]) {
  const signals: AbortSignal[] = [];
  const connect: Connect = (signal) => {
    signals.push(signal!);
    const next = results.shift();
    if (next) return next();
    return new Promise((resolve) => signal!.addEventListener("abort", () => resolve(fail(new FwdError("E_CONNECT", "u@a: connection aborted", ""))), { once: true }));
  };
  return { connect, signals };
}

const until = async (cond: () => boolean, ms = 3_000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await Bun.sleep(2);
  }
};

const engineOf = (connect: Connect, forwards: ForwardSpec[], acquireTimeoutMs = 1_000) =>
  new Engine({ sessions: [{ name: "main", host: "u@a", connect }], forwards }, { exitOnForwardFailure: true, acquireTimeoutMs, reconnect: FAST });

const refused = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = net.connect(port, "127.0.0.1");
    s.once("connect", () => (s.destroy(), resolve(false)));
    s.once("error", () => resolve(true));
  });

describe("Engine", () => {
  test("start() connects, then opens each forward; a -L carries through the link; stop() drains and disconnects", async () => {
    const link = fakeLink();
    const engine = engineOf(scripted([async () => ok(link)]).connect, [
      { kind: "local", id: "L", bind: { host: "127.0.0.1", port: 0 }, target: { host: "127.0.0.1", port: echo.port } },
      { kind: "remote", id: "R", bind: { host: "localhost", port: 0 }, target: { host: "127.0.0.1", port: echo.port } },
    ]);
    const r = await engine.start();
    expect(r.ok && r.value.map((b) => [b.spec.id, formatEndpoint(b.bound).replace(/:\d+$/, ":N")])).toEqual([["L", "127.0.0.1:N"], ["R", "localhost:N"]]);
    expect(link.listened).toEqual(["localhost:0"]);
    const port = r.ok ? (r.value[0]!.bound as TcpEndpoint).port : 0;
    expect((await exchange(port, "hello")).reply.toString()).toBe("hello");
    expect(link.opened).toEqual([`127.0.0.1:${echo.port}`]);
    await until(() => engine.snapshot().forwards[0]!.stats.open === 0);
    expect(engine.snapshot().forwards.map((f) => [f.spec.id, f.stats.total, f.stats.bytesUp])).toEqual([["L", 1, 5], ["R", 0, 0]]);
    await engine.stop(100);
    expect(await refused(port)).toBe(true);
    expect(link.closed).toBe(true);
    expect(await engine.ended).toBeUndefined();
  });

  test("a stop while the first connection is in flight ends the start (E_CLOSED) and aborts the attempt", async () => {
    const { connect, signals } = scripted([]);
    const engine = engineOf(connect, [{ kind: "local", id: "L", bind: { host: "127.0.0.1", port: 0 }, target: { host: "127.0.0.1", port: echo.port } }]);
    const starting = engine.start();
    await until(() => signals.length === 1);
    await engine.stop(0);
    const r = await starting;
    expect(!r.ok && [r.error.code, r.error.message]).toEqual(["E_CLOSED", "stopped while starting"]);
    expect(signals[0]!.aborted).toBe(true);
    expect(engine.snapshot().forwards).toEqual([]);
  });

  test("a -R is requested again on the link that replaces a lost one, retried while the server still holds the port", async () => {
    const first = fakeLink([() => ok({ host: "localhost", port: 40_001 })]);
    // The new session's first request fails as sshd does while a stale session holds the port.
    const second = fakeLink([() => fail(new FwdError("E_FORWARD", "u@a: -R localhost:40001: the server refused the forward", "")), () => ok({ host: "localhost", port: 40_001 })]);
    const engine = engineOf(scripted([async () => ok(first), async () => ok(second)]).connect, [
      { kind: "remote", id: "R", bind: { host: "localhost", port: 40_001 }, target: { host: "127.0.0.1", port: echo.port } },
    ]);
    expect((await engine.start()).ok).toBe(true);
    first.lose();
    await until(() => second.listened.length === 2);
    expect(second.listened).toEqual(["localhost:40001", "localhost:40001"]);
    // What the server forwards on the new link reaches the target from here.
    const pair = await socketPair();
    let rejected = false;
    second.deliver({ bind: { host: "localhost", port: 40_001 }, origin: { host: "127.0.0.1", port: 50_000 }, accept: () => pair.near, reject: () => (rejected = true), isOpen: () => true });
    pair.far.write("ping");
    const got = await new Promise<string>((resolve) => pair.far.once("data", (d) => resolve(d.toString())));
    expect([got, rejected]).toEqual(["ping", false]);
    pair.far.destroy();
    engine.kill();
  });

  test("a -L connection that finds no live session is refused after the acquire deadline, and counted", async () => {
    const link = fakeLink();
    // After the loss every reconnect attempt hangs: the session stays down.
    const engine = engineOf(scripted([async () => ok(link)]).connect, [{ kind: "local", id: "L", bind: { host: "127.0.0.1", port: 0 }, target: { host: "127.0.0.1", port: echo.port } }], 150);
    const r = await engine.start();
    const port = r.ok ? (r.value[0]!.bound as TcpEndpoint).port : 0;
    link.lose();
    await until(() => engine.snapshot().sessions[0]!.state !== "up");
    const t0 = Date.now();
    const s = net.connect(port, "127.0.0.1");
    await new Promise((resolve) => s.once("close", resolve));
    // Not before the deadline: the listener kept the client waiting for a session that might return.
    expect(Date.now() - t0).toBeGreaterThanOrEqual(140);
    expect(engine.snapshot().forwards[0]!.stats.failures).toEqual({ "no-session": 1 });
    expect(link.opened).toEqual([]);
    engine.kill();
  });
});

/** Two connected TCP sockets: `near` plays the server's channel, `far` the client on the server. */
async function socketPair(): Promise<{ near: net.Socket; far: net.Socket }> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const accepted = new Promise<net.Socket>((r) => server.once("connection", r));
  const far = net.connect((server.address() as net.AddressInfo).port, "127.0.0.1");
  const near = await accepted;
  server.close();
  return { near, far };
}
