// The status page against another local user and against its own secrets: a real fwd running a -D
// proxy with a SOCKS password through a real sshd. uid nobody (runuser) gets 401 from every endpoint;
// with the token (Bearer, or the cookie the printed URL sets, kept in curl's cookie jar) everything
// answers, and the password appears nowhere: not in any body, the log, --json output or --dry-run.
// Then the page's bounds: a limit on live readers, and idle keep-alive connections closed.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { curl } from "../harness/curl.ts";
import { runFwd, runFwdToEnd, type FwdProcess } from "../harness/fwd.ts";
import { startEcho, startHttp } from "../harness/net.ts";
import { startSshd, type Sshd } from "../harness/sshd.ts";

const ROOT = join(import.meta.dir, "..", "..");
const REDACTED = "••••••";
const PASSWORD = `pw-${randomBytes(12).toString("hex")}`;
const API_TOKEN = `tk-${randomBytes(12).toString("hex")}`;
const ENDPOINTS = ["/", "/app.js", "/app.css", "/api/v1/status", "/api/v1/history", "/api/v1/events", "/metrics", "/no-such-page"];

let sshd: Sshd;
let web: Awaited<ReturnType<typeof startHttp>>;
let dir: string;
let fwd: FwdProcess;
let loginUrl: string;
let base: string;
let port: string;
let token: string;
let tokenFile: string;

