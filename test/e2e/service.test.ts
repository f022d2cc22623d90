// Service units: the unit `fwd service` prints passes systemd's own checker, install writes it where
// the user manager reads units, and under systemd (NOTIFY_SOCKET, here a socat datagram socket in its
// place) `fwd up` reports readiness once every forward listens.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { spawn, spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runFwd, runFwdToEnd } from "../harness/fwd.ts";
import { exchange, startEcho } from "../harness/net.ts";
import { startSshd, type Sshd } from "../harness/sshd.ts";

let sshd: Sshd;
let echo: Awaited<ReturnType<typeof startEcho>>;
let home: string;
let dir: string;
beforeAll(async () => {
  [sshd, echo] = await Promise.all([startSshd(), startEcho()]);
  home = mkdtempSync(join(tmpdir(), "fwd-service-home-"));
  dir = join(home, ".config", "fwd", "scenarios");
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  for (const d of [join(home, ".config"), join(home, ".config", "fwd"), dir]) chmodSync(d, 0o700);
  writeFileSync(
    join(dir, "wiki.toml"),
    `plugin = "secure-legacy"\n[options]\nbastion = "${sshd.user}@127.0.0.1:${sshd.port}"\nidentity = "${sshd.clientKey}"\nprotocol = "rsh"\ntarget = "127.0.0.1:${echo.port}"\nlisten = "127.0.0.1:0"\n`,
    { mode: 0o600 },
  );
}, 30_000);
afterAll(async () => {
  await Promise.all([sshd?.stop(), echo?.close()]);
  rmSync(home, { recursive: true, force: true });
});

const hasAnalyze = spawnSync("systemd-analyze", ["--version"], { stdio: "ignore" }).status === 0;
if (!hasAnalyze) console.warn("service.test: systemd-analyze is not installed (Debian: apt-get install systemd): the unit is not verified");

test.skipIf(!hasAnalyze)("the printed unit passes systemd-analyze verify, with no warning", async () => {
  const r = await runFwdToEnd(["service", "print", "wiki", "--", "--status", "8022"], { env: { HOME: home } });
  expect(r.code).toBe(0);
  expect(r.stdout).toContain("\nRestart=on-failure\n");
  expect(r.stdout).toContain("\nRestartPreventExitStatus=2 4 5\n");
  expect(r.stdout).toContain("\nType=notify\nNotifyAccess=all\n");
  expect(r.stdout).toMatch(/\nExecStart=\/\S+ \/\S+\/src\/main\.ts up wiki --status 8022\n/);
  expect(r.stdout).toContain("loginctl enable-linger");
  const unitDir = mkdtempSync(join(tmpdir(), "fwd-unit-"));
  try {
    writeFileSync(join(unitDir, "fwd-wiki.service"), r.stdout);
    const v = spawnSync("systemd-analyze", ["verify", join(unitDir, "fwd-wiki.service")], { encoding: "utf8" });
    expect(v.stderr).toBe("");
    expect(v.status).toBe(0);
  } finally {
    rmSync(unitDir, { recursive: true, force: true });
  }
});

test("install writes ~/.config/systemd/user/fwd.service; an unknown scenario is refused", async () => {
  const r = await runFwdToEnd(["service", "install", "--all"], { env: { HOME: home } });
  expect(r.code).toBe(0);
  const file = join(home, ".config", "systemd", "user", "fwd.service");
  expect(r.stdout).toContain(`wrote ${file}`);
  expect(r.stdout).toContain("systemctl --user daemon-reload && systemctl --user enable --now fwd.service");
  expect(readFileSync(file, "utf8")).toMatch(/\nExecStart=\S+ \S+ up\n/);
  const bad = await runFwdToEnd(["service", "print", "nope"], { env: { HOME: home } });
  expect(bad.code).toBe(2);
  expect(bad.stderr).toContain(`fwd service: no scenario ${join(dir, "nope.toml")}`);
  expect(existsSync(join(home, ".config", "systemd", "user", "fwd-nope.service"))).toBe(false);
});

test("NOTIFY_SOCKET: READY=1 with fwd's pid, once every forward listens", async () => {
  const sockDir = mkdtempSync(join(tmpdir(), "fwd-notify-"));
  const socket = join(sockDir, "notify");
  // UNIX-RECV keeps receiving: systemd-notify's barrier message after READY must arrive too.
  const socat = spawn("socat", ["-u", `UNIX-RECV:${socket}`, "STDOUT"], { stdio: ["ignore", "pipe", "pipe"] });
  let got = "";
  const ready = new Promise<string>((resolve) => socat.stdout.on("data", (d) => (got += d) && /READY=1/.test(got) && resolve(got)));
  const deadline = Date.now() + 5_000;
  while (!existsSync(socket) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  const fwd = runFwd(["up", "-F", "none", "-o", `UserKnownHostsFile=${sshd.knownHosts}`, "-o", "StrictHostKeyChecking=yes"], { env: { HOME: home, NOTIFY_SOCKET: socket } });
  try {
    const msg = await Promise.race([ready, fwd.exited.then((c) => `fwd exited ${c}`), new Promise<string>((r) => setTimeout(() => r("no READY within 15 s"), 15_000))]);
    expect(msg).toContain("READY=1");
    expect(msg).toContain(`MAINPID=${fwd.proc.pid}`);
    // By then the forward listened: its line is out and it carries a connection.
    const line = fwd.stdout.find((l) => /^\[wiki\] listening 127\.0\.0\.1:\d+ -> /.test(l));
    expect(line).toBeDefined();
    const port = Number(/:(\d+) -> /.exec(line!)![1]);
    expect((await exchange(port, "ready")).reply.toString()).toBe("ready");
  } finally {
    expect(await fwd.stop()).toBe(0);
    socat.kill();
    rmSync(sockDir, { recursive: true, force: true });
  }
}, 30_000);
