// The SOCKS handshake cap against another local user, with a real sshd. On loopback every address of
// 127.0.0.0/8 is this machine's and every local user connects from 127.0.0.1, so a quota per address
// separates nobody: uid nobody, connecting from 127.0.0.1, 127.0.0.2, … 127.0.0.9, would be nine
// "clients" and take every slot and the whole queue with idle connections, and the user who started
// fwd, from 127.0.0.1, would be closed at once. fwd keys loopback clients by the uid that owns the
// client's socket (sock_diag), so nobody is one client, held to its own quota, whatever its addresses.
// Both kinds of accepted socket are checked: Bun's own (src/runtime/bun-tcp.ts) and node:net
// (FWD_NODE_NET=1). The limits are lowered for the test (FWD_TEST_SOCKS_LIMITS).

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { runFwd, SOCKET_KINDS, type FwdProcess } from "../harness/fwd.ts";
import { startEcho, startSilentTarget } from "../harness/net.ts";
import { asNobody, type OtherUser } from "../harness/other-user.ts";
import { socks5Request, socksClient, type SocksClient } from "../harness/socks.ts";
import { startSshd, type Sshd } from "../harness/sshd.ts";

const asRoot = process.getuid?.() === 0;
const LIMITS = "handshakeMs=8000,perClient=2,total=4,queueMs=1500";
const OK5 = [5, 0, 5, 0, 0, 1, 0, 0, 0, 0, 0, 0];
let sshd: Sshd;
let echo: Awaited<ReturnType<typeof startEcho>>;

beforeAll(async () => {
  if (!asRoot) return;
  sshd = await startSshd();
  echo = await startEcho();
});
afterAll(async () => {
  await Promise.all([echo?.close(), sshd?.stop()]);
});

