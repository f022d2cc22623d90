// The seed's world, built for real: client C (this namespace) → server A → server B on A's LAN,
// which C cannot reach. Jump hosts (-J and ProxyJump), -W as OpenSSH's ProxyCommand, remote
// commands, and agent forwarding, each against real sshd on A and B and real clients.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { curl } from "../harness/curl.ts";
import { runFwd, runFwdToEnd, TEST_HOME } from "../harness/fwd.ts";
import { canMakeNamespaces, makeWorld, type World } from "../harness/netns.ts";
import { startSshd, type Sshd } from "../harness/sshd.ts";

const ROOT = join(import.meta.dir, "..", "..");
const ok = canMakeNamespaces();
let world: World;
let a: Sshd;
let aNoForwarding: Sshd;
let b: Sshd;
let web: ChildProcess | undefined;
let dir: string;
let cfg: string;

beforeAll(async () => {
  if (!ok) return;
  world = makeWorld(11);
  [a, aNoForwarding, b] = await Promise.all([
    startSshd({ host: world.a }),
    startSshd({ host: world.a, port: 2201, config: { AllowTcpForwarding: "no" } }),
    startSshd({ host: world.b }),
  ]);
  dir = mkdtempSync(join(tmpdir(), "fwd-world-"));
  writeFileSync(join(dir, "index.html"), "<title>on B</title>served from server B\n");
  web = spawn(world.b.exec[0]!, [...world.b.exec.slice(1), "python3", "-m", "http.server", "8080", "--bind", "0.0.0.0", "--directory", dir], { stdio: "ignore" });
  cfg = join(dir, "ssh_config");
  const host = (name: string, s: Sshd, address: string, port = s.port, extra = "") =>
    `Host ${name}\n  HostName ${address}\n  Port ${port}\n  User ${s.user}\n  IdentityFile ${s.clientKey}\n  IdentitiesOnly yes\n  UserKnownHostsFile ${s.knownHosts}\n  StrictHostKeyChecking yes\n${extra}`;
  writeFileSync(
    cfg,
    [
      host("lab-a", a, world.a.address),
      host("lab-a-noforward", aNoForwarding, world.a.address),
      host("lab-b", b, world.b.address),
      host("lab-b-via-a", b, world.b.address, b.port, "  ProxyJump lab-a\n"),
      host("lab-b-wrong-port", b, world.b.address, 2299),
    ].join("\n"),
  );
  // B's web server, from B's own namespace (C cannot check it directly).
  const deadline = Date.now() + 10_000;
  while (spawnSync(world.b.exec[0]!, [...world.b.exec.slice(1), "python3", "-c", "import urllib.request;urllib.request.urlopen('http://127.0.0.1:8080/')"]).status !== 0 && Date.now() < deadline) await Bun.sleep(100);
}, 60_000);
afterAll(async () => {
  web?.kill();
  await Promise.all([a?.stop(), aNoForwarding?.stop(), b?.stop()]);
  world?.destroy();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!ok)("C → A → B", () => {
  test("C has no route to B (checked with ip route get, not by connecting)", () => {
    const r = spawnSync("ip", ["route", "get", world.b.address], { encoding: "utf8" });
    expect(`${r.stdout}${r.stderr}`).toMatch(/unreachable|Network is unreachable|No route/i);
  });

  test("fwd -J A B -L: a service on B, through A", async () => {
    const fwd = runFwd(["-F", cfg, "-J", "lab-a", "lab-b", "-L", "0:127.0.0.1:8080"]);
    try {
      await fwd.waitFor(/^listening /);
      expect((await curl([`http://127.0.0.1:${fwd.ports[0]}/`])).stdout).toContain("served from server B");
    } finally {
      expect(await fwd.stop()).toBe(0);
    }
  });

  test("ProxyJump in ssh_config does the same", async () => {
    const fwd = runFwd(["-F", cfg, "lab-b-via-a", "-L", "0:127.0.0.1:8080"]);
    try {
      await fwd.waitFor(/^listening /);
      await fwd.waitFor(new RegExp(`${b.user}@lab-b-via-a \\(${world.b.address.replaceAll(".", "\\.")}\\):2200 via ${a.user}@lab-a`));
      expect((await curl([`http://127.0.0.1:${fwd.ports[0]}/`])).stdout).toContain("served from server B");
    } finally {
      expect(await fwd.stop()).toBe(0);
    }
  });

  test("fwd A -L 2222:B:22, then ssh -p 2222 localhost reaches B", async () => {
    const fwd = runFwd(["-F", cfg, "lab-a", "-L", `0:${world.b.address}:${b.port}`]);
    try {
      await fwd.waitFor(/^listening /);
      const port = fwd.ports[0]!;
      const known = join(dir, "known_localhost");
      writeFileSync(known, `[127.0.0.1]:${port} ${b.hostKeyPub}\n`);
      const r = spawnSync("ssh", ["-F", "none", "-p", String(port), "-i", b.clientKey, "-o", "IdentitiesOnly=yes", "-o", `UserKnownHostsFile=${known}`, "-o", "StrictHostKeyChecking=yes", `${b.user}@127.0.0.1`, "cat /proc/net/fib_trie >/dev/null; echo I am B"], { encoding: "utf8", timeout: 15_000 });
      expect(r.stdout.trim()).toBe("I am B");
    } finally {
      expect(await fwd.stop()).toBe(0);
    }
  });

  test("-W host:port makes fwd OpenSSH's ProxyCommand", () => {
    const proxy = `${process.execPath} ${join(ROOT, "src", "main.ts")} -F ${cfg} -W %h:%p lab-a`;
    const r = spawnSync("ssh", ["-F", cfg, "-o", `ProxyCommand=${proxy}`, "lab-b", "echo through fwd -W"], { encoding: "utf8", timeout: 20_000 });
    expect(r.stderr).toBe("");
    expect(r.stdout.trim()).toBe("through fwd -W");
  });

  test("a remote command: stdin, stdout, stderr and the exit status pass through", () => {
    const r = spawnSync(process.execPath, [join(ROOT, "src", "main.ts"), "-F", cfg, "lab-a", "--", "sh", "-c", "'cat; echo to-stderr >&2; exit 3'"], { input: "from C's stdin", encoding: "utf8", timeout: 20_000, env: { PATH: process.env.PATH, HOME: TEST_HOME } });
    expect(r.stdout).toBe("from C's stdin");
    expect(r.stderr).toContain("to-stderr");
    expect(r.status).toBe(3);
  });

  test("a command ended by a signal exits 128 + its number, as with ssh", () => {
    const r = spawnSync(process.execPath, [join(ROOT, "src", "main.ts"), "-F", cfg, "lab-a", "--", "kill -TERM $$"], { encoding: "utf8", timeout: 20_000, env: { PATH: process.env.PATH, HOME: TEST_HOME } });
    expect(r.status).toBe(143);
  });

  test("-A: a command on A uses a key only C's agent holds to reach B; without -A it cannot", async () => {
    const sock = join(dir, "agent.sock");
    const agent = spawn("ssh-agent", ["-D", "-a", sock], { stdio: "ignore" });
    try {
      const deadline = Date.now() + 5_000;
      while (spawnSync("ssh-add", ["-l"], { env: { SSH_AUTH_SOCK: sock } }).status === 2 && Date.now() < deadline) await Bun.sleep(20);
      expect(spawnSync("ssh-add", [b.clientKey], { env: { SSH_AUTH_SOCK: sock } }).status).toBe(0);
      const onA = `ssh -F /dev/null -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -p ${b.port} ${b.user}@${world.b.address} echo agent reached B`;
      const run = (flags: string[]) =>
        spawnSync(process.execPath, [join(ROOT, "src", "main.ts"), "-F", cfg, ...flags, "lab-a", "--", onA], { encoding: "utf8", timeout: 20_000, env: { PATH: process.env.PATH, HOME: TEST_HOME, SSH_AUTH_SOCK: sock } });
      const withAgent = run(["-A"]);
      expect(withAgent.stdout.trim()).toBe("agent reached B");
      expect(withAgent.status).toBe(0);
      const without = run([]);
      expect(without.stdout).toBe("");
      expect(without.status).toBe(255);
    } finally {
      agent.kill();
    }
  });
});

describe.skipIf(!ok)("errors on the way", () => {
  test("a hop that fails says which hop and why", async () => {
    const r = await runFwdToEnd(["-F", cfg, "-J", "lab-a", "lab-b-wrong-port", "-L", "0:127.0.0.1:80"]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(`fwd: ${b.user}@lab-b-wrong-port (${world.b.address}):2299: through jump host ${a.user}@lab-a (${world.a.address}):2200: connection refused by the target`);
  });

  test("a jump through a server that forbids forwarding says so", async () => {
    const r = await runFwdToEnd(["-F", cfg, "-J", "lab-a-noforward", "lab-b", "-L", "0:127.0.0.1:80"]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain("administratively prohibited");
    expect(r.stderr).toContain("AllowTcpForwarding");
  });
});

if (!ok) test("network namespaces need root: skipped", () => {
  console.log("jump-hosts: skipped, this machine cannot make network namespaces (not root?)");
});
