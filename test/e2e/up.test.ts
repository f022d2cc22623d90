// `fwd up`: many scenarios in one process against a real sshd — a broken file named while the others
// run, shared sessions, one status API, SIGHUP reloads that leave unchanged scenarios' connections
// alone, and live forwards added and cancelled through the status API.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runFwd, runFwdToEnd, type FwdProcess } from "../harness/fwd.ts";
import { exchange, startEcho } from "../harness/net.ts";
import { startSshd, type Sshd } from "../harness/sshd.ts";

let sshd: Sshd;
let echo: Awaited<ReturnType<typeof startEcho>>;
let echo2: Awaited<ReturnType<typeof startEcho>>;
const homes: string[] = [];
beforeAll(async () => {
  [sshd, echo, echo2] = await Promise.all([startSshd(), startEcho(), startEcho()]);
}, 30_000);
afterAll(async () => {
  await Promise.all([sshd?.stop(), echo?.close(), echo2?.close()]);
  for (const h of homes) rmSync(h, { recursive: true, force: true });
});

const ssh = () => ["-F", "none", "-o", `UserKnownHostsFile=${sshd.knownHosts}`, "-o", "StrictHostKeyChecking=yes", "-o", "IdentitiesOnly=yes"];

/** A home of its own with ~/.config/fwd/scenarios, 0700 all the way (fwd refuses folders others can write). */
function makeHome(): { home: string; dir: string } {
  const home = mkdtempSync(join(tmpdir(), "fwd-up-home-"));
  homes.push(home);
  const dir = join(home, ".config", "fwd", "scenarios");
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  for (const d of [join(home, ".config"), join(home, ".config", "fwd"), dir]) chmodSync(d, 0o700);
  return { home, dir };
}

/** A scenario carrying one local port to `port` through the test sshd (secure-legacy's rsh: its probe only connects). */
function scenario(dir: string, file: string, port: number, extra = ""): void {
  const path = join(dir, `${file}.toml`);
  writeFileSync(
    path,
    `plugin = "secure-legacy"\n${extra}[options]\nbastion = "${sshd.user}@127.0.0.1:${sshd.port}"\nidentity = "${sshd.clientKey}"\nprotocol = "rsh"\ntarget = "127.0.0.1:${port}"\nlisten = "127.0.0.1:0"\n`,
    { mode: 0o600 },
  );
  chmodSync(path, 0o600);
}

/** The port of `[name] listening 127.0.0.1:PORT -> …` (to `target` when given). */
async function portOf(fwd: FwdProcess, name: string, target?: number): Promise<number> {
  const re = new RegExp(`^\\[${name}\\] listening 127\\.0\\.0\\.1:(\\d+) -> 127\\.0\\.0\\.1:${target ?? "\\d+"}$`);
  return Number(re.exec(await fwd.waitFor(re))![1]);
}

/** A connection that echoes line by line while it stays open. */
async function openEcho(port: number) {
  const s = net.connect(port, "127.0.0.1");
  await new Promise((r, j) => s.once("connect", r).once("error", j));
  return {
    s,
    say: (text: string) =>
      new Promise<string>((resolve, reject) => {
        s.once("data", (d) => resolve(d.toString()));
        s.once("error", reject);
        s.write(text);
      }),
  };
}

async function api(fwd: FwdProcess, home: string, path: string, init: RequestInit = {}) {
  const line = await fwd.waitFor(/^status http:/);
  const url = new URL(line.slice("status ".length));
  const token = url.searchParams.get("token")!;
  const res = await fetch(new URL(path, url.origin), { ...init, headers: { authorization: `Bearer ${token}`, "content-type": "application/json", ...(init.headers ?? {}) } });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}

