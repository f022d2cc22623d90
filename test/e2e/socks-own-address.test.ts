// The SOCKS handshake cap against another local user who connects from one of this machine's own
// addresses rather than loopback, with a real sshd. A proxy bound beyond loopback, with an allow-list
// that takes in the machine's own network, is reached from such an address by every local user
// alike, so counted by address that address would be one more quota: uid nobody would hold its
// loopback quota and the address's, and the user connecting from the same address would be queued
// behind it. fwd looks up the owner of a client on an own address as it does on loopback. The own
// addresses here are on the root namespace's ends of veth pairs the test makes: 198.18.70.1, an
// alias with a label on the same veth (198.18.70.9), and 198.18.71.1 on a veth without carrier (its
// peer down) — the interface list either names the last two without an interface index or, under
// Bun, leaves them out, which a reviewer used to get a second quota; fwd asks the kernel's routing instead. The limits are lowered for the test
// (FWD_TEST_SOCKS_LIMITS).

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { runFwd, SOCKET_KINDS, type FwdProcess } from "../harness/fwd.ts";
import { startEcho, startSilentTarget } from "../harness/net.ts";
import { canMakeNamespaces, makeHost } from "../harness/netns.ts";
import { asNobody, type OtherUser } from "../harness/other-user.ts";
import { socks5Request, socksClient, type SocksClient } from "../harness/socks.ts";
import { startSshd, type Sshd } from "../harness/sshd.ts";

const ok = canMakeNamespaces();
const OWN = "198.18.70.1";
const ALIAS = "198.18.70.9";
const NO_CARRIER = "198.18.71.1";
const LIMITS = "handshakeMs=8000,perClient=2,total=4,queueMs=1500";
const OK5 = [5, 0, 5, 0, 0, 1, 0, 0, 0, 0, 0, 0];
const LISTENING = /^listening 198\.18\.70\.1:\d+ -> SOCKS/;
/** What socksThroughPython prints for a client that was answered and served. */
const SERVED = `reply ${JSON.stringify(OK5).replaceAll(",", ", ")}`;

/**
 * A Python client: `connect` (lines that leave a connected socket in `s`), then a SOCKS5 CONNECT to
 * the echo server and `text` through it; it prints `reply [the 12 reply bytes] <what came back>`.
 */
const socksThroughPython = (connect: string, text: string) => `import socket,struct
${connect}
s.settimeout(5)
s.sendall(bytes([5,1,0,5,1,0,1,127,0,0,1])+struct.pack(">H",${echo.port}))
def take(n):
  got=b""
  while len(got)<n:
    d=s.recv(64)
    if not d: break
    got+=d
  return got
reply=take(12)
s.sendall(b"${text}")
print("reply",list(reply),take(${text.length}).decode(),flush=True)`;
let sshd: Sshd;
let echo: Awaited<ReturnType<typeof startEcho>>;
const teardown: (() => void)[] = [];
/** The veth end in this namespace that holds `address`. */
const deviceOf = (address: string) => /^\d+:\s+(\S+)/.exec(spawnSync("ip", ["-o", "-4", "addr", "show", "to", `${address}/32`], { encoding: "utf8" }).stdout)?.[1] ?? "";
let device = "";

beforeAll(async () => {
  if (!ok) return;
  const own = makeHost(70);
  teardown.push(own.destroy);
  device = deviceOf(OWN);
  const alias = spawnSync("ip", ["addr", "add", `${ALIAS}/32`, "dev", device, "label", `${device}:1`], { encoding: "utf8" });
  if (alias.status !== 0) throw new Error(`ip addr add ${ALIAS}: ${alias.stderr}`);
  const dark = makeHost(71);
  teardown.push(dark.destroy);
  dark.host.silence(); // the peer's end down: ours is up, without carrier
  sshd = await startSshd();
  echo = await startEcho();
});
afterAll(async () => {
  try {
    await Promise.all([echo?.close(), sshd?.stop()]);
  } finally {
    for (const d of teardown) d();
  }
});

