// Authentication sources and ssh_config, end to end: ssh-agent, an encrypted key with nobody to ask,
// a Host block with LocalForward reached through Include, and a server that never says hello.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawn, spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, writeFileSync } from "node:fs";
import net from "node:net";
import { join } from "node:path";
import { runFwd, runFwdToEnd, TEST_HOME } from "../harness/fwd.ts";
import { exchange, startEcho, waitForPort } from "../harness/net.ts";
import { startSshd, type Sshd } from "../harness/sshd.ts";

let sshd: Sshd;
let echo: Awaited<ReturnType<typeof startEcho>>;
beforeAll(async () => {
  sshd = await startSshd();
  echo = await startEcho();
});
afterAll(async () => {
  await echo?.close();
  await sshd?.stop();
});

/** clientArgs without -i and IdentitiesOnly, so only what the test provides can authenticate. */
const withoutKey = () => {
  const a = [...sshd.clientArgs];
  a.splice(a.indexOf("-i"), 2);
  a.splice(a.indexOf("IdentitiesOnly=yes") - 1, 2);
  return a;
};

describe("authentication", () => {
  test("a key held only by ssh-agent (SSH_AUTH_SOCK) authenticates", async () => {
    const sock = join(sshd.dir, "agent.sock");
    const agent = spawn("ssh-agent", ["-D", "-a", sock], { stdio: "ignore" });
    try {
      const started = Date.now();
      while (spawnSync("ssh-add", ["-l"], { env: { SSH_AUTH_SOCK: sock } }).status === 2 && Date.now() - started < 5000)
        await new Promise((r) => setTimeout(r, 20));
      expect(spawnSync("ssh-add", [sshd.clientKey], { env: { SSH_AUTH_SOCK: sock } }).status).toBe(0);
      const fwd = runFwd([...withoutKey(), "-v", "-L", `0:127.0.0.1:${echo.port}`, sshd.host], { env: { SSH_AUTH_SOCK: sock } });
      try {
        await fwd.waitFor(/^listening /);
        expect((await exchange(fwd.ports[0]!, "via agent")).reply.toString()).toBe("via agent");
      } finally {
        expect(await fwd.stop()).toBe(0);
      }
      // Without the agent the same command has no key at all.
      const r = await runFwdToEnd([...withoutKey(), "-L", `0:127.0.0.1:${echo.port}`, sshd.host]);
      expect(r.code).toBe(4);
    } finally {
      agent.kill();
    }
  });

  test("a dead SSH_AUTH_SOCK costs nothing: the key file still gets in, as with ssh", async () => {
    const fwd = runFwd([...sshd.clientArgs, "-L", `0:127.0.0.1:${echo.port}`, sshd.host], { env: { SSH_AUTH_SOCK: join(sshd.dir, "no-agent.sock") } });
    try {
      await fwd.waitFor(/^listening /);
      expect((await exchange(fwd.ports[0]!, "no agent")).reply.toString()).toBe("no agent");
    } finally {
      expect(await fwd.stop()).toBe(0);
    }
  });

  test("an encrypted key with no terminal to ask: a clear failure, not a hang", async () => {
    const key = join(sshd.dir, "encrypted_key");
    copyFileSync(sshd.clientKey, key);
    expect(spawnSync("ssh-keygen", ["-q", "-p", "-N", "secret phrase", "-P", "", "-f", key]).status).toBe(0);
    const args = sshd.clientArgs.map((a) => (a === sshd.clientKey ? key : a));
    const r = await runFwdToEnd([...args, "-L", `0:127.0.0.1:${echo.port}`, sshd.host], {}, 15_000);
    expect(r.code).toBe(4);
    expect(r.stderr).toContain(`key ${key} (encrypted, no terminal to ask its passphrase)`);
    expect(r.stderr).not.toContain("secret phrase");
  });
});