describe("fwd up", () => {
  test("three scenarios, one broken: the two good ones serve, the bad file is named, one session, one status API", async () => {
    const { home, dir } = makeHome();
    scenario(dir, "alpha", echo.port);
    scenario(dir, "beta", echo2.port);
    writeFileSync(join(dir, "gamma.toml"), `plugin = "secure-legacy"\n[options]\nprotocol = "gopher"\n`, { mode: 0o600 });
    const fwd = runFwd(["up", "--status", "127.0.0.1:0", ...ssh()], { env: { HOME: home } });
    try {
      const [a, b] = [await portOf(fwd, "alpha"), await portOf(fwd, "beta")];
      expect((await exchange(a, "to alpha")).reply.toString()).toBe("to alpha");
      expect((await exchange(b, "to beta")).reply.toString()).toBe("to beta");
      // One report for the whole file (every problem in it), named by its path.
      await fwd.waitFor(new RegExp(`^fwd: ${join(dir, "gamma.toml").replace(/[.]/g, "\\.")}:$`));
      expect(fwd.stderr.join("\n")).toMatch(/→ at options\.protocol/);
      await fwd.waitFor(/up: started alpha, beta; 1 file with problems/);

      const s = await api(fwd, home, "/api/v1/status");
      expect(s.status).toBe(200);
      // Same user, host, port, key and options: both scenarios ride on one session.
      expect(s.body.sessions.length).toBe(1);
      expect(s.body.forwards.map((f: any) => f.spec.id).sort()).toEqual(["alpha/rsh", "beta/rsh"]);
      const byName = Object.fromEntries(s.body.scenarios.map((x: any) => [x.name, x]));
      expect(byName.alpha).toMatchObject({ state: "running", plugin: "secure-legacy", forwards: ["alpha/rsh"], file: join(dir, "alpha.toml") });
      expect(byName.beta.sessions).toEqual(byName.alpha.sessions);
      expect(byName.gamma).toMatchObject({ state: "failed", file: join(dir, "gamma.toml") });
      expect(byName.gamma.error).toContain("protocol");

      const st = await runFwdToEnd(["status"], { env: { HOME: home } });
      expect(st.stdout).toContain(`scenario alpha: running (secure-legacy), 1 forward`);
      expect(st.stdout).toMatch(/scenario gamma: failed, 0 forwards — .*protocol/);
      expect(st.code).toBe(7);
    } finally {
      expect(await fwd.stop()).toBe(0);
    }
  }, 45_000);

  test("SIGHUP: a new file starts, a removed one stops, a changed one restarts; the unchanged one keeps its connection", async () => {
    const { home, dir } = makeHome();
    scenario(dir, "keep", echo.port);
    scenario(dir, "gone", echo.port);
    scenario(dir, "change", echo.port);
    const fwd = runFwd(["up", ...ssh()], { env: { HOME: home } });
    try {
      const keep = await portOf(fwd, "keep");
      const gone = await portOf(fwd, "gone");
      const change = await portOf(fwd, "change");
      const held = await openEcho(keep);
      expect(await held.say("before")).toBe("before");
      const changedConn = await openEcho(change);
      expect(await changedConn.say("old")).toBe("old");
      const cut = new Promise((r) => changedConn.s.once("close", r));

      unlinkSync(join(dir, "gone.toml"));
      scenario(dir, "change", echo2.port, 'description = "now to the second echo"\n');
      scenario(dir, "fresh", echo2.port);
      writeFileSync(join(dir, "broken.toml"), "plugin = [", { mode: 0o600 });
      fwd.proc.kill("SIGHUP");
      await fwd.waitFor(/^started fresh; stopped gone; restarted change; unchanged keep; 1 file with problems/);
      expect(fwd.stderr.join("\n")).toContain(`${join(dir, "broken.toml")}:1:10: not valid TOML`);

      await expect(exchange(gone, "x")).rejects.toThrow(/ECONNREFUSED/);
      await cut; // the changed scenario's connection went with its old version
      const fresh = await portOf(fwd, "fresh");
      const changed = await portOf(fwd, "change", echo2.port);
      expect((await exchange(fresh, "new")).reply.toString()).toBe("new");
      expect((await exchange(changed, "moved")).reply.toString()).toBe("moved");
      // Through all of it, the unchanged scenario's connection kept echoing.
      expect(await held.say("after")).toBe("after");
      expect((await exchange(keep, "again")).reply.toString()).toBe("again");
      held.s.destroy();
    } finally {
      expect(await fwd.stop()).toBe(0);
    }
  }, 45_000);

  test("fwd forward add/cancel and fwd reload change the running fwd through its status API", async () => {
    const { home, dir } = makeHome();
    scenario(dir, "base", echo.port);
    const fwd = runFwd(["up", "--status", "127.0.0.1:0", ...ssh()], { env: { HOME: home } });
    const cli = (...args: string[]) => runFwdToEnd(args, { env: { HOME: home } });
    try {
      const base = await portOf(fwd, "base");
      await fwd.waitFor(/^status http:/);
      const held = await openEcho(base);
      expect(await held.say("one")).toBe("one");

      const added = await cli("forward", "add", "-L", `127.0.0.1:0:127.0.0.1:${echo2.port}`, "--via", "base");
      expect(added.stderr).toBe("");
      const m = /^added -L 127\.0\.0\.1:0:127\.0\.0\.1:\d+: listening 127\.0\.0\.1:(\d+)$/.exec(added.stdout);
      expect(m).not.toBeNull();
      expect(added.code).toBe(0);
      const live = Number(m![1]);
      expect((await exchange(live, "live")).reply.toString()).toBe("live");

      // The open-proxy rule holds for a live -D as at start.
      const open = await cli("forward", "add", "-D", "0.0.0.0:0");
      expect(open.stderr).toContain("-D 0.0.0.0:0: refusing to start an open SOCKS proxy here");
      expect(open.code).toBe(2);
      // Without the token: refused.
      const url = (await fwd.waitFor(/^status http:/)).slice("status ".length).replace(/\?token=.*/, "");
      const anon = await fetch(new URL("/api/v1/forwards", url), { method: "POST", body: JSON.stringify({ kind: "L", spec: "0:127.0.0.1:1" }) });
      expect(anon.status).toBe(401);

      const cancelled = await cli("forward", "cancel", `127.0.0.1:0:127.0.0.1:${echo2.port}`);
      expect(cancelled.stdout).toBe(`cancelled -L 127.0.0.1:0:127.0.0.1:${echo2.port}`);
      expect(cancelled.code).toBe(0);
      await expect(exchange(live, "x")).rejects.toThrow(/ECONNREFUSED/);
      const missing = await cli("forward", "cancel", "-L", "9:9:9");
      expect(missing.stderr).toContain("forward cancel: no forward '-L 9:9:9'");

      scenario(dir, "second", echo2.port);
      const reloaded = await cli("reload");
      expect(reloaded.stdout).toBe("reloaded: started second; stopped none; restarted none; unchanged base");
      expect(reloaded.code).toBe(0);
      expect((await exchange(await portOf(fwd, "second"), "2")).reply.toString()).toBe("2");
      expect(await held.say("two")).toBe("two");
      held.s.destroy();
    } finally {
      expect(await fwd.stop()).toBe(0);
    }
  }, 45_000);

  test("the plain command takes live forwards too; a cookie without this page's Origin may not", async () => {
    const fwd = runFwd(["-N", "-L", `127.0.0.1:0:127.0.0.1:${echo.port}`, "--status", "127.0.0.1:0", ...ssh(), "-i", sshd.clientKey, `${sshd.user}@127.0.0.1`, "-p", String(sshd.port)]);
    try {
      const held = await openEcho(fwd.ports[0] ?? Number(/:(\d+) -> /.exec(await fwd.waitFor(/^listening /))![1]));
      expect(await held.say("a")).toBe("a");
      const url = new URL((await fwd.waitFor(/^status http:/)).slice("status ".length));
      const token = url.searchParams.get("token")!;
      const body = JSON.stringify({ kind: "L", spec: `127.0.0.1:0:127.0.0.1:${echo2.port}` });
      const forged = await fetch(new URL("/api/v1/forwards", url.origin), { method: "POST", body, headers: { cookie: `fwd-token-${url.port}=${token}`, "content-type": "application/json" } });
      expect(forged.status).toBe(403);
      const big = await fetch(new URL("/api/v1/forwards", url.origin), { method: "POST", body: "x".repeat(5000), headers: { authorization: `Bearer ${token}` } });
      expect(big.status).toBe(400);
      expect(((await big.json()) as { error: string }).error).toBe("status api: body over 4096 bytes");
      const noReload = await fetch(new URL("/api/v1/reload", url.origin), { method: "POST", headers: { authorization: `Bearer ${token}` } });
      expect(noReload.status).toBe(404);
      const added = await runFwdToEnd(["forward", "add", "-L", `127.0.0.1:0:127.0.0.1:${echo2.port}`, "--to", url.href]);
      expect(added.code).toBe(0);
      const live = Number(/listening 127\.0\.0\.1:(\d+)$/.exec(added.stdout)![1]);
      expect((await exchange(live, "plain")).reply.toString()).toBe("plain");
      expect(await held.say("b")).toBe("b");
      held.s.destroy();
    } finally {
      expect(await fwd.stop()).toBe(0);
    }
  }, 30_000);

  test("a key the server refuses and a port in use stop only their own scenarios", async () => {
    const { home, dir } = makeHome();
    scenario(dir, "fine", echo.port);
    scenario(dir, "locked", echo.port);
    // Another key: the server refuses it (the sshd's own host key, 0600, never in authorized_keys).
    const locked = join(dir, "locked.toml");
    writeFileSync(locked, readFileSync(locked, "utf8").replace(sshd.clientKey, join(sshd.dir, "host_key")), { mode: 0o600 });
    scenario(dir, "taken", echo.port);
    const taken = join(dir, "taken.toml");
    writeFileSync(taken, readFileSync(taken, "utf8").replace('listen = "127.0.0.1:0"', `listen = "127.0.0.1:${echo.port}"`), { mode: 0o600 });
    const fwd = runFwd(["up", ...ssh()], { env: { HOME: home } });
    try {
      const fine = await portOf(fwd, "fine");
      await fwd.waitFor(/^up: started fine; 2 files with problems/);
      const err = fwd.stderr.join("\n");
      expect(err).toContain(`fwd: ${locked}: `);
      expect(err).toMatch(/authentication|refused|denied/i);
      expect(err).toContain(`fwd: ${taken}: taken/rsh: bind 127.0.0.1:${echo.port}: address in use`);
      expect((await exchange(fine, "still fine")).reply.toString()).toBe("still fine");
    } finally {
      expect(await fwd.stop()).toBe(0);
    }
  }, 30_000);

  test("a scenarios folder others can write: its files are refused, and with nothing to run fwd up exits 2", async () => {
    const { home, dir } = makeHome();
    scenario(dir, "open", echo.port);
    chmodSync(dir, 0o777);
    const r = await runFwdToEnd(["up", ...ssh()], { env: { HOME: home } });
    expect(r.stderr).toContain(join(dir, "open.toml"));
    expect(r.stderr).toContain(`directory ${dir} is writable by group and others (mode 0777)`);
    expect(r.code).toBe(2);
  }, 30_000);
});