for (const [sockets, env] of SOCKET_KINDS)
  describe(sockets, () => {
    let fwd: FwdProcess;
    let attacker: OtherUser | undefined;
    beforeAll(async () => {
      if (!ok) return;
      fwd = runFwd([...sshd.clientArgs, "-vv", "-D", `${OWN}:0`, "--allow", "198.18.0.0/15", "--allow", "127.0.0.0/8", sshd.host], { env: { ...env, FWD_TEST_SOCKS_LIMITS: LIMITS } });
      await fwd.waitFor(LISTENING);
    });
    afterAll(async () => {
      await attacker?.stop();
      await fwd?.stop();
    });

    test.skipIf(!ok)(`idle connections of uid nobody from ${OWN} and 127.0.0.1 do not lock out the user's client on ${OWN}`, async () => {
      // Keyed by address, nobody's first two take its uid quota and the next two the address's:
      // every slot (total 4) is nobody's, and the user's client, from the own address too, waits
      // and is closed. Keyed by owner, nobody holds two and queues two.
      const r = await lockout(fwd, OWN, { from: OWN }, { from: OWN });
      expect(r.log).toMatch(/198\.18\.70\.1:\d+: waiting for a handshake slot/);
    }, 30_000);

    test.skipIf(!ok)(`the same from ${ALIAS}, an alias with a label, with sockets bound to its interface`, async () => {
      await lockout(fwd, OWN, { from: ALIAS, device: deviceOf(OWN) }, { from: OWN });
    }, 30_000);

    for (const from of [OWN, ALIAS])
      test.skipIf(!ok)(`a client from ${from} whose socket is bound to ${OWN}'s interface is found, not ended as gone`, async () => {
        const port = fwd.ports[0]!;
        // One handshake in progress (the user's, idle) makes the next one be looked up (perClient 2).
        const idle = socksClient(port, Buffer.alloc(0), { host: OWN });
        await new Promise<void>((r) => idle.socket.once("connect", () => r()));
        try {
          await Bun.sleep(100);
          // nobody binds its socket to the veth (SO_BINDTODEVICE, no privilege needed): with lo's
          // index alone the kernel would not find it, and fwd would end it as a client that is gone.
          attacker = await asNobody(
            socksThroughPython(
              `s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, b"${device}")
s.bind(("${from}",0)); s.connect(("${OWN}",${port}))`,
              "bound and served",
            ),
            /reply .*\n/,
          );
          expect(attacker.said()).toContain(`${SERVED} bound and served`);
        } finally {
          idle.socket.destroy();
          await attacker?.stop();
          attacker = undefined;
        }
      }, 30_000);
  });

/**
 * Waits until fwd has queued two connections (its log lines after the first `from`): nobody's last
 * two, when its four count against one quota of two. Counted apart, none waits, and this fails.
 */
async function twoQueued(fwd: FwdProcess, from: number): Promise<void> {
  const waiting = () => [...fwd.stdout, ...fwd.stderr].slice(from).filter((l) => l.includes("waiting for a handshake slot")).length;
  for (const end = Date.now() + 5_000; waiting() < 2; await Bun.sleep(20))
    if (Date.now() > end) throw new Error("nobody's last two connections were never queued: they were counted apart from its uid");
}

/**
 * nobody holds two idle connections from 127.0.0.1 and two from `attack.from` (bound to
 * `attack.device` if given) to `listen`; then the user's client from `user.from` must be answered
 * and served, never queued, with every owner found.
 */
async function lockout(fwd: FwdProcess, listen: string, attack: { from: string; device?: string }, user: { from: string }): Promise<{ log: string }> {
  const port = fwd.ports[0]!;
  const before = fwd.stdout.length + fwd.stderr.length;
  const attacker = await asNobody(
    `import socket
held=[]
for src,dev in [("127.0.0.1",""),("127.0.0.1",""),("${attack.from}","${attack.device ?? ""}"),("${attack.from}","${attack.device ?? ""}")]:
  s=socket.socket()
  if dev: s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, dev.encode())
  s.bind((src,0)); s.connect(("${listen}",${port})); held.append(s)
print("holding",flush=True)`,
    /holding\n/,
  );
  await twoQueued(fwd, before);
  const c = socksClient(port, socks5Request("127.0.0.1", echo.port), { host: listen, localAddress: user.from });
  try {
    expect(await c.reply).toEqual(OK5);
    expect(await c.echo("still served")).toBe("still served");
    const mine = c.socket.localPort!;
    const lines = [...fwd.stdout, ...fwd.stderr].slice(before);
    const queued = lines.filter((l) => /: [\d.]+:\d+: (waiting for a handshake slot|no handshake slot free)/.test(l));
    expect(queued.filter((l) => l.includes(`:${mine}: `))).toEqual([]);
    expect(queued.length).toBeGreaterThanOrEqual(2); // nobody's last two waited
    expect(lines.join("\n")).not.toContain("whose user is not found");
    return { log: lines.join("\n") };
  } finally {
    c.socket.destroy();
    await attacker.stop();
  }
}

