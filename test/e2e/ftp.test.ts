// FTP through secure-legacy against what attacks it: another local user racing for a passive data
// port (a real vsftpd behind a real sshd; the thief runs as `nobody`), and a hostile FTP server
// (a small fake one behind the same real sshd) flooding fwd with an endless line or with unsolicited
// passive replies, or while fwd is asked to stop.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawn, type ChildProcess } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runFwd, type FwdProcess } from "../harness/fwd.ts";
import { freePort, waitForPort } from "../harness/net.ts";
import { startSshd, type Sshd } from "../harness/sshd.ts";

const asRoot = process.getuid?.() === 0;
let sshd: Sshd;
let dir: string;
let vsftpd: ChildProcess;
let ftpPort: number;
const file = randomBytes(1 << 20);
const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");

beforeAll(async () => {
  if (!asRoot) return;
  sshd = await startSshd();
  dir = mkdtempSync(join(tmpdir(), "fwd-ftp-"));
  chmodSync(dir, 0o755);
  mkdirSync(join(dir, "ftp"));
  mkdirSync(join(dir, "empty"));
  writeFileSync(join(dir, "ftp", "data.bin"), file);
  ftpPort = await freePort();
  writeFileSync(
    join(dir, "vsftpd.conf"),
    [
      "listen=YES", "listen_address=127.0.0.1", `listen_port=${ftpPort}`, "anonymous_enable=YES", `anon_root=${join(dir, "ftp")}`,
      "no_anon_password=YES", "local_enable=NO", "write_enable=NO", "pasv_enable=YES", "seccomp_sandbox=NO", "background=NO",
      `secure_chroot_dir=${join(dir, "empty")}`, "xferlog_enable=NO", "",
    ].join("\n"),
  );
  vsftpd = spawn("vsftpd", [join(dir, "vsftpd.conf")], { stdio: "ignore" });
  await waitForPort("127.0.0.1", ftpPort, 10_000);
}, 30_000);

