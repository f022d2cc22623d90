// The sock_diag lookup against real loopback sockets: this process's own (IPv4, IPv6, IPv4-mapped),
// one opened by another local user (uid nobody through runuser, as root), a socket that is gone, and
// one whose process closed it (the kernel would call that uid 0, and it must not pass as root's).

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawn, type ChildProcess } from "node:child_process";
import net from "node:net";
import { socketOwner, socketOwnerSoon } from "../../src/route/socket-owner.ts";

const asRoot = process.getuid?.() === 0;

/** A server on `bind` whose accepted sockets are handed to the test in arrival order. */
async function server(bind: string) {
  const accepted: net.Socket[] = [];
  const waiters: (() => void)[] = [];
  const srv = net.createServer((s) => {
    accepted.push(s);
    waiters.splice(0).forEach((w) => w());
  });
  await new Promise<void>((r) => srv.listen(0, bind, () => r()));
  return {
    port: (srv.address() as net.AddressInfo).port,
    async next(i: number): Promise<net.Socket> {
      while (accepted.length <= i) await new Promise<void>((r) => waiters.push(r));
      return accepted[i]!;
    },
    close: () => {
      for (const s of accepted) s.destroy();
      return new Promise<void>((r) => srv.close(() => r()));
    },
  };
}

/** The owner of the client end of `s`, as the SOCKS gate asks for it: from the accepted socket's addresses. */
const ownerOfClient = (s: net.Socket) => socketOwner({ host: s.remoteAddress!, port: s.remotePort! }, { host: s.localAddress!, port: s.localPort! });

