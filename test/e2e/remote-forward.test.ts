// -R end to end against a real sshd: bytes back through the server, a server-assigned port, a reverse
// SOCKS proxy, GatewayPorts as the server decides it, and a listen the server refuses.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import net from "node:net";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { curl } from "../harness/curl.ts";
import { runFwd, runFwdToEnd } from "../harness/fwd.ts";
import { exchange, freePort, startEcho, startHashSink, startHttp } from "../harness/net.ts";
import { startSshd, type Sshd } from "../harness/sshd.ts";

let sshd: Sshd;
let gateway: Sshd;
beforeAll(async () => {
  [sshd, gateway] = await Promise.all([startSshd(), startSshd({ config: { GatewayPorts: "clientspecified" } })]);
});
afterAll(async () => {
  await Promise.all([sshd?.stop(), gateway?.stop()]);
});

/** The local addresses something listens on for a TCP port, as `ss` reports them. */
function listeningAddresses(port: number): string[] {
  const out = spawnSync("ss", ["-Hltn", `sport = :${port}`], { encoding: "utf8" }).stdout;
  return out.split("\n").filter(Boolean).map((l) => l.trim().split(/\s+/)[3]!.replace(/:\d+$/, "")).sort();
}

describe("fwd -R", () => {
  test("16 MiB from the server's side reaches a target here intact; the server picked the port", async () => {
    const sink = await startHashSink();
    const fwd = runFwd([...sshd.clientArgs, "-R", `0:127.0.0.1:${sink.port}`, sshd.host]);
    try {
      const line = await fwd.waitFor(/^listening on the server localhost:\d+ -> 127\.0\.0\.1:\d+$/);
      const port = Number(/localhost:(\d+)/.exec(line)![1]);
      expect(port).toBeGreaterThan(0);
      const payload = randomBytes(16 * 1024 * 1024);
      const r = await exchange(port, payload);
      expect(r.reply.toString()).toBe(createHash("sha256").update(payload).digest("hex"));
    } finally {
      expect(await fwd.stop()).toBe(0);
      await sink.close();
    }
  }, 60_000);

  test("a fixed port, and a refused local target closes only that connection", async () => {
    const echo = await startEcho();
    const closed = await freePort();
    const [p1, p2] = [await freePort(), await freePort()];
    const fwd = runFwd([...sshd.clientArgs, "-R", `${p1}:127.0.0.1:${echo.port}`, "-R", `${p2}:127.0.0.1:${closed}`, sshd.host]);
    try {
      await fwd.waitFor(new RegExp(`localhost:${p2} -> `));
      expect((await exchange(p1, "back home")).reply.toString()).toBe("back home");
      expect((await exchange(p2, "nobody")).reply.length).toBe(0);
      await fwd.waitFor(new RegExp(`connect 127\\.0\\.0\\.1:${closed}: connection refused`));
      expect((await exchange(p1, "still here")).reply.toString()).toBe("still here");
    } finally {
      expect(await fwd.stop()).toBe(0);
      await echo.close();
    }
  }, 30_000);

  test("a unix socket on the server, forwarded back to a TCP service here", async () => {
    const echo = await startEcho();
    const sock = join(sshd.dir, "remote.sock");
    const fwd = runFwd([...sshd.clientArgs, "-R", `${sock}:127.0.0.1:${echo.port}`, sshd.host]);
    try {
      await fwd.waitFor(new RegExp(`^listening on the server ${sock} -> 127\\.0\\.0\\.1:${echo.port}$`));
      const got = await new Promise<string>((resolve, reject) => {
        const c = net.connect(sock, () => c.end("over a server-side socket"));
        let s = "";
        c.on("data", (d) => (s += d));
        c.on("close", () => resolve(s));
        c.on("error", reject);
      });
      expect(got).toBe("over a server-side socket");
    } finally {
      expect(await fwd.stop()).toBe(0);
      await echo.close();
    }
  }, 30_000);

  test("-R port alone is a reverse SOCKS proxy: curl on the server side reaches a web server here", async () => {
    const web = await startHttp();
    const port = await freePort();
    const fwd = runFwd([...sshd.clientArgs, "-R", String(port), sshd.host]);
    try {
      await fwd.waitFor(new RegExp(`^listening on the server localhost:${port} -> SOCKS, connecting from here$`));
      const r = await curl(["--socks5-hostname", `127.0.0.1:${port}`, `http://localhost:${web.port}/reverse`]);
      expect(r.stdout).toBe("hello /reverse via 127.0.0.1");
      expect(r.code).toBe(0);
    } finally {
      expect(await fwd.stop()).toBe(0);
      await web.close();
    }
  }, 30_000);

  test("reverse SOCKS: a client that sends its request and data, then hangs up at once, costs its own connection only", async () => {
    // Its end can arrive while the request is handled; the handshake's reader then hands its early
    // bytes back to a channel that has ended (a Readable may answer that with an error event).
    const web = await startHttp();
    const port = await freePort();
    const fwd = runFwd([...sshd.clientArgs, "-R", String(port), sshd.host]);
    try {
      await fwd.waitFor(new RegExp(`^listening on the server localhost:${port} -> SOCKS, connecting from here$`));
      const request = Buffer.from([5, 1, 0, 5, 1, 0, 1, 127, 0, 0, 1, web.port >> 8, web.port & 255]);
      for (let i = 0; i < 20; i++) {
        const s = net.connect(port, "127.0.0.1");
        s.on("error", () => {});
        s.on("data", () => {});
        await new Promise((r) => s.once("connect", r));
        s.end(Buffer.concat([request, Buffer.from("GET / HTTP/1.0\r\n\r\n")]));
        await new Promise((r) => s.once("close", r));
      }
      const r = await curl(["--socks5-hostname", `127.0.0.1:${port}`, `http://localhost:${web.port}/after`]);
      expect(r.stdout).toBe("hello /after via 127.0.0.1");
      expect(fwd.proc.exitCode).toBeNull();
    } finally {
      expect(await fwd.stop()).toBe(0);
      await web.close();
    }
  }, 30_000);

  test("PermitRemoteOpen none (-o or ssh_config): reverse SOCKS refuses every destination with 'not allowed by ruleset'", async () => {
    let hits = 0;
    const target = net.createServer((s) => (hits++, s.end("reached")));
    await new Promise<void>((r) => target.listen(0, "127.0.0.1", r));
    const targetPort = (target.address() as net.AddressInfo).port;
    const config = join(sshd.dir, "permit-none.conf");
    writeFileSync(config, "Host *\n  PermitRemoteOpen none\n");
    const [viaO, viaFile] = [await freePort(), await freePort()];
    const withFile = sshd.clientArgs.map((a) => (a === "none" ? config : a)); // -F none -> -F config
    const a = runFwd([...sshd.clientArgs, "-o", "PermitRemoteOpen=none", "-R", String(viaO), sshd.host]);
    const b = runFwd([...withFile, "-R", String(viaFile), sshd.host]);
    try {
      await a.waitFor(new RegExp(`localhost:${viaO} -> SOCKS`));
      await b.waitFor(new RegExp(`localhost:${viaFile} -> SOCKS`));
      // From the server's side (its loopback is this machine's): greeting, then CONNECT 127.0.0.1:targetPort.
      const request = Buffer.from([5, 1, 0, 5, 1, 0, 1, 127, 0, 0, 1, targetPort >> 8, targetPort & 0xff]);
      for (const port of [viaO, viaFile]) {
        const r = await exchange(port, request);
        expect([...r.reply]).toEqual([5, 0, 5, 2, 0, 1, 0, 0, 0, 0, 0, 0]); // method no-auth, then reply 2
        const c = await curl(["--socks5-hostname", `127.0.0.1:${port}`, `http://127.0.0.1:${targetPort}/`]);
        expect(c.code).toBe(97);
        expect(c.stderr).toMatch(/\(2\)|not allowed/i);
      }
      await a.waitFor(new RegExp(`127\\.0\\.0\\.1:${targetPort} is not allowed by PermitRemoteOpen none`));
      expect(hits).toBe(0);
    } finally {
      expect(await a.stop()).toBe(0);
      expect(await b.stop()).toBe(0);
      await new Promise((r) => target.close(r));
    }
  }, 30_000);

  test("PermitRemoteOpen 127.0.0.1:PORT: only that destination, named exactly so, is reached", async () => {
    const [allowed, other] = [await startHttp(), await startHttp()];
    const port = await freePort();
    const fwd = runFwd([...sshd.clientArgs, "-o", `PermitRemoteOpen=127.0.0.1:${allowed.port}`, "-R", String(port), sshd.host]);
    try {
      await fwd.waitFor(new RegExp(`localhost:${port} -> SOCKS`));
      const ok = await curl(["--socks5-hostname", `127.0.0.1:${port}`, `http://127.0.0.1:${allowed.port}/permitted`]);
      expect([ok.code, ok.stdout]).toEqual([0, "hello /permitted via 127.0.0.1"]);
      // another port on the same host, and the same port by a name ssh would not look up
      for (const url of [`http://127.0.0.1:${other.port}/`, `http://localhost:${allowed.port}/`]) {
        const no = await curl(["--socks5-hostname", `127.0.0.1:${port}`, url]);
        expect([no.code, no.stdout]).toEqual([97, ""]);
        expect(no.stderr).toMatch(/\(2\)|not allowed/i);
      }
    } finally {
      expect(await fwd.stop()).toBe(0);
      await Promise.all([allowed.close(), other.close()]);
    }
  }, 30_000);

  test("GatewayPorts: a public bind is honoured only where the server allows it", async () => {
    const echo = await startEcho();
    const [denied, allowed] = [await freePort(), await freePort()];
    const a = runFwd([...sshd.clientArgs, "-R", `0.0.0.0:${denied}:127.0.0.1:${echo.port}`, sshd.host]);
    const b = runFwd([...gateway.clientArgs, "-R", `0.0.0.0:${allowed}:127.0.0.1:${echo.port}`, gateway.host]);
    try {
      await a.waitFor(/GatewayPorts is yes or clientspecified/);
      await a.waitFor(new RegExp(`0\\.0\\.0\\.0:${denied} -> `));
      await b.waitFor(new RegExp(`0\\.0\\.0\\.0:${allowed} -> `));
      // GatewayPorts no: sshd listens on loopback only (IPv4, and IPv6 where the machine has it).
      expect(listeningAddresses(denied).length).toBeGreaterThan(0);
      expect(listeningAddresses(denied).filter((a) => a !== "127.0.0.1" && a !== "[::1]")).toEqual([]);
      expect(listeningAddresses(allowed)).toEqual(["0.0.0.0"]);
      expect((await exchange(allowed, "public")).reply.toString()).toBe("public");
    } finally {
      expect(await a.stop()).toBe(0);
      expect(await b.stop()).toBe(0);
      await echo.close();
    }
  }, 30_000);

  test("after SIGINT, the server's port takes no new connections", async () => {
    const echo = await startEcho();
    const port = await freePort();
    const fwd = runFwd([...sshd.clientArgs, "-R", `${port}:127.0.0.1:${echo.port}`, sshd.host]);
    try {
      await fwd.waitFor(/^listening on the server/);
      // One connection kept open, so fwd stays in its grace period while the second one arrives.
      const held = net.connect(port, "127.0.0.1");
      await new Promise((r) => held.once("connect", r));
      held.write("hold");
      await new Promise((r) => held.once("data", r));
      fwd.proc.kill("SIGINT");
      await fwd.waitFor(/SIGINT: no new connections/);
      const late = await exchange(port, "too late");
      expect(late.reply.toString()).toBe("");
      held.destroy();
      expect(await fwd.exited).toBe(0);
    } finally {
      await fwd.stop("SIGKILL");
      await echo.close();
    }
  }, 30_000);

  test("a port already taken on the server: refused, and fatal under ExitOnForwardFailure", async () => {
    const holder = net.createServer();
    await new Promise<void>((r) => holder.listen(0, "127.0.0.1", r));
    const port = (holder.address() as net.AddressInfo).port;
    try {
      const r = await runFwdToEnd([...sshd.clientArgs, "-o", "ExitOnForwardFailure=yes", "-R", `127.0.0.1:${port}:127.0.0.1:9`, sshd.host]);
      expect(r.code).toBe(6);
      expect(r.stderr).toContain(`listen on the server at 127.0.0.1:${port}: refused by the server`);
      expect(r.stderr).toContain("may be in use on the server");
    } finally {
      holder.close();
    }
  }, 30_000);
});