afterAll(async () => {
  if (vsftpd && vsftpd.exitCode === null) {
    const gone = new Promise((r) => vsftpd.once("exit", r));
    vsftpd.kill("SIGKILL");
    await gone;
  }
  await sshd?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const secureLegacy = (target: string): FwdProcess =>
  runFwd(["run", "secure-legacy", "--bastion", `${sshd.user}@127.0.0.1:${sshd.port}`, "--protocol", "ftp", "--target", target, "--listen", "127.0.0.1:0", "--identity", sshd.clientKey, "-F", "none", "-o", `UserKnownHostsFile=${sshd.knownHosts}`, "-o", "StrictHostKeyChecking=yes"]);

/** A control connection read reply by reply, each with a deadline. */
async function control(port: number) {
  const s = net.connect(port, "127.0.0.1");
  s.on("error", () => {});
  let buf = "";
  let closed = false;
  const waiters = new Set<() => void>();
  s.on("data", (d: Buffer) => ((buf += d.toString("latin1")), waiters.forEach((w) => w())));
  s.on("close", () => ((closed = true), waiters.forEach((w) => w())));
  await new Promise((r, j) => (s.once("connect", r), s.once("error", j)));
  /** The next final reply line (`ddd text`) matching `code`. */
  const reply = (code: RegExp, timeoutMs = 10_000) =>
    new Promise<string>((resolve, reject) => {
      const check = () => {
        for (let at = buf.indexOf("\n"); at >= 0; at = buf.indexOf("\n")) {
          const line = buf.slice(0, at).replace(/\r$/, "");
          buf = buf.slice(at + 1);
          if (!/^\d{3} /.test(line)) continue;
          if (!code.test(line)) return done(() => reject(new Error(`unexpected reply: ${line}`)));
          return done(() => resolve(line));
        }
        if (closed) done(() => reject(new Error("control connection closed")));
      };
      const timer = setTimeout(() => done(() => reject(new Error(`no ${code} reply within ${timeoutMs} ms`))), timeoutMs);
      const done = (f: () => void) => (clearTimeout(timer), waiters.delete(check), f());
      waiters.add(check);
      check();
    });
  const send = (line: string) => s.write(`${line}\r\n`);
  return { socket: s, reply, send, closed: () => closed };
}

const fdCount = (pid: number) => readdirSync(`/proc/${pid}/fd`).length;
const rssMiB = (pid: number) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0) / 1024;

describe.skipIf(!asRoot)("a passive data port belongs to the control connection's user", () => {
  test.each([["PASV"], ["EPSV"]])("%s: a connection from uid nobody gets nothing; the root client's download is intact", async (mode) => {
    const fwd = secureLegacy(`127.0.0.1:${ftpPort}`);
    let thief: ChildProcess | undefined;
    try {
      await fwd.waitFor(/probe ok: FTP answered: 220/);
      const c = await control(fwd.ports[0]!);
      await c.reply(/^220 /);
      c.send("USER anonymous");
      await c.reply(/^230 /);
      c.send("TYPE I");
      await c.reply(/^200 /);
      c.send(mode);
      const passive = await c.reply(mode === "PASV" ? /^227 / : /^229 /);
      const m = mode === "PASV" ? /\(\d+,\d+,\d+,\d+,(\d+),(\d+)\)/.exec(passive)! : /\(\|\|\|(\d+)\|\)/.exec(passive)!;
      const port = mode === "PASV" ? Number(m[1]) * 256 + Number(m[2]) : Number(m[1]);

      // Another local user connects to the announced port first and reads whatever it is given.
      // fwd may reset it so soon that the reset reaches it before its connect() has returned
      // (seen in CI): that too is nothing given.
      const py = `import socket,sys
try:
  s=socket.create_connection(("127.0.0.1",${port}),5)
except ConnectionResetError:
  print("reset",flush=True)
  sys.exit(0)
print("connected",flush=True)
n=0
try:
  while True:
    d=s.recv(65536)
    if not d: break
    n+=len(d)
except OSError: pass
print("bytes=%d"%n,flush=True)`;
      thief = spawn("runuser", ["-u", "nobody", "--", "python3", "-c", py], { stdio: ["ignore", "pipe", "pipe"] });
      let said = "";
      let complained = "";
      thief.stdout!.on("data", (d) => (said += d));
      thief.stderr!.on("data", (d) => (complained += d));
      // "close", not "exit": a thief that is reset at once prints and exits within a millisecond,
      // and "exit" can come before its stdout has been read (seen once in CI as an empty `said`).
      const thiefDone = new Promise<number | null>((r) => thief!.once("close", r));
      await new Promise<void>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`the thief did not connect: ${said} ${complained}`)), 10_000);
        const tried = () => said.includes("connected") || said.includes("reset");
        thief!.stdout!.on("data", () => tried() && (clearTimeout(t), resolve()));
        thief!.once("close", (code) => (clearTimeout(t), tried() ? resolve() : reject(new Error(`the thief exited (${code}) without connecting: ${said} ${complained}`))));
      });

      // Then the rightful client takes the port and downloads.
      const data = net.connect(port, "127.0.0.1");
      const chunks: Buffer[] = [];
      data.on("data", (d: Buffer) => chunks.push(d));
      const dataEnded = new Promise<void>((resolve, reject) => (data.once("end", resolve), data.once("error", reject)));
      dataEnded.catch(() => {}); // awaited below; a refused connect fails the test at the next line
      await new Promise((r, j) => (data.once("connect", r), data.once("error", j)));
      c.send("RETR data.bin");
      await c.reply(/^150 /);
      await dataEnded;
      await c.reply(/^226 /);
      data.destroy();
      expect(sha(Buffer.concat(chunks))).toBe(sha(file));
      expect(await thiefDone).toBe(0);
      expect(["connected\nbytes=0\n", "reset\n"]).toContain(said);
      c.socket.destroy();
    } finally {
      if (thief && thief.exitCode === null) thief.kill("SIGKILL");
      expect(await fwd.stop()).toBe(0);
    }
  }, 30_000);
});

