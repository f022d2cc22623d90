// Every command that connects is wired by one function (src/cli/serve.ts): here the ssh-style
// command, `fwd run` and `fwd up`, each against the real sshd, get the same status page (its lines,
// its token, gone at the end), the same refusal of --status-open-metrics without a page, SIGHUP as
// each means it, and the same clean exit 0 on SIGINT; `fwd check` says ✗ for a failed start and,
// stopped by SIGINT while connecting, stops in JavaScript and exits with the shell's 130.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runFwd, runFwdToEnd } from "../harness/fwd.ts";
import { exchange, freePort, startEcho } from "../harness/net.ts";
import { startSshd, type Sshd } from "../harness/sshd.ts";

let sshd: Sshd;
let echo: Awaited<ReturnType<typeof startEcho>>;
let home: string;
beforeAll(async () => {
  [sshd, echo] = await Promise.all([startSshd(), startEcho()]);
  // fwd up's folder: 0700 all the way (fwd refuses folders others can write).
  home = mkdtempSync(join(tmpdir(), "fwd-serve-home-"));
  const dir = join(home, ".config", "fwd", "scenarios");
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  for (const d of [join(home, ".config"), join(home, ".config", "fwd"), dir]) chmodSync(d, 0o700);
  const file = join(dir, "legacy.toml");
  writeFileSync(file, `plugin = "secure-legacy"\n[options]\n${Object.entries(legacy()).map(([k, v]) => `${k} = "${v}"`).join("\n")}\n`, { mode: 0o600 });
}, 30_000);
afterAll(async () => {
  await Promise.all([sshd?.stop(), echo?.close()]);
  rmSync(home, { recursive: true, force: true });
});

const ssh = () => ["-F", "none", "-o", `UserKnownHostsFile=${sshd.knownHosts}`, "-o", "StrictHostKeyChecking=yes", "-o", "IdentitiesOnly=yes"];
/** secure-legacy's rsh: one local port to the echo server through sshd, a probe that only connects. */
const legacy = () => ({ bastion: `${sshd.user}@127.0.0.1:${sshd.port}`, identity: sshd.clientKey, protocol: "rsh", target: `127.0.0.1:${echo.port}`, listen: "127.0.0.1:0" });

const COMMANDS: { name: string; args: () => string[]; hangup: RegExp }[] = [
  { name: "fwd -L", args: () => [...ssh(), "-i", sshd.clientKey, "-p", String(sshd.port), "-N", "-L", `127.0.0.1:0:127.0.0.1:${echo.port}`, `${sshd.user}@127.0.0.1`], hangup: /^SIGHUP: reconnecting now$/ },
  { name: "fwd run", args: () => ["run", "secure-legacy", ...Object.entries(legacy()).flatMap(([k, v]) => [`--${k}`, v]), ...ssh()], hangup: /^SIGHUP: reconnecting now$/ },
  { name: "fwd up", args: () => ["up", ...ssh()], hangup: /^SIGHUP: reading \S+ again$/ },
];

describe("the same wiring for every command", () => {
  for (const c of COMMANDS) {
    test(`${c.name}: the status page, its token, SIGHUP, and SIGINT's clean exit`, async () => {
      const fwd = runFwd([...c.args(), "--status", "127.0.0.1:0"], { env: { HOME: home } });
      try {
        const line = await fwd.waitFor(/^status http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]+$/);
        const url = new URL(line.slice("status ".length));
        const info = await fwd.waitFor(/^status page: every request needs its token; .* in \S+\.token$/);
        const tokenFile = /in (\S+\.token)$/.exec(info)![1]!;
        expect(existsSync(tokenFile)).toBe(true);
        const listening = await fwd.waitFor(/listening 127\.0\.0\.1:\d+ -> 127\.0\.0\.1:\d+$/);
        const port = Number(/127\.0\.0\.1:(\d+) ->/.exec(listening)![1]);
        expect((await exchange(port, "through")).reply.toString()).toBe("through");
        const token = url.searchParams.get("token")!;
        const res = await fetch(new URL("/api/v1/status", url.origin), { headers: { authorization: `Bearer ${token}` } });
        expect(res.status).toBe(200);
        const snap = (await res.json()) as { forwards: unknown[] };
        expect(snap.forwards.length).toBe(1);
        expect((await fetch(new URL("/api/v1/status", url.origin))).status).toBe(401);

        fwd.proc.kill("SIGHUP");
        await fwd.waitFor(c.hangup);
        expect(await fwd.stop("SIGINT")).toBe(0);
        expect(existsSync(tokenFile)).toBe(false);
        expect(await fetch(url.origin).then(() => "answered", () => "refused")).toBe("refused");
      } finally {
        await fwd.stop("SIGKILL");
      }
    }, 30_000);

    test(`${c.name}: --status-open-metrics without a page is refused, exit 2`, async () => {
      const r = await runFwdToEnd([...c.args(), "--status-open-metrics"], { env: { HOME: home } });
      expect(r.stderr).toContain("fwd: --status-open-metrics: no status page to open\n  hint: give --status [address:]port too");
      expect(r.code).toBe(2);
    }, 20_000);
  }
});

describe("fwd check through the same wiring", () => {
  const check = (bastion: string) => ["check", "secure-legacy", ...Object.entries({ ...legacy(), bastion }).flatMap(([k, v]) => [`--${k}`, v]), ...ssh()];

  test("a failed start: ✗ ssh with the reason, then the error; exit 3", async () => {
    const port = await freePort();
    const r = await runFwdToEnd(check(`${sshd.user}@127.0.0.1:${port}`), { env: { HOME: home } });
    expect(r.stdout).toMatch(new RegExp(`^✗ ssh: ${sshd.user}@127\\.0\\.0\\.1:${port}: .*refused`));
    expect(r.stderr).toMatch(/^fwd: .*refused/m);
    expect(r.code).toBe(3);
  }, 20_000);

  test("SIGINT while connecting: a clean stop, exit 130 (the shell's code), nothing printed as passed", async () => {
    // A server that takes the connection and never says a word: fwd waits in the SSH handshake.
    const held: net.Socket[] = [];
    let connected!: () => void;
    const arrived = new Promise<void>((r) => (connected = r));
    const silent = net.createServer((s) => (held.push(s), connected()));
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
    try {
      const fwd = runFwd(check(`${sshd.user}@127.0.0.1:${(silent.address() as net.AddressInfo).port}`), { env: { HOME: home } });
      await arrived;
      // Exited by itself with 130: the default action would show as killed by the signal (128 here).
      expect(await fwd.stop("SIGINT")).toBe(130);
      expect(fwd.stdout.join("\n")).not.toContain("✓");
    } finally {
      for (const s of held) s.destroy();
      await new Promise((r) => silent.close(r));
    }
  }, 20_000);
});