describe("socketOwner", () => {
  let srv: Awaited<ReturnType<typeof server>>;
  let dual: Awaited<ReturnType<typeof server>>;
  beforeAll(async () => {
    srv = await server("127.0.0.1");
    dual = await server("::");
  });
  afterAll(async () => {
    await Promise.all([srv.close(), dual.close()]);
  });

  const cases: [string, () => typeof srv, string, string | undefined][] = [
    ["IPv4 from 127.0.0.1", () => srv, "127.0.0.1", undefined],
    ["IPv4 from another loopback address", () => srv, "127.0.0.1", "127.0.0.7"],
    ["IPv6 ::1", () => dual, "::1", undefined],
    ["IPv4-mapped (a dual-stack listener)", () => dual, "127.0.0.1", "127.0.0.3"],
  ];
  let seen = { srv: 0, dual: 0 };
  for (const [name, which, host, localAddress] of cases)
    test(`a socket of this process: ${name} → this uid`, async () => {
      const s = which();
      const c = net.connect({ host, port: s.port, ...(localAddress ? { localAddress } : {}) });
      try {
        const peer = await s.next(s === srv ? seen.srv++ : seen.dual++);
        if (name.startsWith("IPv4-mapped")) expect(peer.remoteAddress).toBe("::ffff:127.0.0.3");
        expect(await ownerOfClient(peer)).toEqual({ ok: true, value: process.getuid!() });
      } finally {
        c.destroy();
      }
    });

  test("after the first lookup the answer comes without a promise, IPv6 and IPv4 requests alternating", async () => {
    const c4 = net.connect({ host: "127.0.0.1", port: srv.port });
    const c6 = net.connect({ host: "::1", port: dual.port });
    try {
      const p4 = await srv.next(seen.srv++);
      const p6 = await dual.next(seen.dual++);
      const ends = (p: net.Socket) => [{ host: p.remoteAddress!, port: p.remotePort! }, { host: p.localAddress!, port: p.localPort! }] as const;
      const e4 = ends(p4);
      const e6 = ends(p6);
      expect(await socketOwner(...e4)).toEqual({ ok: true, value: process.getuid!() });
      for (let k = 0; k < 10; k++)
        for (const e of [e6, e4]) {
          const r = socketOwnerSoon(...e);
          expect(r).not.toBeInstanceOf(Promise);
          expect(r).toEqual({ ok: true, value: process.getuid!() });
        }
      // An answer the kernel does not have is a failure at once too, and the next lookup still works.
      const gone = socketOwnerSoon({ host: "127.0.0.1", port: 1 }, { host: "127.0.0.1", port: srv.port });
      expect(gone).not.toBeInstanceOf(Promise);
      expect(!("then" in gone) && !gone.ok && gone.error.message).toBe("socket owner: sock_diag: no such socket (ENOENT)");
      expect(socketOwnerSoon(...e6)).toEqual({ ok: true, value: process.getuid!() });
    } finally {
      c4.destroy();
      c6.destroy();
    }
  });

  test("a socket that is not there: an error, not an owner", async () => {
    const r = await socketOwner({ host: "127.0.0.1", port: 1 }, { host: "127.0.0.1", port: srv.port });
    expect(!r.ok && r.error.message).toBe("socket owner: sock_diag: no such socket (ENOENT)");
  });

  test("no connection with those ports, but a listener on the client's: an error, not the listener's owner", async () => {
    // The kernel's exact lookup falls back to a listening socket; its owner did not make the connection.
    for (const host of ["127.0.0.1", "::ffff:127.0.0.1"]) {
      const r = await socketOwner({ host, port: srv.port }, { host, port: 1 });
      expect(!r.ok && r.error.message).toBe("socket owner: the kernel answered for another socket (the client's is gone)");
    }
  });

  test("addresses of two families: an error", async () => {
    const r = await socketOwner({ host: "::1", port: 1 }, { host: "127.0.0.1", port: 2 });
    expect(!r.ok && r.error.message).toBe("socket owner: ::1 and 127.0.0.1 are not one address family");
  });

  /** uid nobody connects to `srv` from `from` (bound to lo first, if asked) and holds the socket until its stdin closes. */
  const nobodyConnects = async (from: string, o: { bindToLo?: boolean } = {}) => {
    const py = `import socket,sys
s=socket.socket()
if ${o.bindToLo ? "True" : "False"}: s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, b"lo")
s.bind(("${from}",0)); s.connect(("127.0.0.1",${srv.port}))
print("connected",flush=True)
sys.stdin.read()`;
    const i = seen.srv++;
    const child: ChildProcess = spawn("runuser", ["-u", "nobody", "--", "python3", "-c", py], { stdio: ["pipe", "pipe", "inherit"] });
    return { child, peer: await srv.next(i) };
  };

  test.skipIf(!asRoot)("a socket opened by uid nobody → 65534; once its process closed it, no owner (not root's 0)", async () => {
    // nobody connects from 127.0.0.9 and holds the socket until its stdin closes, then exits: its
    // socket is then the kernel's alone (FIN_WAIT2, no inode), while ours is still open.
    const { child, peer } = await nobodyConnects("127.0.0.9");
    try {
      expect(peer.remoteAddress).toBe("127.0.0.9");
      // Read now: once the peer has ended, Bun's socket no longer says its addresses.
      const ends = [{ host: peer.remoteAddress!, port: peer.remotePort! }, { host: peer.localAddress!, port: peer.localPort! }] as const;
      expect(await socketOwner(...ends)).toEqual({ ok: true, value: 65534 });
      // The netlink socket is reused between lookups: alternating owners never mix up their answers.
      seen.srv++; // the connection below is one more for the server's queue
      const conn = net.connect(srv.port, "127.0.0.1");
      await new Promise<void>((r) => conn.once("connect", () => r()));
      const mine = [{ host: "127.0.0.1", port: conn.localPort! }, { host: "127.0.0.1", port: srv.port }] as const;
      const own = process.getuid!();
      for (let k = 0; k < 20; k++) {
        expect(await socketOwner(...ends)).toEqual({ ok: true, value: 65534 });
        expect(await socketOwner(...mine)).toEqual({ ok: true, value: own });
      }
      conn.destroy();
      const ended = new Promise<void>((r) => peer.once("end", () => r()));
      peer.resume();
      child.stdin!.end();
      await ended;
      const r = await socketOwner(...ends);
      expect(!r.ok && r.error.message).toBe("socket owner: the client's socket has no owner any more (closed by its process)");
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
    }
  });

  test.skipIf(!asRoot)("a socket that uid nobody bound to lo (SO_BINDTODEVICE, allowed without privilege) is still found as nobody's", async () => {
    // With interface 0 in the request the kernel skips device-bound sockets: nobody would be unfindable.
    const { child, peer } = await nobodyConnects("127.0.0.8", { bindToLo: true });
    try {
      expect(peer.remoteAddress).toBe("127.0.0.8");
      expect(await ownerOfClient(peer)).toEqual({ ok: true, value: 65534 });
    } finally {
      child.stdin!.end();
      if (child.exitCode === null) child.kill("SIGKILL");
    }
  });
});

if (!asRoot) test("a second local user needs root (runuser): skipped", () => console.log("socket-owner: the uid nobody case is skipped, not root"));
