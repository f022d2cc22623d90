// -D end to end: real curl through fwd's SOCKS port and a real sshd, every SOCKS flavour, auth,
// reply codes, allow-lists, PAC, and a storm of broken handshakes that must cost nothing.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { readdirSync, writeFileSync } from "node:fs";
import net from "node:net";
import { join } from "node:path";
import { curl } from "../harness/curl.ts";
import { runFwd, runFwdToEnd, type FwdProcess } from "../harness/fwd.ts";
import { freePort, startEcho, startHttp } from "../harness/net.ts";
import { socks4aRequest, socks5Request, socksClient } from "../harness/socks.ts";
import { startSshd, type Sshd } from "../harness/sshd.ts";

let sshd: Sshd;
let web4: Awaited<ReturnType<typeof startHttp>>;
let web6: Awaited<ReturnType<typeof startHttp>>;
let fwd: FwdProcess;
let socks: number;
beforeAll(async () => {
  sshd = await startSshd();
  web4 = await startHttp("127.0.0.1");
  web6 = await startHttp("::1");
  fwd = runFwd([...sshd.clientArgs, "-D", "0", sshd.host]);
  await fwd.waitFor(/^listening 127\.0\.0\.1:\d+ -> SOCKS, connecting from the server$/);
  socks = fwd.ports[0]!;
});
afterAll(async () => {
  await fwd?.stop();
  await Promise.all([web4?.close(), web6?.close(), sshd?.stop()]);
});

describe("fwd -D with curl", () => {
  test.each([
    ["--socks5-hostname", "localhost"],
    ["--socks5", "127.0.0.1"],
    ["--socks4", "127.0.0.1"],
    ["--socks4a", "localhost"],
  ])("%s to %s", async (flag, host) => {
    const r = await curl([flag, `127.0.0.1:${socks}`, `http://${host}:${web4.port}/x`]);
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe("hello /x via 127.0.0.1");
  });

  test("--socks5 to an IPv6 literal", async () => {
    const r = await curl(["--socks5", `127.0.0.1:${socks}`, `http://[::1]:${web6.port}/six`]);
    expect(r.stdout).toBe("hello /six via ::1");
  });

  test("a refused destination gives curl the real cause (SOCKS5 reply 5)", async () => {
    const closed = await freePort();
    const r = await curl(["--socks5-hostname", `127.0.0.1:${socks}`, `http://127.0.0.1:${closed}/`]);
    expect(r.code).toBe(97); // CURLE_PROXY
    expect(r.stderr).toContain("(5)"); // curl 7.88 prints the reply code: 5 = connection refused
    await fwd.waitFor(new RegExp(`open 127\\.0\\.0\\.1:${closed}: connection refused by the target`));
  });

  test("BIND and UDP ASSOCIATE are refused with 'command not supported' (7)", async () => {
    for (const cmd of [0x02, 0x03]) {
      const reply = await rawSocks(socks, Buffer.from([0x05, 0x01, 0x00]), Buffer.from([0x05, cmd, 0x00, 0x01, 127, 0, 0, 1, 0, 80]));
      expect([...reply]).toEqual([0x05, 0x00, 0x05, 0x07, 0x00, 0x01, 0, 0, 0, 0, 0, 0]);
    }
  });

  test("10,000 random and truncated handshakes: no effect on a normal request, no leaked descriptors", async () => {
    const fds = () => readdirSync(`/proc/${fwd.proc.pid}/fd`).length;
    await curl(["--socks5-hostname", `127.0.0.1:${socks}`, `http://localhost:${web4.port}/warm`]);
    const before = fds();
    const valid = [Buffer.from([0x05, 0x01, 0x00, 0x05, 0x01, 0x00, 0x03, 0x09]), Buffer.from([0x04, 0x01, 0x00, 0x50, 0, 0, 0, 1, 0x41])];
    let sent = 0;
    for (let batch = 0; batch < 100; batch++) {
      await Promise.all(
        Array.from({ length: 100 }, (_, i) => {
          const n = batch * 100 + i;
          const junk = n % 3 === 0 ? randomBytes(1 + (n % 40)) : valid[n % 2]!.subarray(0, 1 + (n % valid[n % 2]!.length));
          return throwBytes(socks, junk).then(() => sent++);
        }),
      );
    }
    expect(sent).toBe(10_000);
    const r = await curl(["--socks5-hostname", `127.0.0.1:${socks}`, `http://localhost:${web4.port}/after`]);
    expect(r.stdout).toBe("hello /after via 127.0.0.1");
    // Truncated handshakes wait for their deadline; the descriptors must come back after it at most.
    const deadline = Date.now() + 15_000;
    while (fds() > before + 5 && Date.now() < deadline) await new Promise((res) => setTimeout(res, 250));
    expect(fds()).toBeLessThanOrEqual(before + 5);
  }, 60_000);
});

