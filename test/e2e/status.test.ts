// The status page against a running fwd with real traffic through a real sshd: the JSON API and the
// metrics count exactly what was sent, everything needs the token, forged Host headers are refused, and
// the page itself runs in a real headless Chromium from the printed URL (no console errors, numbers
// that move, an action by its cookie), and its charts keep their history across a reload, laid out
// in columns on a desktop and in one column on a phone, with no number broken across lines.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, readFileSync, statSync } from "node:fs";
import net from "node:net";
import { join } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { runFwd, runFwdToEnd, type FwdProcess } from "../harness/fwd.ts";
import { exchange, startEcho } from "../harness/net.ts";
import { startSshd, type Sshd } from "../harness/sshd.ts";

const OUT = join(import.meta.dir, "..", "..", "test-output");
let sshd: Sshd;
let echo: Awaited<ReturnType<typeof startEcho>>;
let fwd: FwdProcess;
let url: string;
let loginUrl: string;
let token: string;
let home: string;

beforeAll(async () => {
  sshd = await startSshd();
  echo = await startEcho();
  home = join(sshd.dir, "home");
  mkdirSync(home, { recursive: true });
  fwd = runFwd([...sshd.clientArgs, "--status", "127.0.0.1:0", "-L", `0:127.0.0.1:${echo.port}`, "-L", `0:localhost:${echo.port}`, sshd.host], { env: { HOME: home } });
  loginUrl = /(http:\S+)/.exec(await fwd.waitFor(/^status http:/))![1]!;
  url = loginUrl.replace(/\?.*$/, "");
  await fwd.waitFor(/^listening /);
  // Two forwards, so the page has two cards to lay out side by side; the second listens just after.
  for (const deadline = Date.now() + 10_000; fwd.ports.length < 2 && Date.now() < deadline; ) await Bun.sleep(20);
  expect(fwd.ports.length).toBe(2);
  const tokenFile = /token in (\S+)$/.exec(await fwd.waitFor(/Bearer with the token in /))![1]!;
  expect(statSync(tokenFile).mode & 0o777).toBe(0o600);
  token = readFileSync(tokenFile, "utf8").trim();
  expect(loginUrl).toBe(`${url}?token=${token}`);
});
afterAll(async () => {
  await fwd?.stop();
  await echo?.close();
  await sshd?.stop();
});

type Snapshot = { sessions: { name: string; state: string; reconnects: number; rttMs?: number }[]; forwards: { spec: { id: string }; stats: { open: number; total: number; bytesUp: number; bytesDown: number } }[] };
const bearer = () => ({ authorization: `Bearer ${token}` });
const status = async () => (await (await fetch(`${url}api/v1/status`, { headers: bearer() })).json()) as Snapshot;

