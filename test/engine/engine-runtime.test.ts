// The engine changed while it runs (`fwd up`, reloads, live forwards): sessions and forwards added
// and removed, against a real sshd, with the connections of the others left alone.

import { afterAll, beforeAll, expect, test } from "bun:test";
import net from "node:net";
import { join } from "node:path";
import { Engine } from "../../src/engine/engine.ts";
import type { TcpEndpoint } from "../../src/vocab/endpoint.ts";
import { connectSsh, type SshTarget } from "../../src/ssh/connect.ts";
import { exchange, startEcho } from "../harness/net.ts";
import { startSshd, type Sshd } from "../harness/sshd.ts";

let sshd: Sshd;
let echo: Awaited<ReturnType<typeof startEcho>>;
beforeAll(async () => {
  [sshd, echo] = await Promise.all([startSshd(), startEcho()]);
}, 30_000);
afterAll(async () => {
  await Promise.all([sshd?.stop(), echo?.close()]);
});

const target = (identity = sshd.clientKey): SshTarget => ({
  label: `${sshd.user}@127.0.0.1:${sshd.port}`,
  host: "127.0.0.1",
  port: sshd.port,
  user: sshd.user,
  identityFiles: [{ path: identity, explicit: true }],
  identitiesOnly: true,
  agentSocket: undefined,
  hostKey: { strict: "yes", host: "127.0.0.1", port: sshd.port, userFiles: [sshd.knownHosts], globalFiles: [] },
  connectTimeoutMs: 10_000,
  keepaliveIntervalMs: 15_000,
  keepaliveCountMax: 3,
});
const session = (name: string, t = target()) => ({ name, host: t.label, connect: (signal?: AbortSignal) => connectSsh(t, { prompt: undefined, log: () => {} }, signal) });
const local = (id: string, via: string) => ({ kind: "local" as const, id, via, bind: { host: "127.0.0.1", port: 0 }, target: { host: "127.0.0.1", port: echo.port } });

/** A connection that echoes line by line while it stays open. */
async function openEcho(port: number) {
  const s = net.connect(port, "127.0.0.1");
  await new Promise((r, j) => s.once("connect", r).once("error", j));
  return {
    s,
    say: (text: string) =>
      new Promise<string>((resolve, reject) => {
        s.once("data", (d) => resolve(d.toString()));
        s.once("error", reject);
        s.write(text);
      }),
  };
}

test("forwards and sessions added and removed at runtime; the others keep their connections", async () => {
  const engine = new Engine({ sessions: [], forwards: [] }, { exitOnForwardFailure: true, acquireTimeoutMs: 5_000, keepRunning: true });
  try {
    expect((await engine.start()).ok).toBe(true);
    expect(await engine.addSession(session("a"))).toEqual({ ok: true, value: undefined });
    const dup = await engine.addSession(session("a"));
    expect(dup.ok || dup.error.message).toBe('session "a" exists already');

    const one = await engine.addForward(local("s1/x", "a"));
    const two = await engine.addForward(local("s2/x", "a"));
    if (!one.ok || !two.ok) throw new Error("no listen");
    const p1 = (one.value as TcpEndpoint).port;
    const p2 = (two.value as TcpEndpoint).port;
    const again = await engine.addForward(local("s1/x", "a"));
    expect(again.ok || again.error.message).toBe("s1/x: a forward with this id exists already");
    const none = await engine.addForward(local("s3/x", "nope"));
    expect(none.ok || none.error.message).toBe('s3/x: no session named "nope"');

    const kept = await openEcho(p1);
    const cut = await openEcho(p2);
    expect(await kept.say("one")).toBe("one");
    expect(await cut.say("two")).toBe("two");

    // Removed without cutting (ssh -O cancel): no new connections, the open one carries on.
    expect(engine.removeForward("s1/x")).toBe(true);
    expect(engine.removeForward("s1/x")).toBe(false);
    await expect(exchange(p1, "x")).rejects.toThrow(/ECONNREFUSED/);
    expect(await kept.say("still")).toBe("still");
    // Removed with cut (a scenario restarted): its connections end, the other's does not.
    const closed = new Promise((r) => cut.s.once("close", r));
    expect(engine.removeForward("s2/x", { cut: true })).toBe(true);
    await closed;
    expect(await kept.say("alive")).toBe("alive");
    expect(engine.snapshot().forwards.map((f) => f.spec.id)).toEqual([]);

    // A second session, added and removed, leaves the first one up.
    expect((await engine.addSession(session("b"))).ok).toBe(true);
    expect(engine.sessionNames()).toEqual(["a", "b"]);
    const onB = await engine.addForward(local("live/x", "b"));
    if (!onB.ok) throw onB.error;
    // Removing a session takes the forwards that still ride on it along.
    expect(engine.removeSession("b")).toBe(true);
    expect(engine.snapshot().forwards.map((f) => f.spec.id)).toEqual([]);
    await expect(exchange((onB.value as TcpEndpoint).port, "x")).rejects.toThrow(/ECONNREFUSED/);
    expect(engine.sessionNames()).toEqual(["a"]);
    expect(await kept.say("end")).toBe("end");
    kept.s.destroy();
  } finally {
    engine.kill();
  }
}, 30_000);

