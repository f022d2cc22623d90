// The status page's HTTP side (Hono): the page, a versioned JSON API (state, and the last minutes'
// history for the charts), a live event stream, Prometheus metrics and actions. Every endpoint needs
// the token, on loopback too (another local user can reach loopback), the way Jupyter does it: the
// printed URL carries it once, the page swaps it for an HttpOnly cookie and redirects to the clean
// URL; scripts and Prometheus send `Authorization: Bearer`.
// Every response carries a strict CSP and no CORS; the Host header must name this server, so a web page
// elsewhere cannot reach it through DNS rebinding.

import { Hono, type Context } from "hono";
import { getCookie, setCookie } from "hono/cookie";
import { timingSafeEqual } from "node:crypto";
import type { Engine } from "../engine/engine.ts";
import { prometheus } from "./metrics.ts";
import { APP_CSS, APP_JS, PAGE_HTML } from "./page.ts";
import type { StatusStore } from "./store.ts";
import type { StreamHub } from "./stream.ts";

/** What a running fwd lets its API change: live forwards, and a reload of its scenarios folder. */
export interface StatusControl {
  /** Body: { kind: "L" | "R" | "D", spec, via?, allow? }. */
  addForward(body: unknown): Promise<ControlResult>;
  /** Body: { forward: SPEC | ID }. */
  cancelForward(body: unknown): ControlResult;
  /** Absent: this fwd has no folder to read again (the plain command). */
  reload?(): Promise<ControlResult>;
}

export type ControlResult = { ok: true; value: Record<string, unknown> } | { ok: false; status: 400 | 404 | 409; error: string; hint?: string };

/** A control request carries a line of JSON; anything much larger is not one. */
const MAX_BODY = 4096;

export interface StatusAppOptions {
  store: StatusStore;
  engine: Engine;
  hub: StreamHub;
  token: string;
  /** The cookie that carries the token; per port, as cookies do not tell ports apart. */
  cookieName: () => string;
  /** GET /metrics without the token (`--status-open-metrics`): it carries counts, never secrets. */
  openMetrics: boolean;
  /** Live forwards and reloads (POST); absent, those endpoints answer 404. */
  control?: StatusControl;
  /** Whether a Host header names this server (`127.0.0.1:8080`, `localhost:8080`, …). */
  hostOk: (host: string) => boolean;
}

const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
const NEED_TOKEN = "status page: this needs the token: open the URL fwd printed (…/?token=…), or send Authorization: Bearer <token> (the token file fwd printed)";