describe("API and metrics", () => {
  test("counts and bytes match what was sent", async () => {
    const before = (await status()).forwards[0]!.stats;
    for (let i = 0; i < 5; i++) expect((await exchange(fwd.ports[0]!, "x".repeat(1000))).reply.length).toBe(1000);
    const deadline = Date.now() + 5_000;
    let s = await status();
    while (s.forwards[0]!.stats.open > 0 && Date.now() < deadline) s = await status();
    const after = s.forwards[0]!.stats;
    expect(after.total - before.total).toBe(5);
    expect(after.bytesUp - before.bytesUp).toBe(5000);
    expect(after.bytesDown - before.bytesDown).toBe(5000);
    expect(s.sessions[0]!.state).toBe("up");
    expect(s.sessions[0]!.rttMs).toBeGreaterThan(0);
    const metrics = await (await fetch(`${url}metrics`, { headers: bearer() })).text();
    const id = s.forwards[0]!.spec.id;
    expect(metrics).toContain(`fwd_session_up{session="main",host="${sshd.user}@127.0.0.1:${sshd.port}"} 1`);
    expect(metrics).toContain(`fwd_connections_total{forward="${id}",kind="local"} ${after.total}`);
    expect(metrics).toContain(`fwd_bytes_total{forward="${id}",kind="local",direction="up"} ${after.bytesUp}`);
  });

  test("fwd status prints the same summary in the terminal", async () => {
    const r = await runFwdToEnd(["status", loginUrl]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`session main: ${sshd.user}@127.0.0.1:${sshd.port} up`);
    expect(r.stdout).toMatch(/local {3}127\.0\.0\.1:\d+ -> 127\.0\.0\.1:\d+: 0 open, \d+ total/);
    const viaLast = await runFwdToEnd(["status"], { env: { HOME: home } });
    expect(viaLast.stdout).toContain("session main:");
    const viaPort = await runFwdToEnd(["status", url], { env: { HOME: home } });
    expect(viaPort.stdout).toContain("session main:");
    const without = await runFwdToEnd(["status", url]);
    expect(without.code).not.toBe(0);
    expect(without.stderr).toContain(`${url}: HTTP 401`);
  });

  test("every response has a strict CSP and no CORS; a forged Host is refused", async () => {
    const r = await fetch(`${url}api/v1/status`, { headers: { origin: "http://evil.example", ...bearer() } });
    expect(r.headers.get("content-security-policy")).toContain("default-src 'none'");
    expect(r.headers.get("access-control-allow-origin")).toBeNull();
    const forged = await rawGet(new URL(url).port, "/api/v1/status", "evil.example");
    expect(forged).toStartWith("HTTP/1.1 403");
    const rebound = await rawGet(new URL(url).port, "/api/v1/status", `attacker.example:${new URL(url).port}`);
    expect(rebound).toStartWith("HTTP/1.1 403");
  });

  test("actions need the token; with it, reconnect, close and stop work", async () => {
    const post = (path: string, auth = true) => fetch(`${url}${path}`, { method: "POST", headers: auth ? { authorization: `Bearer ${token}` } : {} });
    expect((await post("api/v1/sessions/main/reconnect", false)).status).toBe(401);
    expect((await post("api/v1/sessions/main/reconnect")).status).toBe(200);
    await fwd.waitFor(/reconnected after/);
    expect((await status()).sessions[0]!.reconnects).toBe(1);

    const held = net.connect(fwd.ports[0]!, "127.0.0.1");
    await new Promise((r) => held.once("connect", r));
    held.write("hi");
    await new Promise((r) => held.once("data", r));
    const conn = ((await (await fetch(`${url}api/v1/status`, { headers: bearer() })).json()) as { forwards: { connections: { id: number }[] }[] }).forwards[0]!.connections[0]!;
    const closed = new Promise((r) => held.once("close", r));
    expect((await post(`api/v1/connections/${conn.id}/close`, false)).status).toBe(401);
    expect((await post(`api/v1/connections/${conn.id}/close`)).status).toBe(200);
    await closed;
    expect((await post("api/v1/connections/999999/close")).status).toBe(404);
  });
});