for (const [sockets, env] of SOCKET_KINDS)
  test.skipIf(!ok)(`${sockets}: nobody on ${NO_CARRIER}, a veth without carrier, bound to it, does not lock out the user's client`, async () => {
    const fwd = runFwd([...sshd.clientArgs, "-vv", "-D", `${NO_CARRIER}:0`, "--allow", "198.18.0.0/15", "--allow", "127.0.0.0/8", sshd.host], { env: { ...env, FWD_TEST_SOCKS_LIMITS: LIMITS } });
    try {
      await fwd.waitFor(/^listening 198\.18\.71\.1:\d+ -> SOCKS/);
      await lockout(fwd, NO_CARRIER, { from: NO_CARRIER, device: deviceOf(NO_CARRIER) }, { from: "127.0.0.1" });
    } finally {
      await fwd.stop();
    }
  }, 30_000);

// A client can try to be unfindable by the time of the lookup: nobody sends a request to a target
// that never answers plus more than the reader takes (the FIN behind it stays unread), and closes.
// On loopback such a client is ended (socks-loopback-starvation.test.ts); from an own address it must
// be too, not counted by that address as a client from elsewhere would be, a quota of its own.
for (const [sockets, env] of SOCKET_KINDS)
  describe(`closed before the lookup, ${sockets}`, () => {
    let hole: Awaited<ReturnType<typeof startSilentTarget>> | undefined;
    beforeAll(async () => {
      if (ok) hole = await startSilentTarget();
    });
    afterAll(() => hole?.close());

    test.skipIf(!ok)(`sockets nobody closed on ${OWN} behind a stalled request give it no second quota`, async () => {
      const fwd = runFwd([...sshd.clientArgs, "-vv", "-D", `${OWN}:0`, "--allow", "198.18.0.0/15", sshd.host], { env: { ...env, FWD_TEST_SOCKS_LIMITS: "handshakeMs=8000,perClient=4,total=8,queueMs=1500" } });
      let attacker: OtherUser | undefined;
      const mine: SocksClient[] = [];
      try {
        await fwd.waitFor(LISTENING);
        const port = fwd.ports[0]!;
        // Three (perClient - 1: taken before any lookup) sent and closed, then five held (nobody's
        // uid quota: four get in, one waits). Counted by address, the closed three would hold three
        // of the eight slots and the user's four would not all fit.
        const req = `bytes([5,1,0,5,1,0,1,127,0,0,1])+struct.pack(">H",${hole!.port})`;
        attacker = await asNobody(
          `import socket,time,struct
held=[]
for i in range(3):
  s=socket.socket(); s.bind(("${OWN}",0)); s.connect(("${OWN}",${port}))
  s.sendall(${req} + b"\\0"*200000); s.close(); time.sleep(0.05)
time.sleep(0.5)
for i in range(5):
  s=socket.socket(); s.bind(("${OWN}",0)); s.connect(("${OWN}",${port})); s.sendall(${req}); held.append(s)
time.sleep(0.5)
print("holding",flush=True)`,
          /holding\n/,
        );
        for (let i = 0; i < 4; i++) mine.push(socksClient(port, socks5Request("127.0.0.1", hole!.port), { host: OWN, localAddress: OWN }));
        await Promise.all(mine.map((c) => new Promise<void>((r) => (c.socket.localPort ? r() : c.socket.once("connect", () => r())))));
        await Bun.sleep(2_500); // past the queue's 1.5 s: a queued one would have been closed by now
        const ports = mine.map((c) => c.socket.localPort!);
        const log = [...fwd.stdout, ...fwd.stderr];
        expect(log.filter((l) => ports.some((p) => l.includes(`${OWN}:${p}: `) && /waiting for a handshake slot|no handshake slot free/.test(l)))).toEqual([]);
        // The attack ran as described: nobody's fifth waited.
        expect(log.filter((l) => /waiting for a handshake slot/.test(l)).length).toBeGreaterThanOrEqual(1);
        expect(mine.map((c) => c.socket.destroyed)).toEqual([false, false, false, false]);
      } finally {
        for (const c of mine) c.socket.destroy();
        await attacker?.stop();
        await fwd.stop();
      }
    }, 40_000);
  });