describe("target names no host can have", () => {
  test("a SOCKS5 name with a NUL byte gets 'host unreachable' (4), and the session and its other connections live on", async () => {
    const echo = await startEcho();
    try {
      const healthy = socksClient(socks, socks5Request("127.0.0.1", echo.port));
      expect(await healthy.reply).toEqual([5, 0, 5, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
      expect(await healthy.echo("before")).toBe("before");
      // sshd answers a direct-tcpip name with a NUL by dropping the whole connection ("parse packet: invalid format").
      const nul = socksClient(socks, socks5Request(Buffer.from("evil\0.example", "latin1"), 80));
      expect(await nul.reply).toEqual([5, 0, 5, 4, 0, 1, 0, 0, 0, 0, 0, 0]);
      await nul.closed;
      const ctl = socksClient(socks, socks4aRequest("bad\x01name", 80));
      expect(await ctl.reply).toEqual([0, 0x5b, 0, 0, 0, 0, 0, 0]);
      await ctl.closed;
      expect(await healthy.echo("after")).toBe("after");
      await fwd.waitFor(/-D 0: refused target: "evil\\x00\.example" is not a host name/);
      const log = [...fwd.stdout, ...fwd.stderr].join("\n");
      expect(log).not.toContain("session lost");
      expect(log).not.toContain("reconnecting");
      healthy.socket.destroy();
    } finally {
      await echo.close();
    }
  });

  test.each([
    ["-L", "0:bad%name:80", `-L '0:bad%name:80': target host: "bad%name" is not a host name or IP address`],
    ["-R", "0:a..b:80", `-R '0:a..b:80': target host: "a..b" has an empty label`],
    ["-W", "bad\x1bname:22", `-W 'bad\x1bname:22': target host: "bad\\x1bname" is not a host name or IP address`],
    ["-W", `${"x".repeat(254)}:22`, `-W '${"x".repeat(254)}:22': target host: a host name has at most 253 characters, this one 254`],
  ])("%s %p is a usage error naming the flag (exit 2), before any connection", async (flag, spec, message) => {
    const r = await runFwdToEnd([...sshd.clientArgs, flag, spec, sshd.host]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
    expect(r.stderr).not.toContain("connecting");
  });
});

describe("SOCKS authentication, allow-lists and PAC", () => {
  test("username/password: right is let through, wrong is refused", async () => {
    const pw = join(sshd.dir, "socks-password");
    writeFileSync(pw, "s3cret\n", { mode: 0o600 });
    const p = runFwd([...sshd.clientArgs, "-D", "0", "--socks-user", "alice", "--socks-password-file", pw, sshd.host]);
    try {
      await p.waitFor(/^listening /);
      const port = p.ports[0]!;
      const right = await curl(["--proxy", `socks5h://alice:s3cret@127.0.0.1:${port}`, `http://localhost:${web4.port}/auth`]);
      expect(right.stdout).toBe("hello /auth via 127.0.0.1");
      const wrong = await curl(["--proxy", `socks5h://alice:nope@127.0.0.1:${port}`, `http://localhost:${web4.port}/auth`]);
      expect(wrong.code).toBe(97);
      expect(wrong.stderr).toContain("User was rejected by the SOCKS5 server");
      const none = await curl(["--socks5-hostname", `127.0.0.1:${port}`, `http://localhost:${web4.port}/auth`]);
      expect(none.code).toBe(97);
      const v4 = await curl(["--socks4a", `127.0.0.1:${port}`, `http://localhost:${web4.port}/auth`]);
      expect(v4.code).toBe(97);
    } finally {
      expect(await p.stop()).toBe(0);
    }
    expect([...p.stdout, ...p.stderr].join("\n")).not.toContain("s3cret");
  });

  test("a non-loopback bind with neither allow-list nor password is refused at start", async () => {
    const r = await runFwdToEnd([...sshd.clientArgs, "-D", "0.0.0.0:0", sshd.host]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("refusing to start an open SOCKS proxy");
    expect(r.stderr).toContain("--allow");
  });

  test("--allow: clients outside the list are cut before any SOCKS byte; inside, they are served", async () => {
    const outside = runFwd([...sshd.clientArgs, "-D", "0.0.0.0:0", "--allow", "192.0.2.0/24", sshd.host]);
    const inside = runFwd([...sshd.clientArgs, "-D", "0.0.0.0:0", "--allow", "127.0.0.0/8", sshd.host]);
    try {
      await outside.waitFor(/^listening 0\.0\.0\.0:/);
      await inside.waitFor(/^listening 0\.0\.0\.0:/);
      const denied = await curl(["--socks5-hostname", `127.0.0.1:${outside.ports[0]}`, `http://localhost:${web4.port}/`]);
      expect(denied.code).not.toBe(0);
      await outside.waitFor(/127\.0\.0\.1 is not in the allow-list/);
      const allowed = await curl(["--socks5-hostname", `127.0.0.1:${inside.ports[0]}`, `http://localhost:${web4.port}/lan`]);
      expect(allowed.stdout).toBe("hello /lan via 127.0.0.1");
    } finally {
      expect(await outside.stop()).toBe(0);
      expect(await inside.stop()).toBe(0);
    }
  });

  test("--pac serves a PAC file on the SOCKS port; --pac-domain limits it to the intranet", async () => {
    const p = runFwd([...sshd.clientArgs, "-D", "0", "--pac", "--pac-domain", "*.intranet", sshd.host]);
    try {
      const line = await p.waitFor(/^pac http:\/\/127\.0\.0\.1:\d+\/proxy\.pac$/);
      const r = await curl([line.slice(4)]);
      const port = p.ports[0]!;
      expect(r.stdout).toContain(`shExpMatch(host, "*.intranet")`);
      expect(r.stdout).toContain(`return "SOCKS5 127.0.0.1:${port}; SOCKS 127.0.0.1:${port}";`);
      expect(r.stdout).toContain(`return "DIRECT";`);
      // A page on a name rebound to 127.0.0.1 must not read the intranet's domain list.
      const rebound = await curl(["-o", "/dev/null", "-w", "%{http_code} %{size_download}", "-H", "Host: evil.example", line.slice(4)]);
      expect(rebound.stdout).toBe("403 0");
      const named = await curl(["-o", "/dev/null", "-w", "%{http_code}", "-H", `Host: localhost:${port}`, line.slice(4)]);
      expect(named.stdout).toBe("200");
      // The same port still speaks SOCKS.
      expect((await curl(["--socks5-hostname", `127.0.0.1:${port}`, `http://localhost:${web4.port}/same`])).stdout).toBe("hello /same via 127.0.0.1");
    } finally {
      expect(await p.stop()).toBe(0);
    }
  });
});

/** Sends a greeting, reads its reply, sends a request, and returns everything received until close. */
function rawSocks(port: number, greeting: Buffer, request: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, "127.0.0.1", () => s.write(greeting));
    const got: Buffer[] = [];
    let sentRequest = false;
    s.on("data", (d) => {
      got.push(d);
      if (!sentRequest) {
        sentRequest = true;
        s.write(request);
      }
    });
    s.on("error", reject);
    s.on("close", () => resolve(Buffer.concat(got)));
  });
}

/** Connects, writes `bytes`, and hangs up at once. */
function throwBytes(port: number, bytes: Buffer): Promise<void> {
  return new Promise((resolve) => {
    const s = net.connect(port, "127.0.0.1", () => s.end(bytes));
    s.on("error", () => resolve());
    s.on("close", () => resolve());
    s.resume();
  });
}