describe("the page in Chromium", () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await chromium.launch({
      executablePath: "/usr/bin/chromium",
      args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    });
  });
  afterAll(async () => {
    await browser?.close();
  });

  test("loads with no console errors, shows the forward, and its numbers move with traffic", async () => {
    const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
    const errors: string[] = [];
    page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(loginUrl);
    // The token became a cookie and left the address bar.
    expect(page.url()).toBe(url);
    const card = page.locator(".card[data-forward]");
    await card.first().waitFor();
    expect(await card.first().textContent()).toContain(`127.0.0.1:${echo.port}`);
    await page.locator(".badge.up").first().waitFor();
    const totalOf = async () => Number(/total(\d+)/.exec((await card.first().textContent()) ?? "")?.[1]);
    const before = await totalOf();
    for (let i = 0; i < 3; i++) await exchange(fwd.ports[0]!, "traffic");
    const deadline = Date.now() + 5_000;
    while ((await totalOf()) < before + 3 && Date.now() < deadline) await Bun.sleep(100);
    expect(await totalOf()).toBe(before + 3);
    mkdirSync(OUT, { recursive: true });
    await page.screenshot({ path: join(OUT, "status-page.png"), fullPage: true });
    // An action from the page itself, by its cookie.
    const reconnects = (await status()).sessions[0]!.reconnects;
    await page.locator(".card[data-session] button").first().click();
    const deadline2 = Date.now() + 10_000;
    while ((await status()).sessions[0]!.reconnects === reconnects && Date.now() < deadline2) await Bun.sleep(100);
    expect((await status()).sessions[0]!.reconnects).toBe(reconnects + 1);
    // A button held down while updates arrive (the page redraws every second) still acts on release:
    // a redraw in between would put a new button under the pointer and the click would be lost.
    await page.locator(".badge.up").first().waitFor();
    const box = (await page.locator(".card[data-session] button").first().boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.down();
    await Bun.sleep(2_500);
    await page.mouse.up();
    const deadline3 = Date.now() + 10_000;
    while ((await status()).sessions[0]!.reconnects === reconnects + 1 && Date.now() < deadline3) await Bun.sleep(100);
    expect((await status()).sessions[0]!.reconnects).toBe(reconnects + 2);
    expect(errors).toEqual([]);
    await page.close();
  }, 40_000);

  test("charts keep their history across a reload; cards in columns on a desktop, one column on a phone, no number broken", async () => {
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    const errors: string[] = [];
    page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(loginUrl);
    await page.locator(".card[data-forward] path.line.s-up").first().waitFor({ state: "attached" });
    // A burst through the first forward, then quiet seconds: the burst is history by the time we reload.
    expect((await exchange(fwd.ports[0]!, "x".repeat(200_000))).reply.length).toBe(200_000);
    const id = (await status()).forwards[0]!.spec.id;
    type History = { t: number[]; forwards: { id: string; up: (number | null)[] }[]; sessions: { name: string; rttMs: (number | null)[] }[] };
    const history = async () => (await (await fetch(`${url}api/v1/history`, { headers: bearer() })).json()) as History;
    let h = await history();
    const burstAt = () => h.forwards.find((f) => f.id === id)!.up.findLastIndex((v) => v !== null && v > 0);
    for (const deadline = Date.now() + 10_000; (burstAt() < 0 || h.t.length - burstAt() < 4) && Date.now() < deadline; ) {
      await Bun.sleep(250);
      h = await history();
    }
    expect(h.t.length - burstAt()).toBeGreaterThanOrEqual(4);
    const samples = h.forwards.find((f) => f.id === id)!.up.filter((v) => v !== null).length;
    // The history is the server's: the token guards it like every endpoint.
    expect((await fetch(`${url}api/v1/history`)).status).toBe(401);

    await page.reload();
    const chart = page.locator(`.card[data-forward="${id}"] [data-chart="throughput"]`);
    await chart.locator("path.line.s-up").waitFor({ state: "attached" });
    // Right after a reload the page has seen one or two live samples; every point before them, the
    // burst's peak included, came from the server's history.
    const points = async (loc: ReturnType<Page["locator"]>) => ((await loc.getAttribute("d")) ?? "").split(/[ML]/).filter(Boolean).length;
    expect(await points(chart.locator("path.line.s-up"))).toBeGreaterThanOrEqual(samples);
    expect(await chart.locator(".peak .num").textContent()).toMatch(/^\d+(\.\d)? (B|KiB|MiB)\/s$/);
    expect(await chart.locator(".peak .num").textContent()).not.toBe("0 B/s");
    const rtt = page.locator('.card[data-session="main"] [data-chart="round trip"] path.line.s-rtt');
    expect(await points(rtt)).toBeGreaterThanOrEqual(h.sessions[0]!.rttMs.filter((v) => v !== null).length);

    mkdirSync(OUT, { recursive: true });
    await page.screenshot({ path: join(OUT, "status-desktop.png"), fullPage: true });
    const desktop = await layout(page);
    // Cards side by side: the session beside the forwards, the two forwards beside each other.
    expect(desktop.cardsInARow).toBeGreaterThanOrEqual(3);
    expect(desktop.overflow).toBe(0);
    expect(desktop.wrapped).toEqual([]);

    await page.setViewportSize({ width: 390, height: 844 });
    await page.locator(".card").first().waitFor();
    await page.screenshot({ path: join(OUT, "status-phone.png"), fullPage: true });
    const phone = await layout(page);
    expect(phone.cardsInARow).toBe(1);
    expect(phone.overflow).toBe(0);
    expect(phone.wrapped).toEqual([]);
    expect(errors).toEqual([]);
    await page.close();
  }, 30_000);
});