describe.skipIf(!asRoot)("a data port is not taken by a closed connection of another user", () => {
  // A socket its process has closed is an orphan; once its FIN is acknowledged it lingers as
  // FIN_WAIT2 (state 05), which /proc/net/tcp lists with uid 0 and inode 0: not the owner's uid.
  // Only TIME_WAIT is skipped, so for a root client (uid 0) such a row passes as the owner's: a
  // thief as nobody who connects and closes at once (or writes an upload, then closes) takes the port.
  test("PASV: nobody connecting and closing in a loop does not take the root client's port", async () => {
    const fwd = secureLegacy(`127.0.0.1:${ftpPort}`);
    let thief: ChildProcess | undefined;
    try {
      await fwd.waitFor(/probe ok: FTP answered: 220/);
      const c = await control(fwd.ports[0]!);
      await c.reply(/^220 /);
      c.send("USER anonymous");
      await c.reply(/^230 /);
      c.send("TYPE I");
      await c.reply(/^200 /);
      c.send("PASV");
      const m = /\(\d+,\d+,\d+,\d+,(\d+),(\d+)\)/.exec(await c.reply(/^227 /))!;
      const port = Number(m[1]) * 256 + Number(m[2]);
      // Connect and close, again and again, for at most 6 s or until the port stops accepting; slowly, as a
      // flood would fill the queue of connections waiting for a look at the tables (another defect).
      const py = `import socket,time
end=time.time()+6
n=0
while time.time()<end:
  try:
    s=socket.create_connection(("127.0.0.1",${port}),1)
  except ConnectionRefusedError:
    print("refused after %d"%n,flush=True); break
  except OSError:
    continue
  n+=1
  s.close()
  time.sleep(0.1)
else:
  print("still open after %d"%n,flush=True)`;
      thief = spawn("runuser", ["-u", "nobody", "--", "python3", "-c", py], { stdio: ["ignore", "pipe", "pipe"] });
      let said = "";
      thief.stdout!.on("data", (d) => (said += d));
      await new Promise((r) => thief!.once("close", r));
      expect(said).toMatch(/^still open after \d+\n$/);
      const data = net.connect(port, "127.0.0.1");
      const chunks: Buffer[] = [];
      data.on("data", (d: Buffer) => chunks.push(d));
      const dataEnded = new Promise<void>((resolve, reject) => (data.once("end", resolve), data.once("error", reject)));
      dataEnded.catch(() => {});
      await new Promise((r, j) => (data.once("connect", r), data.once("error", j)));
      c.send("RETR data.bin");
      await c.reply(/^150 /);
      await dataEnded;
      await c.reply(/^226 /);
      data.destroy();
      expect(sha(Buffer.concat(chunks))).toBe(sha(file));
      c.socket.destroy();
    } finally {
      if (thief && thief.exitCode === null) thief.kill("SIGKILL");
      expect(await fwd.stop()).toBe(0);
    }
  }, 30_000);
});

/** A fake FTP server that greets, then on the client's first line does `attack` to its socket. */
async function hostile(attack: (s: net.Socket) => void) {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on("error", () => {});
    s.on("close", () => sockets.delete(s));
    s.write("220 hostile\r\n");
    s.once("data", () => attack(s));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () => new Promise<void>((r) => (sockets.forEach((s) => s.destroy()), server.close(() => r()))),
  };
}

/** Writes `total` bytes of `chunk` repeated, as fast as the peer takes them; stops when the peer is gone. */
function flood(s: net.Socket, chunk: Buffer, total = Infinity): void {
  let sent = 0;
  const more = () => {
    while (sent < total && !s.destroyed) {
      sent += chunk.length;
      if (!s.write(chunk)) return void s.once("drain", more);
    }
    if (!s.destroyed) s.end();
  };
  more();
}