beforeAll(async () => {
  sshd = await startSshd();
  web = await startHttp();
  dir = mkdtempSync(join(tmpdir(), "fwd-status-sec-"));
  const pw = join(dir, "socks-password");
  writeFileSync(pw, PASSWORD + "\n", { mode: 0o600 });
  fwd = runFwd([...sshd.clientArgs, "-v", "-D", "0", "--socks-user", "alice", "--socks-password-file", pw, "--status", "127.0.0.1:0", sshd.host]);
  loginUrl = /^status (http:\S+)$/.exec(await fwd.waitFor(/^status http:/))![1]!;
  tokenFile = /token in (\S+)$/.exec(await fwd.waitFor(/Bearer with the token in /))![1]!;
  token = readFileSync(tokenFile, "utf8").trim();
  base = loginUrl.replace(/\?.*$/, "");
  port = new URL(base).port;
  await fwd.waitFor(/: connected$/);
  await fwd.waitFor(/^listening /);
  // One request through the proxy with the password, so the page has a destination to show.
  const through = await curl(["--proxy", `socks5h://alice:${PASSWORD}@127.0.0.1:${fwd.ports[0]}`, `http://localhost:${web.port}/seen`]);
  expect(through.stdout).toBe("hello /seen via 127.0.0.1");
});
afterAll(async () => {
  await fwd?.stop();
  await web?.close();
  await sshd?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** curl as uid nobody: another local user on this machine. Prints the body, then the status code. */
function asNobody(args: string[]): Promise<{ code: number; body: string; status: number }> {
  return new Promise((resolve) => {
    const p = spawn("runuser", ["-u", "nobody", "--", "curl", "-sS", "--max-time", "5", "-w", "\n%{http_code}", ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    p.stdout.on("data", (d) => (out += d));
    p.on("close", (code) => {
      const at = out.lastIndexOf("\n");
      resolve({ code: code ?? -1, body: out.slice(0, at), status: Number(out.slice(at + 1)) });
    });
  });
}

describe("another local user", () => {
  test("uid nobody gets 401 from every endpoint and never the password", async () => {
    expect(base).toStartWith("http://127.0.0.1:");
    for (const path of ENDPOINTS) {
      const r = await asNobody([`${base}${path.slice(1)}`]);
      expect(`${path} ${r.status}`).toBe(`${path} 401`);
      expect(r.body).toContain("status page: this needs the token");
      expect(r.body).not.toContain(PASSWORD);
    }
    expect((await asNobody(["-H", "Authorization: Bearer not-the-token", `${base}api/v1/status`])).status).toBe(401);
    expect((await asNobody([`${base}api/v1/status?token=not-the-token`])).status).toBe(401);
    expect((await asNobody(["-H", "Cookie: fwd-token-" + port + "=guess", `${base}api/v1/status`])).status).toBe(401);
    expect((await asNobody(["-X", "POST", `${base}api/v1/sessions/main/reconnect`])).status).toBe(401);
    // Nor can it read the token: the file is the user's alone.
    const cat = await new Promise<number>((r) => spawn("runuser", ["-u", "nobody", "--", "cat", tokenFile], { stdio: "ignore" }).on("close", (c) => r(c ?? -1)));
    expect(cat).not.toBe(0);
  });
});

describe("with the token", () => {
  test("as Authorization: Bearer, every endpoint answers; the spec's password is redacted", async () => {
    const auth = ["-H", `Authorization: Bearer ${token}`];
    const status = await curl([...auth, "-w", "\n%{http_code}", `${base}api/v1/status`]);
    expect(status.stdout).toEndWith("\n200");
    const s = JSON.parse(status.stdout.replace(/\n200$/, ""));
    expect(s.forwards[0].spec.kind).toBe("dynamic");
    expect(s.forwards[0].spec.socks.auth).toEqual({ user: "alice", password: REDACTED });
    const bodies = [status.stdout];
    for (const path of ["/", "/app.js", "/app.css", "/api/v1/history", "/metrics"]) {
      const r = await curl([...auth, "-w", "\n%{http_code}", `${base}${path.slice(1)}`]);
      expect(`${path} ${r.stdout.slice(-3)}`).toBe(`${path} 200`);
      bodies.push(r.stdout);
    }
    expect(JSON.parse(bodies[4]!.replace(/\n200$/, "")).stepMs).toBe(1000);
    expect(bodies.at(-1)).toContain(`fwd_connections_total{forward="-D 0",kind="dynamic"} 1`);
    // The event stream: curl stops it after 2 s (exit 28), by which time it has sent frames.
    const events = await curl([...auth, "-N", `${base}api/v1/events`], 2);
    expect(events.code).toBe(28);
    expect(events.stdout).toStartWith("event: status\ndata: {");
    expect(events.stdout).toContain(`"auth":{"user":"alice","password":"${REDACTED}"}`);
    bodies.push(events.stdout);
    for (const b of bodies) expect(b).not.toContain(PASSWORD);
  });

  test("a Prometheus scrape with the token file (Authorization: Bearer) gets the metrics", async () => {
    const r = await curl(["-H", `Authorization: Bearer ${readFileSync(tokenFile, "utf8").trim()}`, `${base}metrics`]);
    expect(r.stdout).toContain("# TYPE fwd_session_up gauge");
    expect(r.stdout).toContain(`fwd_session_up{session="main",host="${sshd.user}@127.0.0.1:${sshd.port}"} 1`);
  });

  test("the printed URL sets an HttpOnly SameSite=Strict cookie and redirects to the clean URL", async () => {
    const jar = join(dir, "cookies");
    const first = await curl(["-D", "-", "-o", "/dev/null", "-c", jar, loginUrl]);
    const head = first.stdout.toLowerCase();
    expect(head).toStartWith("http/1.1 302");
    expect(head).toContain("\r\nlocation: /\r\n");
    expect(head).toContain(`\r\nset-cookie: fwd-token-${port}=${token.toLowerCase()}; path=/; httponly; samesite=strict\r\n`);
    // The redirect stays on this server whatever the path, and keeps other query parameters.
    const odd = await curl(["-D", "-", "-o", "/dev/null", loginUrl.replace(/\/\?token=/, "//evil.example/?a=1&token=")]);
    expect(odd.stdout.toLowerCase()).toContain("\r\nlocation: /evil.example/?a=1\r\n");
    // A browser's path: follow the redirect with the jar, then the page and the API answer by cookie.
    const page = await curl(["-L", "-b", jar, "-c", jar, "-w", "\n%{http_code} %{url_effective}", loginUrl]);
    expect(page.stdout).toContain("<title>fwd status</title>");
    expect(page.stdout).toEndWith(`\n200 ${base}`);
    const api = await curl(["-b", jar, `${base}api/v1/status`]);
    expect(JSON.parse(api.stdout).forwards[0].spec.socks.auth.password).toBe(REDACTED);
    expect(api.stdout).not.toContain(PASSWORD);
    // An action by cookie must come from the page itself (CSRF: every port of 127.0.0.1 is one site).
    const post = (origin?: string) => curl(["-b", jar, "-X", "POST", "-w", " %{http_code}", ...(origin ? ["-H", `Origin: ${origin}`] : []), `${base}api/v1/connections/999999/close`]);
    expect((await post()).stdout).toEndWith(" 403");
    expect((await post("http://127.0.0.1:9")).stdout).toEndWith(" 403");
    expect((await post(`http://127.0.0.1:${port}`)).stdout).toBe(`{"error":"no such connection"} 404`);
  });

  test("the log (with -v) never carries the password", () => {
    const all = [...fwd.stdout, ...fwd.stderr].join("\n");
    expect(all).toContain(`localhost:${web.port}`);
    expect(all).not.toContain(PASSWORD);
  });
});

describe("scenario options and --dry-run", () => {
  let plugin: string;
  let scenario: string;
  beforeAll(() => {
    plugin = join(dir, "secretive.ts");
    writeFileSync(
      plugin,
      `import { definePlugin, Hop, Listen, Target, v } from ${JSON.stringify(join(ROOT, "src", "index.ts"))};
import { withIdentity } from ${JSON.stringify(join(ROOT, "src", "plugin", "schemas.ts"))};
export default definePlugin({
  name: "secretive",
  summary: "a local forward whose options hold secrets",
  options: v.object({
    bastion: Hop, identity: v.optional(v.string()), target: Target(80), listen: v.optional(Listen, "127.0.0.1:0"),
    password: v.string(), vault: v.optional(v.object({ apiToken: v.string(), note: v.string() })),
  }),
  plan: (o) => ({ sessions: { main: [withIdentity(o.bastion, o.identity)] }, forwards: [{ kind: "local", name: "web", bind: o.listen, target: o.target }] }),
});
`,
    );
    scenario = join(dir, "vaulted.toml");
    writeFileSync(
      scenario,
      `plugin = "secretive"\nname = "vaulted"\n[options]\nbastion = "${sshd.user}@127.0.0.1:${sshd.port}"\nidentity = "${sshd.clientKey}"\ntarget = "127.0.0.1:${web.port}"\npassword = "${PASSWORD}"\n[options.vault]\napiToken = "${API_TOKEN}"\nnote = "visible-note"\n`,
    );
  });
  const ssh = () => ["-F", "none", "-o", `UserKnownHostsFile=${sshd.knownHosts}`, "-o", "StrictHostKeyChecking=yes"];

  test("--dry-run, plain and --json, shows the options with their secrets redacted", async () => {
    for (const json of [false, true]) {
      const r = await runFwdToEnd(["run", "--plugin", plugin, "-f", scenario, "--dry-run", ...(json ? ["--json"] : []), ...ssh()]);
      expect(r.code).toBe(0);
      const out = r.stdout + r.stderr;
      expect(out).toContain("visible-note");
      expect(out).toContain(json ? `\\"password\\":\\"${REDACTED}\\"` : `"password":"${REDACTED}"`);
      expect(out).not.toContain(PASSWORD);
      expect(out).not.toContain(API_TOKEN);
    }
  });

  test("running, the page shows the scenario's options with nested secrets redacted", async () => {
    const p = runFwd(["run", "--plugin", plugin, "-f", scenario, "--status", "127.0.0.1:0", ...ssh()]);
    try {
      const url = /^status (http:\S+)$/.exec(await p.waitFor(/^status http:/))![1]!;
      const t = new URL(url).searchParams.get("token")!;
      await p.waitFor(/^listening /);
      const r = await curl(["-H", `Authorization: Bearer ${t}`, url.replace(/\?.*$/, "api/v1/status")]);
      expect(JSON.parse(r.stdout).scenario.options).toMatchObject({ password: REDACTED, vault: { apiToken: REDACTED, note: "visible-note" } });
      expect(r.stdout).not.toContain(PASSWORD);
      expect(r.stdout).not.toContain(API_TOKEN);
    } finally {
      expect(await p.stop()).toBe(0);
    }
    expect([...p.stdout, ...p.stderr].join("\n")).not.toContain(PASSWORD);
  });
});

describe("--status-open-metrics and fwd demo", () => {
  test("--status-open-metrics opens /metrics, and only /metrics, to other users", async () => {
    const echo = await startEcho();
    const p = runFwd([...sshd.clientArgs, "--status", "127.0.0.1:0", "--status-open-metrics", "-L", `0:127.0.0.1:${echo.port}`, sshd.host]);
    try {
      const url = /^status (http:\S+)$/.exec(await p.waitFor(/^status http:/))![1]!.replace(/\?.*$/, "");
      await p.waitFor(/\/metrics is open to anyone/);
      await p.waitFor(/^listening /);
      const m = await asNobody([`${url}metrics`]);
      expect(m.status).toBe(200);
      expect(m.body).toContain(`fwd_connections_total{forward="-L 0:127.0.0.1:${echo.port}",kind="local"} 0`);
      expect((await asNobody([`${url}api/v1/status`])).status).toBe(401);
      expect((await asNobody(["-X", "POST", `${url}metrics`])).status).toBe(401);
    } finally {
      expect(await p.stop()).toBe(0);
      await echo.close();
    }
  });

  test("fwd demo prints a status URL that opens the page (through the cookie)", async () => {
    const p = runFwd(["demo"]);
    try {
      const url = /^status (http:\S+)$/.exec(await p.waitFor(/^status http:/))![1]!;
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]{32}$/);
      await p.waitFor(/^open http:/);
      const jar = join(dir, "demo-cookies");
      const r = await curl(["-L", "-b", jar, "-c", jar, "-w", "\n%{http_code}", url]);
      expect(r.stdout).toContain("<title>fwd status</title>");
      expect(r.stdout).toEndWith("\n200");
      expect((await curl(["-w", "%{http_code}", "-o", "/dev/null", url.replace(/\?.*$/, "")])).stdout).toBe("401");
    } finally {
      expect(await p.stop()).toBe(0);
    }
  });
});

describe("bounds", () => {
  let p: FwdProcess;
  let bport: number;
  let btoken: string;
  beforeAll(async () => {
    const echo = await startEcho();
    p = runFwd([...sshd.clientArgs, "--status", "127.0.0.1:0", "-L", `0:127.0.0.1:${echo.port}`, sshd.host], {
      env: { FWD_STATUS_MAX_READERS: "2", FWD_STATUS_IDLE_TIMEOUT: "5" },
    });
    const url = new URL(/^status (http:\S+)$/.exec(await p.waitFor(/^status http:/))![1]!);
    bport = Number(url.port);
    btoken = url.searchParams.get("token")!;
    await p.waitFor(/^listening /);
    p.exited.then(() => echo.close());
  });
  afterAll(async () => {
    await p?.stop();
  });
  /** A live reader, once the server has a free place (it frees one when it sees a client leave). */
  async function reader() {
    const deadline = Date.now() + 5_000;
    for (;;) {
      const r = await rawHttp(bport, "/api/v1/events", btoken);
      await r.until(() => /\r\n\r\n./s.test(r.text()));
      if (!r.text().startsWith("HTTP/1.1 503") || Date.now() > deadline) return r;
      r.socket.destroy();
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  test("more live readers than the limit get 503 with the reason; a reader leaving frees its place", async () => {
    const a = await rawHttp(bport, "/api/v1/events", btoken);
    const b = await rawHttp(bport, "/api/v1/events", btoken);
    try {
      await a.until(() => a.text().includes("event: status"));
      await b.until(() => b.text().includes("event: status"));
      expect(a.text()).toStartWith("HTTP/1.1 200");
      const c = await rawHttp(bport, "/api/v1/events", btoken);
      await c.until(() => c.text().includes("\r\n\r\n{"));
      expect(c.text()).toStartWith("HTTP/1.1 503");
      expect(c.text()).toContain(`{"error":"status page: too many live readers (2 open, the limit): close a tab, or poll /api/v1/status"}`);
      c.socket.destroy();
      a.socket.destroy();
      // Once the server has seen a's close, a new reader gets in.
      const d = await reader();
      expect(d.text()).toStartWith("HTTP/1.1 200");
      d.socket.destroy();
    } finally {
      a.socket.destroy();
      b.socket.destroy();
    }
  });

  test("an idle keep-alive connection is closed by the server; a live event stream is not", async () => {
    const stream = await reader();
    const idle = await rawHttp(bport, "/api/v1/status", btoken);
    try {
      await idle.until(() => /\r\n\r\n\{.*\}$/s.test(idle.text()));
      expect(idle.text()).toStartWith("HTTP/1.1 200");
      // 5 s, in Bun's 4 s steps: closed 4-8 s after the response.
      await idle.until(() => idle.closed, 12_000);
      // The stream outlived the idle connection and still gets frames after it closed.
      const frames = () => stream.text().split("event: status").length - 1;
      const seen = frames();
      await stream.until(() => frames() > seen + 1);
      expect(stream.closed).toBe(false);
    } finally {
      stream.socket.destroy();
      idle.socket.destroy();
    }
  }, 20_000);
});

/** One HTTP/1.1 request (keep-alive) on a raw socket, collecting whatever comes back. */
async function rawHttp(port: number, path: string, token: string) {
  const socket = net.connect(port, "127.0.0.1");
  await new Promise((r) => socket.once("connect", r));
  let got = "";
  let closed = false;
  const waiters = new Set<() => void>();
  socket.on("data", (d) => ((got += d), waiters.forEach((w) => w())));
  socket.on("close", () => ((closed = true), waiters.forEach((w) => w())));
  socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAuthorization: Bearer ${token}\r\n\r\n`);
  return {
    socket,
    text: () => got,
    get closed() {
      return closed;
    },
    until(ok: () => boolean, timeoutMs = 5_000): Promise<void> {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (ok()) return done(resolve);
          if (closed) return done(() => reject(new Error(`closed before the condition held:\n${got.slice(0, 500)}`)));
        };
        const timer = setTimeout(() => done(() => reject(new Error(`not within ${timeoutMs} ms:\n${got.slice(0, 500)}`))), timeoutMs);
        const done = (f: () => void) => {
          clearTimeout(timer);
          waiters.delete(check);
          f();
        };
        waiters.add(check);
        check();
      });
    },
  };
}