describe("colours", () => {
  test("a session still connecting is shown in a neutral colour, not as a warning", async () => {
    // A server that accepts and never says a word: fwd's session stays "connecting".
    const silent = net.createServer(() => {});
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
    const port = (silent.address() as net.AddressInfo).port;
    const p = runFwd(["-F", "none", "-p", String(port), "-o", "ConnectTimeout=30", "--status", "127.0.0.1:0", "-L", `0:127.0.0.1:${echo.port}`, "127.0.0.1"], { env: { HOME: home } });
    const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"] });
    try {
      const login = /(http:\S+)/.exec(await p.waitFor(/^status http:/))![1]!;
      const page = await browser.newPage();
      await page.goto(login);
      const badge = page.locator(".card[data-session] .badge");
      await badge.waitFor();
      expect(await badge.textContent()).toBe("connecting");
      const colours = await page.evaluate(`(() => {
        const css = getComputedStyle(document.documentElement);
        const probe = document.createElement("span");
        document.body.append(probe);
        const of = (v) => ((probe.style.color = css.getPropertyValue(v)), getComputedStyle(probe).color);
        return { badge: getComputedStyle(document.querySelector(".card[data-session] .badge")).color, live: getComputedStyle(document.getElementById("live")).color, muted: of("--muted") };
      })()`) as Record<string, string>;
      expect(colours.badge).toBe(colours.muted!);
      expect(colours.live).toBe(colours.muted!);
      expect(await page.locator("#live").textContent()).toBe("connecting");
    } finally {
      await browser.close();
      await p.stop();
      silent.close();
    }
  }, 30_000);
});

/**
 * What the layout looks like in the browser: the most cards whose tops line up, how far the page
 * is wider than the window, and the values (numbers, addresses, times) that wrapped onto two lines.
 */
async function layout(page: Page): Promise<{ cardsInARow: number; overflow: number; wrapped: string[] }> {
  // A string, run in the page: the tests are compiled without the DOM's types.
  return page.evaluate(`(() => {
    const tops = new Map();
    for (const c of document.querySelectorAll(".card")) {
      const top = Math.round(c.getBoundingClientRect().top);
      tops.set(top, (tops.get(top) || 0) + 1);
    }
    const wrapped = [];
    for (const v of document.querySelectorAll(".num, .ep, .when, td")) {
      const rects = v.getClientRects();
      const line = parseFloat(getComputedStyle(v).lineHeight);
      if (rects.length > 1 || (rects[0] && rects[0].height > line * 1.5)) wrapped.push(v.textContent);
    }
    return { cardsInARow: Math.max(...tops.values()), overflow: document.documentElement.scrollWidth - innerWidth, wrapped };
  })()`);
}

describe("off loopback", () => {
  test("a status page bound beyond loopback says so and needs the token; stop closes a forward", async () => {
    const p = runFwd([...sshd.clientArgs, "--status", "0.0.0.0:0", "-L", `0:127.0.0.1:${echo.port}`, sshd.host], { env: { HOME: home } });
    try {
      const line = await p.waitFor(/^status http:/);
      await p.waitFor(/listens beyond loopback over plain HTTP/);
      await p.waitFor(/^listening /);
      const port = /:(\d+)\//.exec(line)![1];
      const t = /\?token=(\S+)$/.exec(line)![1]!;
      const auth = { authorization: `Bearer ${t}` };
      expect((await fetch(`http://127.0.0.1:${port}/api/v1/status`)).status).toBe(401);
      expect((await fetch(`http://127.0.0.1:${port}/api/v1/status`, { headers: auth })).status).toBe(200);
      // The stop action: the forward takes no new connections afterwards.
      const id = encodeURIComponent(`-L 0:127.0.0.1:${echo.port}`);
      // The token in a POST's query is refused: it only ever logs in a page.
      expect((await fetch(`http://127.0.0.1:${port}/api/v1/forwards/${id}/stop?token=${t}`, { method: "POST" })).status).toBe(401);
      const stop = await fetch(`http://127.0.0.1:${port}/api/v1/forwards/${id}/stop`, { method: "POST", headers: auth });
      expect(`${stop.status} ${await stop.text()}`).toBe(`200 {"ok":true}`);
      await p.waitFor(/: stopped$/);
      const refused = await new Promise<boolean>((resolve) => {
        const c = net.connect(p.ports[0]!, "127.0.0.1", () => (c.destroy(), resolve(false)));
        c.on("error", () => resolve(true));
      });
      expect(refused).toBe(true);
    } finally {
      expect(await p.stop()).toBe(0);
    }
  });
});

/** An HTTP GET with a Host header of our choosing (fetch will not forge one). */
function rawGet(port: string, path: string, host: string): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect(Number(port), "127.0.0.1", () => s.write(`GET ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`));
    let got = "";
    s.on("data", (d) => (got += d));
    s.on("close", () => resolve(got));
  });
}