// IPv6. With forwarding on an interface (a router, a Docker host with IPv6) the kernel adds a
// subnet-router anycast address for each of its prefixes (fd00:…::), delivered here like the
// interface's own, which any user may bind with IPV6_FREEBIND: a reviewer took a second quota from
// it while fwd counted only RTN_LOCAL routes as local. And one link-local address can be on several
// interfaces (VLANs of one NIC, a bridge and its port): the route names one, a client connected with
// the other's scope is bound to that one, and was ended as gone.
describe("IPv6", () => {
  const OWN6 = "fd00:198:18:76::1";
  const ANYCAST = "fd00:198:18:76::";
  const LINK_LOCAL = "fe80::5";
  const made: (() => void)[] = [];
  const devices: string[] = [];
  beforeAll(() => {
    if (!ok) return;
    for (const n of [76, 77]) {
      const h = makeHost(n);
      made.push(h.destroy);
      devices.push(deviceOf(`198.18.${n}.1`));
    }
    const ip6 = (...args: string[]) => {
      const r = spawnSync("ip", ["-6", ...args], { encoding: "utf8" });
      if (r.status !== 0) throw new Error(`ip -6 ${args.join(" ")}: ${r.stderr}`);
    };
    ip6("addr", "add", `${OWN6}/64`, "dev", devices[0]!, "nodad");
    for (const d of devices) ip6("addr", "add", `${LINK_LOCAL}/64`, "dev", d, "nodad");
    // Forwarding on this veth only (the setting goes with the link when the test removes it).
    const fwd6 = spawnSync("sysctl", ["-qw", `net.ipv6.conf.${devices[0]}.forwarding=1`], { encoding: "utf8" });
    if (fwd6.status !== 0) throw new Error(`sysctl: ${fwd6.stderr}`);
  });
  afterAll(() => {
    for (const d of made) d();
  });

  for (const [sockets, env] of SOCKET_KINDS) {
    test.skipIf(!ok)(`${sockets}: nobody from the subnet-router anycast address ${ANYCAST} does not lock out the user's client`, async () => {
      const fwd = runFwd([...sshd.clientArgs, "-vv", "-D", `[${OWN6}]:0`, "--allow", "fd00:198:18:76::/64", sshd.host], { env: { ...env, FWD_TEST_SOCKS_LIMITS: LIMITS } });
      try {
        await fwd.waitFor(/^listening \[fd00:198:18:76::1\]:\d+ -> SOCKS/);
        const port = fwd.ports[0]!;
        const attacker = await asNobody(
          `import socket
held=[]
for src in ["${OWN6}","${OWN6}","${ANYCAST}","${ANYCAST}"]:
  s=socket.socket(socket.AF_INET6); s.setsockopt(socket.IPPROTO_IPV6, 78, 1)  # IPV6_FREEBIND
  s.bind((src,0)); s.connect(("${OWN6}",${port})); held.append(s)
print("holding",flush=True)`,
          /holding\n/,
        );
        try {
          await twoQueued(fwd, 0);
          const c = socksClient(port, socks5Request("127.0.0.1", echo.port), { host: OWN6, localAddress: OWN6 });
          try {
            expect(await c.reply).toEqual(OK5);
            const waited = [...fwd.stdout, ...fwd.stderr].filter((l) => l.includes("waiting for a handshake slot"));
            expect(waited.length).toBe(2);
            expect(waited.every((l) => l.includes(`${ANYCAST}:`))).toBe(true); // nobody's, from the anycast address
          } finally {
            c.socket.destroy();
          }
        } finally {
          await attacker.stop();
        }
      } finally {
        await fwd.stop();
      }
    }, 30_000);

    test.skipIf(!ok)(`${sockets}: the user's link-local clients are served on both interfaces that hold ${LINK_LOCAL}`, async () => {
      const fwd = runFwd([...sshd.clientArgs, "-vv", "-D", "[::]:0", "--allow", "fe80::/10", "--allow", "127.0.0.0/8", sshd.host], { env: { ...env, FWD_TEST_SOCKS_LIMITS: LIMITS } });
      try {
        await fwd.waitFor(/^listening \[::\]:\d+ -> SOCKS/);
        const port = fwd.ports[0]!;
        // One handshake in progress, so that the next one's owner is looked up (perClient 2).
        const idle = socksClient(port, Buffer.alloc(0));
        await new Promise<void>((r) => idle.socket.once("connect", () => r()));
        try {
          await Bun.sleep(100);
          for (const device of devices) {
            const py = socksThroughPython(`s=socket.socket(socket.AF_INET6); s.connect(("${LINK_LOCAL}",${port},0,socket.if_nametoindex("${device}")))`, "scoped");
            // Not spawnSync: the echo server answers from this process's event loop.
            const child = Bun.spawn(["python3", "-c", py], { stdout: "pipe", stderr: "inherit" });
            const timer = setTimeout(() => child.kill(), 10_000);
            const out = await new Response(child.stdout).text();
            clearTimeout(timer);
            expect([device, out.trim()]).toEqual([device, `${SERVED} scoped`]);
          }
        } finally {
          idle.socket.destroy();
        }
      } finally {
        await fwd.stop();
      }
    }, 30_000);
  }
});

