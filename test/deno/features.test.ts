// fwd UNDER DENO against a real OpenSSH sshd, the parts around the tunnels: a recipe run with its
// probe (and real ssh through the port it opens), the status API with its token, its event stream and
// its idle bound (node:http under Deno, see src/runtime/node-http.ts), a user plugin loaded by path,
// and a refused host key. Run by `npm run test:deno`.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import net from "node:net";
import { join } from "node:path";
import { curl } from "../harness/curl.ts";
import { runFwd, runFwdToEnd, type FwdRunOptions } from "../harness/fwd.ts";
import { exchange, startEcho } from "../harness/net.ts";
import { startSshd, type Sshd } from "../harness/sshd.ts";

const DENO: FwdRunOptions = { runtime: "deno" };
let sshd: Sshd;
let dir: string;
beforeAll(async () => {
  sshd = await startSshd();
  dir = mkdtempSync(join(tmpdir(), "fwd-deno-"));
});
afterAll(async () => {
  await sshd?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** ssh settings for a recipe's hop: this test's known_hosts, nothing from the user's config. */
const ssh = () => ["-F", "none", "-o", `UserKnownHostsFile=${sshd.knownHosts}`, "-o", "StrictHostKeyChecking=yes", "-i", sshd.clientKey];
const bastion = () => ["--bastion", `${sshd.user}@127.0.0.1:${sshd.port}`];

describe("fwd under Deno", () => {
  test("fwd run ssh-via-bastion: the probe's verdict, and real ssh through the port it opened", async () => {
    const fwd = runFwd(["run", "ssh-via-bastion", ...bastion(), "--host", `127.0.0.1:${sshd.port}`, "--listen", "127.0.0.1:0", ...ssh()], DENO);
    try {
      await fwd.waitFor(/probe ok: SSH answered: SSH-2\.0-OpenSSH/);
      const known = join(dir, "known_through");
      writeFileSync(known, `[127.0.0.1]:${fwd.ports[0]} ${sshd.hostKeyPub}\n`);
      const r = spawnSync("ssh", ["-F", "none", "-p", String(fwd.ports[0]), "-i", sshd.clientKey, "-o", `UserKnownHostsFile=${known}`, "-o", "StrictHostKeyChecking=yes", `${sshd.user}@127.0.0.1`, "echo through fwd on deno"], { encoding: "utf8", timeout: 15_000 });
      expect(r.stdout).toBe("through fwd on deno\n");
      expect(r.status).toBe(0);
    } finally {
      expect(await fwd.stop()).toBe(0);
    }
  }, 30_000);

  test("status API: 401 without the token; with it (Bearer), exact counts, metrics and the event stream", async () => {
    const echo = await startEcho();
    const home = join(dir, "status-home");
    const fwd = runFwd([...sshd.clientArgs, "--status", "127.0.0.1:0", "-L", `0:127.0.0.1:${echo.port}`, sshd.host], { ...DENO, env: { HOME: home } });
    try {
      const login = /(http:\S+)/.exec(await fwd.waitFor(/^status http:/))![1]!;
      await fwd.waitFor(/^listening /);
      const token = new URL(login).searchParams.get("token")!;
      const tokenFile = /token in (\S+)$/.exec(await fwd.waitFor(/Bearer with the token in /))![1]!;
      expect(readFileSync(tokenFile, "utf8").trim()).toBe(token);
      const base = login.replace(/\?.*$/, "");
      const auth = { authorization: `Bearer ${token}` };

      expect((await fetch(`${base}api/v1/status`)).status).toBe(401);
      expect((await fetch(`${base}api/v1/status`, { headers: { authorization: "Bearer not-the-token" } })).status).toBe(401);
      for (let i = 0; i < 3; i++) expect((await exchange(fwd.ports[0]!, "y".repeat(700))).reply.length).toBe(700);
      type Snapshot = { sessions: { state: string }[]; forwards: { spec: { id: string }; stats: { open: number; total: number; bytesUp: number; bytesDown: number } }[] };
      const snapshot = async () => (await (await fetch(`${base}api/v1/status`, { headers: auth })).json()) as Snapshot;
      const deadline = Date.now() + 5_000;
      let s = await snapshot();
      while (s.forwards[0]!.stats.open > 0 && Date.now() < deadline) s = await snapshot();
      expect(s.sessions[0]!.state).toBe("up");
      expect(s.forwards[0]!.stats).toMatchObject({ open: 0, total: 3, bytesUp: 2100, bytesDown: 2100 });
      const metrics = await (await fetch(`${base}metrics`, { headers: auth })).text();
      expect(metrics).toContain(`fwd_connections_total{forward="${s.forwards[0]!.spec.id}",kind="local"} 3`);

      // A stream that stays open: curl's --max-time ends it (exit 28) after the first event came.
      const events = await curl(["-N", "-H", `Authorization: Bearer ${token}`, `${base}api/v1/events`], 2);
      expect(events.code).toBe(28);
      expect(events.stdout).toStartWith("event: status\ndata: {");

      const shown = await runFwdToEnd(["status", login], DENO);
      expect(shown.stdout).toContain(`session main: ${sshd.user}@127.0.0.1:${sshd.port} up`);
      expect(shown.code).toBe(0);
    } finally {
      expect(await fwd.stop()).toBe(0);
      await echo.close();
    }
  }, 30_000);

  test("status page: an idle keep-alive connection is closed by the server; a live event stream is not", async () => {
    const home = join(dir, "idle-home");
    const fwd = runFwd([...sshd.clientArgs, "--status", "127.0.0.1:0", "-L", "0:127.0.0.1:9", sshd.host], { ...DENO, env: { HOME: home, FWD_STATUS_IDLE_TIMEOUT: "5" } });
    const sockets: net.Socket[] = [];
    try {
      const login = new URL(/(http:\S+)/.exec(await fwd.waitFor(/^status http:/))![1]!);
      const token = login.searchParams.get("token")!;
      const raw = (path: string) => {
        const s = net.connect(Number(login.port), "127.0.0.1");
        sockets.push(s);
        const got = { text: "", closed: false };
        s.on("data", (d) => (got.text += d));
        s.on("close", () => (got.closed = true));
        s.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${login.port}\r\nAuthorization: Bearer ${token}\r\n\r\n`);
        return got;
      };
      const until = async (ok: () => boolean, ms: number) => {
        const deadline = Date.now() + ms;
        while (!ok()) {
          if (Date.now() > deadline) throw new Error(`not within ${ms} ms`);
          await new Promise((r) => setTimeout(r, 50));
        }
      };
      const stream = raw("/api/v1/events");
      const idle = raw("/api/v1/status");
      await until(() => /\r\n\r\n\{.*\}$/s.test(idle.text), 5_000);
      expect(idle.text).toStartWith("HTTP/1.1 200");
      expect(idle.text).toMatch(/\r\ncontent-length: \d+\r\n/i);
      await until(() => idle.closed, 10_000);
      // The stream outlived the idle connection and still gets frames after it closed.
      const frames = () => stream.text.split("event: status").length - 1;
      const seen = frames();
      await until(() => frames() > seen + 1, 5_000);
      expect(stream.closed).toBe(false);
    } finally {
      for (const s of sockets) s.destroy();
      expect(await fwd.stop()).toBe(0);
    }
  }, 30_000);

  test("a user plugin from `fwd plugin new`, loaded by path, runs with its probe and a real tunnel", async () => {
    const pdir = join(dir, "plugins");
    const made = await runFwdToEnd(["plugin", "new", "echo-service", pdir], DENO);
    expect(made.code).toBe(0);
    const echo = await startEcho();
    const fwd = runFwd(["run", "echo-service", "--plugin", join(pdir, "echo-service.ts"), ...bastion(), "--target", `127.0.0.1:${echo.port}`, ...ssh()], DENO);
    try {
      await fwd.waitFor(/probe ok: connected through the tunnel/);
      expect((await exchange(fwd.ports[0]!, "a plugin on deno")).reply.toString()).toBe("a plugin on deno");
    } finally {
      expect(await fwd.stop()).toBe(0);
      await echo.close();
    }
  }, 30_000);

  test("an unknown host key under StrictHostKeyChecking=yes is refused: exit 5, with its fingerprint", async () => {
    const empty = join(dir, "empty_known_hosts");
    writeFileSync(empty, "");
    const args = sshd.clientArgs.map((a) => (a.startsWith("UserKnownHostsFile=") ? `UserKnownHostsFile=${empty}` : a));
    expect(args).toContain(`UserKnownHostsFile=${empty}`);
    const r = await runFwdToEnd([...args, "-L", "0:127.0.0.1:9", sshd.host], DENO);
    expect(r.stderr).toMatch(/host key not known: ssh-ed25519 SHA256:[A-Za-z0-9+/]{43}/);
    expect(r.stdout).not.toContain("listening");
    expect(r.code).toBe(5);
  });
});