test("keepRunning: a session that gives up (a key the server refuses) ends only itself", async () => {
  const engine = new Engine({ sessions: [], forwards: [] }, { exitOnForwardFailure: true, acquireTimeoutMs: 5_000, keepRunning: true });
  try {
    await engine.start();
    expect((await engine.addSession(session("good"))).ok).toBe(true);
    const bad = await engine.addSession(session("bad", target(join(sshd.dir, "host_key"))));
    expect(bad.ok ? "" : bad.error.code).toBe("E_AUTH");
    const f = await engine.addForward(local("g/x", "good"));
    if (!f.ok) throw f.error;
    const r = await exchange((f.value as TcpEndpoint).port, "ping");
    expect(r.reply.toString()).toBe("ping");
    const ended = await Promise.race([engine.ended.then(() => "ended"), new Promise((r) => setTimeout(() => r("running"), 200))]);
    expect(ended).toBe("running");
  } finally {
    engine.kill();
  }
}, 30_000);

test("removeForward of a -R asks the server to stop listening (cancel-tcpip-forward)", async () => {
  const engine = new Engine({ sessions: [], forwards: [] }, { exitOnForwardFailure: true, acquireTimeoutMs: 5_000, keepRunning: true });
  try {
    await engine.start();
    await engine.addSession(session("a"));
    const r = await engine.addForward({ kind: "remote", id: "-R x", via: "a", bind: { host: "127.0.0.1", port: 0 }, target: { host: "127.0.0.1", port: echo.port } });
    if (!r.ok) throw r.error;
    const port = (r.value as TcpEndpoint).port;
    expect((await exchange(port, "via server")).reply.toString()).toBe("via server");
    expect(engine.removeForward("-R x")).toBe(true);
    // sshd closes its listener once it has the cancel: poll, with a deadline, until it refuses.
    const deadline = Date.now() + 5_000;
    let refused = false;
    while (!refused && Date.now() < deadline) refused = await exchange(port, "x").then(() => false, () => true);
    expect(refused).toBe(true);
  } finally {
    engine.kill();
  }
}, 30_000);

test("16 MiB each way through -L arrive intact while read buffers and incoming packets are recycled (not left to the collector)", async () => {
  const { recycledReads } = await import("../../src/runtime/bun-tcp.ts");
  const { inboundReuses } = await import("../../src/runtime/packet-pool.ts");
  const { createHash, randomBytes } = await import("node:crypto");
  const engine = new Engine({ sessions: [], forwards: [] }, { exitOnForwardFailure: true, acquireTimeoutMs: 5_000, keepRunning: true });
  try {
    await engine.start();
    expect((await engine.addSession(session("bulk"))).ok).toBe(true);
    const fwd = await engine.addForward(local("bulk/x", "bulk"));
    if (!fwd.ok) throw fwd.error;
    const [reads0, reuses0] = [recycledReads(), inboundReuses()];
    const data = randomBytes(16 << 20);
    const s = net.connect((fwd.value as TcpEndpoint).port, "127.0.0.1");
    const back = createHash("sha256");
    let got = 0;
    const done = new Promise<void>((resolve, reject) => {
      s.on("data", (d: Buffer) => {
        back.update(d);
        got += d.length;
        if (got >= data.length) resolve();
      }).once("error", reject);
    });
    s.write(data);
    await done;
    s.destroy();
    expect(got).toBe(data.length);
    expect(back.digest("hex")).toBe(createHash("sha256").update(data).digest("hex"));
    // Upload: the local socket's reads, once the channel took them; download: the SSH socket's, once
    // ssh2 parsed them (tens of each for 16 MiB: Bun reads up to 512 KiB at a time).
    const reads = recycledReads();
    expect(reads.others - reads0.others).toBeGreaterThan(8);
    expect(reads.transports - reads0.transports).toBeGreaterThan(8);
    // Download: packets decrypted into pooled memory come back once the local socket has written them.
    expect(inboundReuses() - reuses0).toBeGreaterThan(100); // ~500 packets of 32 KiB
  } finally {
    engine.kill();
  }
}, 30_000);