// A peer on another machine may use a link-local address this machine also has, on another
// interface (fe80::1: a router's, Docker's bridge's). Asked without its scope, the kernel calls that
// address local, and the peer was taken for a local user, not found, and ended as gone — once any
// other handshake was in progress, which anyone can arrange.
describe("IPv6, a remote link-local peer", () => {
  const made: (() => void)[] = [];
  let peerNs = "";
  let peerDevice = "";
  beforeAll(() => {
    if (!ok) return;
    const link = makeHost(78); // the peer's link, the peer in its namespace
    const other = makeHost(79); // another interface of this machine
    made.push(link.destroy, other.destroy);
    peerNs = link.host.ns;
    peerDevice = /^\d+:\s+([^@:]+)/.exec(spawnSync("ip", ["-n", peerNs, "-o", "link", "show", "type", "veth"], { encoding: "utf8" }).stdout)?.[1] ?? "";
    const ip = (...args: string[]) => {
      const r = spawnSync("ip", args, { encoding: "utf8" });
      if (r.status !== 0) throw new Error(`ip ${args.join(" ")}: ${r.stderr}`);
    };
    ip("-6", "addr", "add", "fe80::a/64", "dev", deviceOf("198.18.78.1"), "nodad"); // ours, on the peer's link
    ip("-6", "addr", "add", "fe80::1/64", "dev", deviceOf("198.18.79.1"), "nodad"); // ours, on the other one
    ip("-n", peerNs, "-6", "addr", "add", "fe80::1/64", "dev", peerDevice, "nodad"); // the peer's
  });
  afterAll(() => {
    for (const d of made) d();
  });

  for (const [sockets, env] of SOCKET_KINDS)
    test.skipIf(!ok)(`${sockets}: a peer from fe80::1 is served while handshakes are in progress`, async () => {
      const fwd = runFwd([...sshd.clientArgs, "-vv", "-D", "[::]:0", "--allow", "fe80::/10", "--allow", "127.0.0.0/8", sshd.host], { env: { ...env, FWD_TEST_SOCKS_LIMITS: LIMITS } });
      try {
        await fwd.waitFor(/^listening \[::\]:\d+ -> SOCKS/);
        const port = fwd.ports[0]!;
        const idle = socksClient(port, Buffer.alloc(0)); // in progress: the peer's owner will be asked
        await new Promise<void>((r) => idle.socket.once("connect", () => r()));
        try {
          await Bun.sleep(100);
          const py = socksThroughPython(`s=socket.socket(socket.AF_INET6); i=socket.if_nametoindex("${peerDevice}")
s.bind(("fe80::1",0,0,i)); s.connect(("fe80::a",${port},0,i))`, "from the peer");
          const child = Bun.spawn(["ip", "netns", "exec", peerNs, "python3", "-c", py], { stdout: "pipe", stderr: "inherit" });
          const timer = setTimeout(() => child.kill(), 10_000);
          const out = await new Response(child.stdout).text();
          clearTimeout(timer);
          expect(out.trim()).toBe(`${SERVED} from the peer`);
        } finally {
          idle.socket.destroy();
        }
      } finally {
        await fwd.stop();
      }
    }, 30_000);
});

if (!ok) test("own-address SOCKS quotas need root and network namespaces: skipped", () => console.log("socks-own-address: skipped, no namespaces"));
