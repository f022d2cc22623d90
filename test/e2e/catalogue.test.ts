// The rest of the seed's catalogue, each recipe against the real protocol in the C → A → B world:
// sshd on A and B, vsftpd, Dovecot (IMAP, POP3), a web server and a VNC desktop on B (which C cannot
// reach), and on C a web server, an sshd and MariaDB that A should reach. Telnet is not run: Debian's
// telnetd only starts under inetd; it rides the same plain forward as IMAP and HTTP.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromiumDom } from "../harness/chromium.ts";
import { curl } from "../harness/curl.ts";
import { runFwd, runFwdToEnd } from "../harness/fwd.ts";
import { startMariaDb, type MariaDb } from "../harness/mariadb.ts";
import { startHttp } from "../harness/net.ts";
import { canMakeNamespaces, makeWorld, type World } from "../harness/netns.ts";
import { startSshd, type Sshd } from "../harness/sshd.ts";

const ok = canMakeNamespaces();
let world: World;
let a: Sshd;
let aPrivate: Sshd; // GatewayPorts no (sshd's default)
let b: Sshd;
let home: Sshd;
let db: MariaDb;
let localWeb: Awaited<ReturnType<typeof startHttp>>;
const procs: ChildProcess[] = [];
let dir: string;

const inB = (args: string[]) => spawn(world.b.exec[0]!, [...world.b.exec.slice(1), ...args], { stdio: "ignore" });
const untilB = async (port: number) => {
  const deadline = Date.now() + 10_000;
  const py = `import socket;socket.create_connection(("${world.b.address}",${port}),1)`;
  while (spawnSync(world.b.exec[0]!, [...world.b.exec.slice(1), "python3", "-c", py]).status !== 0 && Date.now() < deadline) await Bun.sleep(100);
};

