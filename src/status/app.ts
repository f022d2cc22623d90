// The status page's HTTP side (Hono): the page, a versioned JSON API, a live event stream, Prometheus
// metrics and token-guarded actions. Every response carries a strict CSP and no CORS; the Host header
// must name this server, so a web page elsewhere cannot reach it through DNS rebinding.

import { Hono, type Context } from "hono";
import { streamSSE } from "hono/streaming";
import { timingSafeEqual } from "node:crypto";
import type { Engine } from "../engine/engine.ts";
import { prometheus } from "./metrics.ts";
import { APP_CSS, APP_JS, PAGE_HTML } from "./page.ts";
import type { StatusStore } from "./store.ts";

export interface StatusAppOptions {
  store: StatusStore;
  engine: Engine;
  token: string;
  /** Off loopback, reads need the token too. */
  tokenForReads: boolean;
  /** Whether a Host header names this server (`127.0.0.1:8080`, `localhost:8080`, …). */
  hostOk: (host: string) => boolean;
}

const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
const STREAM_TICK_MS = 1_000;

export function statusApp(o: StatusAppOptions): Hono {
  const app = new Hono();
  const tokenOk = (c: Context) => {
    const given = c.req.header("authorization")?.replace(/^Bearer\s+/i, "") ?? c.req.query("token") ?? "";
    const a = Buffer.from(given);
    const b = Buffer.from(o.token);
    return a.length === b.length && timingSafeEqual(a, b);
  };

  app.use("*", async (c, next) => {
    if (!o.hostOk((c.req.header("host") ?? "").toLowerCase())) return c.text("forbidden host\n", 403);
    if (o.tokenForReads && !tokenOk(c)) return c.json({ error: "this status page is not on loopback: add ?token=… (see the token file fwd printed)" }, 401);
    await next();
    c.header("content-security-policy", CSP);
    c.header("x-content-type-options", "nosniff");
    c.header("referrer-policy", "no-referrer");
    c.header("cache-control", "no-store");
  });

  app.get("/", (c) => c.html(PAGE_HTML));
  app.get("/app.js", (c) => c.body(APP_JS, 200, { "content-type": "text/javascript; charset=utf-8" }));
  app.get("/app.css", (c) => c.body(APP_CSS, 200, { "content-type": "text/css; charset=utf-8" }));
  app.get("/api/v1/status", (c) => c.json(o.store.snapshot()));
  app.get("/metrics", (c) => c.body(prometheus(o.store.snapshot()), 200, { "content-type": "text/plain; version=0.0.4; charset=utf-8" }));

  app.get("/api/v1/events", (c) =>
    streamSSE(c, async (stream) => {
      let pending = false;
      const send = () => stream.writeSSE({ event: "status", data: JSON.stringify(o.store.snapshot()) });
      // Engine events come in bursts (a connection opens and closes): one snapshot per burst is enough.
      const off = o.store.onChange(() => {
        if (pending) return;
        pending = true;
        setTimeout(() => {
          pending = false;
          void send().catch(() => {});
        }, 100);
      });
      stream.onAbort(off);
      await send();
      while (!stream.aborted) {
        await stream.sleep(STREAM_TICK_MS);
        if (!stream.aborted) await send().catch(() => {});
      }
      off();
    }),
  );

  const action = (run: (c: Context) => boolean, what: string) => (c: Context) => {
    if (!tokenOk(c)) return c.json({ error: "actions need the token: Authorization: Bearer <token> (see the token file fwd printed)" }, 401);
    return run(c) ? c.json({ ok: true }) : c.json({ error: `no such ${what}` }, 404);
  };
  app.post("/api/v1/sessions/:name/reconnect", action((c) => o.engine.reconnectSession(c.req.param("name")!), "session"));
  app.post("/api/v1/connections/:id/close", action((c) => o.engine.closeConnection(Number(c.req.param("id"))), "connection"));
  app.post("/api/v1/forwards/:id/stop", action((c) => o.engine.stopForward(c.req.param("id")!), "forward"));
  app.notFound((c) => c.json({ error: "not found" }, 404));
  return app;
}