export function statusApp(o: StatusAppOptions): Hono {
  const app = new Hono();
  const same = (given: string | undefined) => {
    const a = Buffer.from(given ?? "");
    const b = Buffer.from(o.token);
    return a.length === b.length && timingSafeEqual(a, b);
  };
  /** How this request proved it has the token, if it did. */
  const auth = (c: Context): "bearer" | "cookie" | undefined => {
    const header = c.req.header("authorization");
    if (header !== undefined) return same(/^Bearer\s+(.*)$/i.exec(header)?.[1]) ? "bearer" : undefined;
    return same(getCookie(c, o.cookieName())) ? "cookie" : undefined;
  };
  const refuse = (c: Context) => (c.req.path.startsWith("/api/") ? c.json({ error: NEED_TOKEN }, 401) : c.text(NEED_TOKEN + "\n", 401));

  app.use("*", async (c, next) => {
    // Set first, so refusals and redirects carry them as well as pages.
    c.header("content-security-policy", CSP);
    c.header("x-content-type-options", "nosniff");
    c.header("referrer-policy", "no-referrer");
    c.header("cache-control", "no-store");
    const host = (c.req.header("host") ?? "").toLowerCase();
    if (!o.hostOk(host)) return c.text("forbidden host\n", 403);
    const query = c.req.query("token");
    if (query !== undefined) {
      // The printed URL: swap the token for a cookie and send the browser to the clean URL, so the
      // token leaves the address bar and history. Only for a GET, which changes nothing.
      if (c.req.method !== "GET" || !same(query)) return refuse(c);
      setCookie(c, o.cookieName(), o.token, { httpOnly: true, sameSite: "Strict", path: "/" });
      const clean = new URL(c.req.url);
      clean.searchParams.delete("token");
      // One leading slash: `//host/` would send the browser to another server.
      return c.redirect(`/${clean.pathname.replace(/^\/+/, "")}${clean.search}`, 302);
    }
    const how = auth(c);
    const open = o.openMetrics && c.req.path === "/metrics" && c.req.method === "GET";
    if (!how && !open) return refuse(c);
    // A cookie rides along on a form posted from any page of the same site, and every port of
    // 127.0.0.1 is the same site: an action by cookie must come from this page itself.
    if (how === "cookie" && c.req.method !== "GET" && c.req.header("origin") !== `http://${host}`)
      return c.json({ error: "status page: actions by cookie must come from this page (Origin), or send Authorization: Bearer <token>" }, 403);
    await next();
  });

  app.get("/", (c) => c.html(PAGE_HTML));
  app.get("/app.js", (c) => c.body(APP_JS, 200, { "content-type": "text/javascript; charset=utf-8" }));
  app.get("/app.css", (c) => c.body(APP_CSS, 200, { "content-type": "text/css; charset=utf-8" }));
  app.get("/api/v1/status", (c) => c.json(o.store.snapshot()));
  app.get("/api/v1/history", (c) => c.json(o.store.historyJson()));
  app.get("/metrics", (c) => c.body(prometheus(o.store.snapshot()), 200, { "content-type": "text/plain; version=0.0.4; charset=utf-8" }));
  app.get("/api/v1/events", (c) => {
    const stream = o.hub.open();
    if (!stream) return c.json({ error: `status page: too many live readers (${o.hub.size} open, the limit): close a tab, or poll /api/v1/status` }, 503, { "retry-after": "10" });
    return c.body(stream, 200, { "content-type": "text/event-stream", "x-accel-buffering": "no" });
  });

  const action = (run: (c: Context) => boolean, what: string) => (c: Context) => (run(c) ? c.json({ ok: true }) : c.json({ error: `no such ${what}` }, 404));
  app.post("/api/v1/sessions/:name/reconnect", action((c) => o.engine.reconnectSession(c.req.param("name")!), "session"));
  app.post("/api/v1/connections/:id/close", action((c) => o.engine.closeConnection(Number(c.req.param("id"))), "connection"));
  app.post("/api/v1/forwards/:id/stop", action((c) => o.engine.stopForward(c.req.param("id")!), "forward"));
  const answer = (c: Context, r: ControlResult) => (r.ok ? c.json({ ok: true, ...r.value }) : c.json({ error: r.error, ...(r.hint ? { hint: r.hint } : {}) }, r.status));
  const noControl = (c: Context) => c.json({ error: "this fwd takes no live changes" }, 404);
  app.post("/api/v1/forwards", async (c) => {
    if (!o.control) return noControl(c);
    const body = await jsonBody(c);
    return body.ok ? answer(c, await o.control.addForward(body.value)) : answer(c, body);
  });
  app.post("/api/v1/forwards/cancel", async (c) => {
    if (!o.control) return noControl(c);
    const body = await jsonBody(c);
    return body.ok ? answer(c, o.control.cancelForward(body.value)) : answer(c, body);
  });
  app.post("/api/v1/reload", async (c) => {
    if (!o.control?.reload) return c.json({ error: "this fwd has no scenarios folder to reload (only `fwd up` has)" }, 404);
    return answer(c, await o.control.reload());
  });
  app.notFound((c) => c.json({ error: "not found" }, 404));
  return app;
}

/** A request's JSON body, read up to MAX_BODY bytes (a longer one is refused, not buffered). */
async function jsonBody(c: Context): Promise<{ ok: true; value: unknown } | { ok: false; status: 400; error: string }> {
  const bad = (error: string) => ({ ok: false as const, status: 400 as const, error: `status api: ${error}` });
  const reader = c.req.raw.body?.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const r = reader ? await reader.read() : { done: true as const, value: undefined };
    if (r.done) break;
    size += r.value.byteLength;
    if (size > MAX_BODY) {
      void reader?.cancel();
      return bad(`body over ${MAX_BODY} bytes`);
    }
    chunks.push(r.value);
  }
  try {
    return { ok: true, value: JSON.parse(Buffer.concat(chunks).toString("utf8")) };
  } catch {
    return bad("the body is not JSON");
  }
}