async function until(what: string, cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

for (const [sockets, env] of SOCKET_KINDS)
  describe(sockets, () => {
    let fwd: FwdProcess;
    let attacker: OtherUser | undefined;
    beforeAll(async () => {
      if (!asRoot) return;
      fwd = runFwd([...sshd.clientArgs, "-vv", "-D", "0", sshd.host], { env: { ...env, FWD_TEST_SOCKS_LIMITS: LIMITS } });
      await fwd.waitFor(/^listening 127\.0\.0\.1:\d+ -> SOCKS/);
    });
    afterAll(async () => {
      await attacker?.stop();
      await fwd?.stop();
    });

    test.skipIf(!asRoot)("idle connections of uid nobody from 127.0.0.1–9 do not lock out the user's client on 127.0.0.1", async () => {
      const port = fwd.ports[0]!;
      // Two idle connections from each of nine loopback addresses, 127.0.0.1 (the user's own) among
      // them. Keyed by address, four would hold the slots, four fill the queue (both bounded by
      // `total`) and ten be closed; keyed by owner, nobody holds two, queues two, and 14 are closed.
      // They send nothing and wait.
      attacker = await asNobody(
        `import socket
held=[]
for i in range(1,10):
  for _ in range(2):
    s=socket.socket(); s.bind(("127.0.0.%d"%i,0)); s.connect(("127.0.0.1",${port})); held.append(s)
print("holding",flush=True)`,
        /holding\n/,
      );
      // Every one of them seen by fwd before the user comes: at least 14 queued or closed either way.
      const refused = (except?: number) =>
        [...fwd.stdout, ...fwd.stderr].filter((l) => {
          const m = /: 127\.0\.0\.\d:(\d+): (waiting for a handshake slot|no handshake slot free)/.exec(l);
          return m && Number(m[1]) !== except;
        });
      await until("fwd to take in nobody's 18 connections", () => refused().length >= 14);

      const c = socksClient(port, socks5Request("127.0.0.1", echo.port));
      try {
        expect(await c.reply).toEqual(OK5);
        expect(await c.echo("still served")).toBe("still served");
        // nobody is one client: two of its 18 wait in the queue, 14 were closed, two hold slots.
        const mine = c.socket.localPort!;
        await until("fwd to close 14 of nobody's connections", () => refused(mine).length >= 16);
        const lines = refused(mine);
        expect(lines.filter((l) => l.includes("waiting for a handshake slot")).length).toBe(2);
        expect(lines.filter((l) => l.includes("no handshake slot free")).length).toBe(14);
        // The user's own client was never queued, and the owner was known every time.
        expect(refused().length).toBe(16);
        expect([...fwd.stdout, ...fwd.stderr].join("\n")).not.toContain("whose user is not found");
      } finally {
        c.socket.destroy();
        await attacker.stop();
      }
    }, 30_000);
  });

// The owner is looked up only once enough handshakes are in progress (src/engine/handshake-gate.ts),
// so a client can try to be unfindable by then: nobody sends a request to a target that never
// answers plus more than the reader takes (it stops at 64 KiB, so the FIN behind it stays unread),
// and closes. Counted by address, those would be a quota of their own on top of nobody's uid; fwd
// ends them instead, and the user's handshakes (also to the silent target) all get in at once.
for (const [sockets, env] of SOCKET_KINDS)
  describe(`closed before the lookup, ${sockets}`, () => {
    let hole: Awaited<ReturnType<typeof startSilentTarget>> | undefined;
    let holePort = 0;
    beforeAll(async () => {
      if (!asRoot) return;
      hole = await startSilentTarget();
      holePort = hole.port;
    });
    afterAll(() => hole?.close());

    test.skipIf(!asRoot)("sockets nobody closed behind a stalled request give it no second quota", async () => {
      const fwd = runFwd([...sshd.clientArgs, "-vv", "-D", "0", sshd.host], { env: { ...env, FWD_TEST_SOCKS_LIMITS: "handshakeMs=8000,perClient=4,total=8,queueMs=1500" } });
      let attacker: OtherUser | undefined;
      const mine: SocksClient[] = [];
      try {
        await fwd.waitFor(/^listening 127\.0\.0\.1:\d+ -> SOCKS/);
        const port = fwd.ports[0]!;
        // Three (perClient - 1: taken before any lookup) sent and closed from 127.0.0.2, then five
        // held from 127.0.0.3 (nobody's uid quota: four get in, one waits).
        attacker = await asNobody(
          `import socket,time,struct
held=[]
req=bytes([5,1,0,5,1,0,1,127,0,0,1])+struct.pack(">H",${holePort})
for i in range(3):
  s=socket.socket(); s.bind(("127.0.0.2",0)); s.connect(("127.0.0.1",${port}))
  s.sendall(req + b"\\0"*200000); s.close(); time.sleep(0.05)
time.sleep(0.5)
for i in range(5):
  s=socket.socket(); s.bind(("127.0.0.3",0)); s.connect(("127.0.0.1",${port})); s.sendall(req); held.append(s)
time.sleep(0.5)
print("holding",flush=True)`,
          /holding\n/,
        );
        // The user's own four: its quota, and room in the total once the closed three are ended.
        for (let i = 0; i < 4; i++) mine.push(socksClient(port, socks5Request("127.0.0.1", holePort)));
        await Promise.all(mine.map((c) => new Promise<void>((r) => (c.socket.localPort ? r() : c.socket.once("connect", () => r())))));
        await Bun.sleep(2_500); // past the queue's 1.5 s: a queued one would have been closed by now
        const ports = mine.map((c) => c.socket.localPort!);
        const log = [...fwd.stdout, ...fwd.stderr];
        const held = log.filter((l) => ports.some((p) => new RegExp(`127\\.0\\.0\\.1:${p}: (waiting for a handshake slot|no handshake slot free)`).test(l)));
        expect(held).toEqual([]);
        // The attack ran as described: nobody's fifth waited, and no lookup fell back (each closed one was ended).
        expect(log.filter((l) => /127\.0\.0\.3:\d+: waiting for a handshake slot/.test(l)).length).toBeGreaterThanOrEqual(1);
        expect(mine.map((c) => c.socket.destroyed)).toEqual([false, false, false, false]); // none closed by fwd
      } finally {
        for (const c of mine) c.socket.destroy();
        await attacker?.stop();
        await fwd.stop();
      }
    }, 40_000);

    test.skipIf(!asRoot)("sockets nobody closed while they waited for a slot do not take the slots the user frees", async () => {
      const fwd = runFwd([...sshd.clientArgs, "-vv", "-D", "0", sshd.host], { env: { ...env, FWD_TEST_SOCKS_LIMITS: "handshakeMs=8000,perClient=4,total=8,queueMs=1500" } });
      let attacker: OtherUser | undefined;
      const mine: SocksClient[] = [];
      const opened = (c: SocksClient) => new Promise<void>((r) => (c.socket.localPort ? r() : c.socket.once("connect", () => r())));
      try {
        await fwd.waitFor(/^listening 127\.0\.0\.1:\d+ -> SOCKS/);
        const port = fwd.ports[0]!;
        // The user's four in progress (to the silent target), then nobody's four: the total is full.
        const first = Array.from({ length: 4 }, () => socksClient(port, socks5Request("127.0.0.1", holePort)));
        await Promise.all(first.map(opened));
        await Bun.sleep(200);
        // Four more from nobody, each sent and closed: they wait, are looked up, found gone.
        attacker = await asNobody(
          `import socket,time,struct
held=[]
req=bytes([5,1,0,5,1,0,1,127,0,0,1])+struct.pack(">H",${holePort})
for i in range(4):
  s=socket.socket(); s.bind(("127.0.0.3",0)); s.connect(("127.0.0.1",${port})); s.sendall(req); held.append(s)
time.sleep(0.3)
for i in range(4):
  s=socket.socket(); s.bind(("127.0.0.2",0)); s.connect(("127.0.0.1",${port})); s.sendall(req); s.close(); time.sleep(0.02)
time.sleep(0.2)
print("holding",flush=True)`,
          /holding\n/,
        );
        // The user gives up its four and opens four new ones: the freed slots are theirs, not the dead sockets'.
        for (const c of first) c.socket.destroy();
        await Bun.sleep(100);
        for (let i = 0; i < 4; i++) mine.push(socksClient(port, socks5Request("127.0.0.1", holePort)));
        await Promise.all(mine.map(opened));
        await Bun.sleep(2_500); // past the queue's 1.5 s
        const ports = mine.map((c) => c.socket.localPort!);
        const held = [...fwd.stdout, ...fwd.stderr].filter((l) => ports.some((p) => new RegExp(`127\\.0\\.0\\.1:${p}: (waiting for a handshake slot|no handshake slot free)`).test(l)));
        expect(held).toEqual([]);
        expect(mine.map((c) => c.socket.destroyed)).toEqual([false, false, false, false]);
      } finally {
        for (const c of mine) c.socket.destroy();
        await attacker?.stop();
        await fwd.stop();
      }
    }, 40_000);
  });

if (!asRoot) test("a second local user needs root (runuser): skipped", () => console.log("socks-loopback-starvation: skipped, not root"));