describe.skipIf(!asRoot)("a hostile FTP server cannot exhaust fwd", () => {
  test("50 MB without a newline: the control connection is closed, fwd's memory stays bounded", async () => {
    const server = await hostile((s) => flood(s, Buffer.alloc(64 * 1024, "x"), 50 * 1024 * 1024));
    const fwd = secureLegacy(`127.0.0.1:${server.port}`);
    try {
      await fwd.waitFor(/probe ok: FTP answered: 220/);
      const c = await control(fwd.ports[0]!);
      await c.reply(/^220 /);
      c.send("USER anonymous");
      await expect(c.reply(/^$/, 20_000)).rejects.toThrow("control connection closed");
      await fwd.waitFor(/ftp: .*a reply line longer than 8192 bytes/);
      expect(rssMiB(fwd.proc.pid!)).toBeLessThan(200);
    } finally {
      expect(await fwd.stop()).toBe(0);
      await server.close();
    }
  }, 40_000);

  test("500 unsolicited 227 replies: one pending data port at a time, fds back near baseline", async () => {
    const replies = 500;
    const server = await hostile((s) => s.write("227 Entering Passive Mode (127,0,0,1,4,1).\r\n".repeat(replies)));
    const fwd = secureLegacy(`127.0.0.1:${server.port}`);
    try {
      await fwd.waitFor(/probe ok: FTP answered: 220/);
      const baseline = fdCount(fwd.proc.pid!);
      const c = await control(fwd.ports[0]!);
      await c.reply(/^220 /);
      c.send("USER anonymous");
      for (let i = 0; i < replies; i++) await c.reply(/^227 Entering Passive Mode \(127,0,0,1,\d+,\d+\)\.$/);
      // The control connection and its SSH channel, and one pending data port.
      expect(fdCount(fwd.proc.pid!)).toBeLessThanOrEqual(baseline + 5);
      c.socket.destroy();
    } finally {
      expect(await fwd.stop()).toBe(0);
      await server.close();
    }
  }, 40_000);

  // Replies without end: each 227 opens a data port (closing the one before), and the client reads all.
  const endless = () => hostile((s) => flood(s, Buffer.from("227 Entering Passive Mode (127,0,0,1,4,1).\r\n200 ok\r\n".repeat(1000))));
  const flooded = async (fwd: FwdProcess) => {
    await fwd.waitFor(/probe ok: FTP answered: 220/);
    const c = await control(fwd.ports[0]!);
    await c.reply(/^220 /);
    c.send("USER anonymous");
    for (let i = 0; i < 100; i++) await c.reply(/^(227|200) /);
    return c;
  };

  test("SIGTERM stops fwd while the server floods it", async () => {
    const server = await endless();
    const fwd = secureLegacy(`127.0.0.1:${server.port}`);
    try {
      const c = await flooded(fwd);
      fwd.proc.kill("SIGTERM");
      await fwd.waitFor(/SIGTERM: no new connections/);
      // A bound, not a measure: the stop's 3 s grace, plus ample slack for a loaded machine.
      expect(await Promise.race([fwd.exited, Bun.sleep(10_000).then(() => "still running")])).toBe(0);
      c.socket.destroy();
    } finally {
      fwd.proc.kill("SIGKILL");
      await server.close();
    }
  }, 40_000);

  test("a second SIGTERM ends fwd by the system's default action, which needs no free event loop", async () => {
    const server = await endless();
    const fwd = secureLegacy(`127.0.0.1:${server.port}`);
    try {
      const c = await flooded(fwd);
      fwd.proc.kill("SIGTERM");
      await fwd.waitFor(/SIGTERM: no new connections/);
      fwd.proc.kill("SIGTERM");
      await fwd.exited;
      // Killed by the signal itself, not by a JavaScript handler choosing to exit.
      expect(fwd.proc.signalCode).toBe("SIGTERM");
      c.socket.destroy();
    } finally {
      fwd.proc.kill("SIGKILL");
      await server.close();
    }
  }, 40_000);
});

if (!asRoot) test("FTP attacks need root (a second local user): skipped", () => {
  console.log("ftp: skipped, this suite needs root to run a client as nobody and sshd");
});