describe("on a terminal", () => {
  test("an encrypted key asks for its passphrase (not echoed), then the tunnel works; Ctrl-C stops it", async () => {
    const key = join(sshd.dir, "encrypted_key_tty");
    copyFileSync(sshd.clientKey, key);
    expect(spawnSync("ssh-keygen", ["-q", "-p", "-N", "tty phrase", "-P", "", "-f", key]).status).toBe(0);
    const args = sshd.clientArgs.map((a) => (a === sshd.clientKey ? key : a));
    // ConnectTimeout=1, and the passphrase comes later than that: a person's typing is not the network's fault.
    const cmd = [process.execPath, join(import.meta.dir, "..", "..", "src", "main.ts"), ...args, "-o", "ConnectTimeout=1", "-L", `0:127.0.0.1:${echo.port}`, sshd.host];
    // script(1) gives fwd a real pseudo-terminal; what we write to its stdin is typed into it.
    // exec: Ctrl-C must reach fwd itself, not a shell in between that would die of it.
    const p = spawn("script", ["-qefc", `exec ${cmd.map((a) => `'${a}'`).join(" ")}`, "/dev/null"], {
      env: { PATH: process.env.PATH ?? "", HOME: TEST_HOME, TERM: "dumb" },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let screen = "";
    const waitFor = (re: RegExp) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no ${re} in:\n${screen}`)), 15_000);
        const check = () => re.test(screen) && (clearTimeout(timer), p.stdout!.off("data", check), resolve());
        p.stdout!.on("data", check);
        check();
      });
    p.stdout!.on("data", (d: Buffer) => (screen += d.toString()));
    const exited = new Promise<number | null>((r) => p.once("exit", r));
    try {
      await waitFor(new RegExp(`Enter passphrase for key '${key}': `));
      await Bun.sleep(1_500);
      p.stdin!.write("tty phrase\r");
      await waitFor(/listening 127\.0\.0\.1:\d+ -> /);
      const port = Number(/listening 127\.0\.0\.1:(\d+) -> /.exec(screen)![1]);
      expect((await exchange(port, "typed in")).reply.toString()).toBe("typed in");
      expect(screen).not.toContain("tty phrase");
      p.stdin!.write("\x03");
      expect(await exited).toBe(0);
      expect(screen).toContain("SIGINT: no new connections");
    } finally {
      p.kill("SIGKILL");
    }
  });
});

describe("ssh config", () => {
  test("ProxyJump in the config is obeyed: a dead jump host fails, never a silent direct connection", async () => {
    const cfg = join(sshd.dir, "proxyjump.conf");
    writeFileSync(cfg, `Host inner\n  HostName 127.0.0.1\n  Port ${sshd.port}\n  ProxyJump bastion.invalid\n`);
    const r = await runFwdToEnd(["-F", cfg, "-L", "0:127.0.0.1:9", "inner"]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain("bastion.invalid: host name not found");
  });

  test("a Host alias from an Included file supplies HostName, Port, User, IdentityFile and LocalForward", async () => {
    const home = join(sshd.dir, "home");
    mkdirSync(join(home, ".ssh", "conf.d"), { recursive: true });
    writeFileSync(join(home, ".ssh", "config"), "Include conf.d/*.conf\n\nHost *\n  ServerAliveInterval 5\n");
    writeFileSync(
      join(home, ".ssh", "conf.d", "lab.conf"),
      [
        "Host lab-a !lab-b",
        "  HostName 127.0.0.1",
        `  Port ${sshd.port}`,
        `  User ${sshd.user}`,
        `  IdentityFile ${sshd.clientKey}`,
        "  IdentitiesOnly yes",
        `  UserKnownHostsFile ${sshd.knownHosts}`,
        "  StrictHostKeyChecking yes",
        `  LocalForward 0 127.0.0.1:${echo.port}`,
        "",
      ].join("\n"),
    );
    const fwd = runFwd(["lab-a"], { env: { HOME: home } });
    try {
      await fwd.waitFor(new RegExp(`^listening 127\\.0\\.0\\.1:\\d+ -> 127\\.0\\.0\\.1:${echo.port}$`));
      expect((await exchange(fwd.ports[0]!, "configured")).reply.toString()).toBe("configured");
    } finally {
      expect(await fwd.stop()).toBe(0);
    }
  });
});

describe("timeouts", () => {
  test("SIGINT while still connecting stops at once, without waiting for ConnectTimeout", async () => {
    const silent = net.createServer(() => {});
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
    const port = (silent.address() as net.AddressInfo).port;
    try {
      const args = sshd.clientArgs.map((a) => (a === String(sshd.port) ? String(port) : a));
      const fwd = runFwd([...args, "-v", "-o", "ConnectTimeout=30", "-L", "0:127.0.0.1:9", sshd.host]);
      await fwd.waitFor(/connecting/);
      const t0 = Date.now();
      fwd.proc.kill("SIGINT");
      expect(await fwd.exited).toBe(0);
      expect(Date.now() - t0).toBeLessThan(5_000);
    } finally {
      silent.close();
    }
  });

  test("a server that accepts but never speaks SSH: ConnectTimeout bounds the wait", async () => {
    const silent = net.createServer(() => {});
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
    const port = (silent.address() as net.AddressInfo).port;
    await waitForPort("127.0.0.1", port, 1000);
    try {
      const args = sshd.clientArgs.map((a) => (a === String(sshd.port) ? String(port) : a));
      const r = await runFwdToEnd([...args, "-o", "ConnectTimeout=1", "-L", "0:127.0.0.1:9", sshd.host], {}, 10_000);
      expect(r.code).toBe(3);
      expect(r.stderr).toContain(`127.0.0.1:${port}: no SSH handshake within 1s`);
    } finally {
      silent.close();
    }
  });
});