beforeAll(async () => {
  if (!ok) return;
  world = makeWorld(41, { hosts: { "web.intranet": "198.18.42.2" } });
  dir = mkdtempSync(join(tmpdir(), "fwd-catalogue-"));
  [a, aPrivate, b, home, db, localWeb] = await Promise.all([
    startSshd({ host: world.a, config: { GatewayPorts: "clientspecified" } }),
    startSshd({ host: world.a, port: 2201 }),
    startSshd({ host: world.b }),
    startSshd(),
    startMariaDb(),
    startHttp(),
  ]);
  // vsftpd on B: anonymous, read-only, passive mode on a port range.
  mkdirSync(join(dir, "ftp"));
  mkdirSync(join(dir, "empty"));
  chmodSync(dir, 0o755);
  writeFileSync(join(dir, "ftp", "hello.txt"), "a file that only B has\n");
  writeFileSync(
    join(dir, "vsftpd.conf"),
    [
      "listen=YES", `listen_address=${world.b.address}`, "anonymous_enable=YES", `anon_root=${join(dir, "ftp")}`, "no_anon_password=YES",
      "local_enable=NO", "write_enable=NO", "pasv_enable=YES", "pasv_min_port=40000", "pasv_max_port=40100", "seccomp_sandbox=NO",
      "background=NO", `secure_chroot_dir=${join(dir, "empty")}`, "xferlog_enable=NO", "",
    ].join("\n"),
  );
  procs.push(inB(["vsftpd", join(dir, "vsftpd.conf")]));
  writeFileSync(join(dir, "index.html"), "<title>Intranet</title>hello from B's web server\n");
  procs.push(inB(["python3", "-m", "http.server", "8080", "--directory", dir]));
  // Dovecot on B for IMAP and POP3: any user, no password, an empty mailbox.
  for (const d of ["dovecot/run", "dovecot/state", "dovecot/mail"]) mkdirSync(join(dir, d), { recursive: true });
  chmodSync(join(dir, "dovecot", "mail"), 0o777);
  writeFileSync(
    join(dir, "dovecot", "dovecot.conf"),
    `protocols = imap pop3\nlisten = ${world.b.address}\nbase_dir = ${join(dir, "dovecot/run")}\nstate_dir = ${join(dir, "dovecot/state")}\nlog_path = /dev/null\nssl = no\ndisable_plaintext_auth = no\nmail_location = maildir:${join(dir, "dovecot/mail")}/%u\npassdb {\n  driver = static\n  args = nopassword=y\n}\nuserdb {\n  driver = static\n  args = uid=nobody gid=nogroup home=${join(dir, "dovecot/mail")}/%u\n}\n`,
  );
  procs.push(inB(["dovecot", "-F", "-c", join(dir, "dovecot", "dovecot.conf")]));
  let n = 70 + Math.floor(Math.random() * 9);
  while (spawnSync("test", ["-e", `/tmp/.X11-unix/X${n}`]).status === 0) n++;
  procs.push(inB(["Xvnc", `:${n}`, "-rfbport", "5900", "-SecurityTypes", "None", "-geometry", "640x480", "-BlacklistThreshold", "100000"]));
  await Promise.all([untilB(21), untilB(8080), untilB(5900), untilB(143), untilB(110)]);
}, 90_000);
afterAll(async () => {
  // Dovecot takes a moment to stop its children: wait, so nothing outlives the namespace.
  await Promise.all(procs.map((p) => new Promise((r) => (p.exitCode !== null ? r(null) : (p.once("exit", r), p.kill(), setTimeout(() => (p.kill("SIGKILL"), r(null)), 5_000).unref())))));
  await Promise.all([a?.stop(), aPrivate?.stop(), b?.stop(), home?.stop(), db?.stop(), localWeb?.close()]);
  world?.destroy();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const ssh = (s: Sshd) => ["-F", "none", "-o", `UserKnownHostsFile=${s.knownHosts}`, "-o", "StrictHostKeyChecking=yes"];
const viaA = (s: Sshd = a) => ["--identity", s.clientKey, ...ssh(s)];
const A = (s: Sshd = a) => `${s.user}@${world.a.address}:${s.port}`;
const run = (plugin: string, args: string[]) => runFwd(["run", plugin, ...args]);

describe.skipIf(!ok)("local forwarding recipes", () => {
  test("ssh-via-bastion: B's SSH on a local port, and the ssh config block", async () => {
    const fwd = run("ssh-via-bastion", ["--bastion", A(), "--host", `${world.b.address}:${b.port}`, "--listen", "127.0.0.1:0", "--user", b.user, ...viaA()]);
    try {
      await fwd.waitFor(/probe ok: SSH answered: SSH-2\.0-OpenSSH/);
      await fwd.waitFor(new RegExp(`ProxyCommand fwd -W %h:%p ${a.user}@${world.a.address.replaceAll(".", "\\.")}:${a.port}$`));
      const known = join(dir, "known_b");
      writeFileSync(known, `[127.0.0.1]:${fwd.ports[0]} ${b.hostKeyPub}\n`);
      const r = spawnSync("ssh", ["-F", "none", "-p", String(fwd.ports[0]), "-i", b.clientKey, "-o", `UserKnownHostsFile=${known}`, "-o", "StrictHostKeyChecking=yes", `${b.user}@127.0.0.1`, "echo this is B"], { encoding: "utf8", timeout: 15_000 });
      expect(r.stdout.trim()).toBe("this is B");
    } finally {
      expect(await fwd.stop()).toBe(0);
    }
  }, 30_000);

  test("remote-desktop-via-bastion: B's VNC desktop on a local port", async () => {
    const fwd = run("remote-desktop-via-bastion", ["--bastion", A(), "--desktop", world.b.address, "--vnc", "--listen", "127.0.0.1:0", ...viaA()]);
    try {
      await fwd.waitFor(/probe ok: VNC answered: RFB 3\.8/);
      await fwd.waitFor(/^point your VNC viewer at 127\.0\.0\.1:\d+$/);
    } finally {
      expect(await fwd.stop()).toBe(0);
    }
  }, 30_000);

  test("secure-legacy ftp: curl lists and downloads through the tunnel, in EPSV and in PASV mode", async () => {
    const fwd = run("secure-legacy", ["--bastion", A(), "--protocol", "ftp", "--target", world.b.address, "--listen", "127.0.0.1:0", ...viaA()]);
    try {
      await fwd.waitFor(/probe ok: FTP answered: 220/);
      const base = `ftp://127.0.0.1:${fwd.ports[0]}`;
      expect((await curl([`${base}/`])).stdout).toContain("hello.txt");
      expect((await curl([`${base}/hello.txt`])).stdout).toBe("a file that only B has\n");
      expect((await curl(["--disable-epsv", `${base}/hello.txt`])).stdout).toBe("a file that only B has\n");
    } finally {
      expect(await fwd.stop()).toBe(0);
    }
  }, 30_000);

  test.each([
    ["imap", /probe ok: IMAP answered: \* OK .*Dovecot/, "INBOX"],
    ["pop3", /probe ok: POP3 answered: \+OK Dovecot/, ""],
  ])("secure-legacy %s: a real mail server (Dovecot) and curl's client, without TLS, inside SSH", async (protocol, probe, listing) => {
    const fwd = run("secure-legacy", ["--bastion", A(), "--protocol", protocol, "--target", world.b.address, "--listen", "127.0.0.1:0", ...viaA()]);
    try {
      await fwd.waitFor(probe);
      const r = await curl(["--user", "alice:any", `${protocol}://127.0.0.1:${fwd.ports[0]}/`]);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(listing);
    } finally {
      expect(await fwd.stop()).toBe(0);
    }
  }, 30_000);

  test("secure-legacy http: plain HTTP rides the tunnel", async () => {
    const fwd = run("secure-legacy", ["--bastion", A(), "--protocol", "http", "--target", `${world.b.address}:8080`, "--listen", "127.0.0.1:0", ...viaA()]);
    try {
      await fwd.waitFor(/probe ok: HTTP 200, "Intranet"/);
      expect((await curl([`http://127.0.0.1:${fwd.ports[0]}/`])).stdout).toContain("hello from B's web server");
    } finally {
      expect(await fwd.stop()).toBe(0);
    }
  }, 30_000);
});

describe.skipIf(!ok)("remote forwarding recipes", () => {
  test("expose-local-web: served on A's public address, checked from outside", async () => {
    const fwd = run("expose-local-web", ["--server", A(), "--local", `127.0.0.1:${localWeb.port}`, "--remote-port", "8088", ...viaA()]);
    try {
      await fwd.waitFor(/probe ok: public: HTTP 200/);
      expect((await curl([`http://${world.a.address}:8088/visitor`])).stdout).toBe("hello /visitor via 127.0.0.1");
    } finally {
      expect(await fwd.stop()).toBe(0);
    }
  }, 30_000);

  test("expose-local-web where A does not allow public binds: fwd check says why (exit 8)", async () => {
    const r = await runFwdToEnd(["check", "expose-local-web", "--server", A(aPrivate), "--local", `127.0.0.1:${localWeb.port}`, "--remote-port", "8089", ...viaA(aPrivate)]);
    expect(r.stdout).toContain("✗ probe: A does not serve it publicly");
    expect(r.stdout).toContain("GatewayPorts");
    expect(r.code).toBe(8);
  }, 30_000);

  test("home-ssh: the home sshd reachable on A", async () => {
    const fwd = run("home-ssh", ["--server", A(), "--ssh", `127.0.0.1:${home.port}`, "--remote-port", "2222", ...viaA()]);
    try {
      await fwd.waitFor(/probe ok: SSH answered: SSH-2\.0-OpenSSH/);
      await fwd.waitFor(new RegExp(`^from the road: ssh -J ${a.user}@${world.a.address.replaceAll(".", "\\.")}:${a.port} -p 2222 localhost$`));
    } finally {
      expect(await fwd.stop()).toBe(0);
    }
  }, 30_000);

  test("dev-db-to-cloud: this machine's MariaDB, queried on A by the real mariadb client", async () => {
    const fwd = run("dev-db-to-cloud", ["--server", A(), "--db", `127.0.0.1:${db.port}`, "--remote-port", "3307", ...viaA()]);
    try {
      await fwd.waitFor(/probe ok: MariaDB/);
      const r = spawnSync(world.a.exec[0]!, [...world.a.exec.slice(1), "mariadb", "-h", "127.0.0.1", "-P", "3307", "--protocol=TCP", "-u", "root", "-N", "-B", "-e", "SELECT 6*7"], { encoding: "utf8", timeout: 15_000 });
      expect(r.stdout.trim()).toBe("42");
    } finally {
      expect(await fwd.stop()).toBe(0);
    }
  }, 30_000);
});

describe.skipIf(!ok)("dynamic forwarding recipes", () => {
  test("lan-egress: refuses to start without an allow-list; with one, serves and prints the settings", async () => {
    const refused = await runFwdToEnd(["run", "lan-egress", "--server", A(), ...viaA()]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/missing required option allow/);
    const fwd = run("lan-egress", ["--server", A(), "--allow", "127.0.0.0/8", "--listen", "0.0.0.0:0", "--lan-address", "127.0.0.1", ...viaA()]);
    try {
      await fwd.waitFor(/probe ok: SOCKS5 answered/);
      await fwd.waitFor(/^git: +git config --global http\.proxy socks5h:\/\/127\.0\.0\.1:\d+$/);
      expect((await curl(["--socks5-hostname", `127.0.0.1:${fwd.ports[0]}`, `http://${world.b.address}:8080/`])).stdout).toContain("hello from B's web server");
    } finally {
      expect(await fwd.stop()).toBe(0);
    }
  }, 30_000);

  test("browser-intranet: Chromium reaches web.intranet by name through the PAC file", async () => {
    const fwd = run("browser-intranet", ["--bastion", A(), "--domains", "*.intranet", "--listen", "127.0.0.1:0", ...viaA()]);
    try {
      await fwd.waitFor(/probe ok: PAC file served/);
      const r = await chromiumDom("http://web.intranet:8080/", { pac: `http://127.0.0.1:${fwd.ports[0]}/proxy.pac` });
      expect(r.dom).toContain("hello from B's web server");
    } finally {
      expect(await fwd.stop()).toBe(0);
    }
  }, 40_000);
});

if (!ok) test("network namespaces need root: skipped", () => {
  console.log("catalogue: skipped, this machine cannot make network namespaces (not root?)");
});
