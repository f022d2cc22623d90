// A fetch handler (Hono's app.fetch) served by node:http, for Deno: Deno.serve takes no idle timeout
// and keeps an idle keep-alive connection open for ever (measured, Deno 2.9), while Deno's node:http
// honours keepAliveTimeout and the socket timeout, which bound idle connections as Bun's idleTimeout does.

import http from "node:http";
import type { AddressInfo } from "node:net";
import { Readable } from "node:stream";
import type { HttpServer } from "./index.ts";

type Fetch = (r: Request) => Response | Promise<Response>;

export function serveNodeHttp(fetch: Fetch, hostname: string, port: number, idleTimeoutS: number): Promise<HttpServer> {
  const idleMs = idleTimeoutS * 1000;
  const server = http.createServer((req, res) => void answer(fetch, req, res, hostname));
  // Idle between requests, slow to send a request, or silent on an open socket: each closes after the
  // timeout. A response being written counts as activity, so a stream with a heartbeat stays open.
  server.keepAliveTimeout = idleMs;
  server.headersTimeout = idleMs;
  server.requestTimeout = idleMs;
  server.timeout = idleMs;
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, hostname, () => {
      server.off("error", reject);
      resolve({
        port: (server.address() as AddressInfo).port,
        stop: () => new Promise<void>((done) => (server.closeAllConnections(), server.close(() => done()))),
      });
    });
  });
}

async function answer(fetch: Fetch, req: http.IncomingMessage, res: http.ServerResponse, hostname: string): Promise<void> {
  const gone = new AbortController();
  res.once("close", () => gone.abort());
  let response: Response;
  try {
    const headers = new Headers();
    for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) headers.append(req.rawHeaders[i]!, req.rawHeaders[i + 1]!);
    const hasBody = req.method !== "GET" && req.method !== "HEAD";
    // The URL's authority is this server's own: the client's Host header stays in the headers (where
    // the app checks it) and may be anything, including what no URL parser accepts. Joined as text, so
    // a path such as `//evil.example/` stays a path (new URL(path, base) would read it as a host).
    const base = `http://${hostname.includes(":") ? `[${hostname}]` : hostname}`;
    const init: RequestInit & { duplex?: "half" } = { method: req.method ?? "GET", headers, signal: gone.signal };
    if (hasBody) Object.assign(init, { body: Readable.toWeb(req) as ReadableStream<Uint8Array>, duplex: "half" });
    response = await fetch(new Request(`${base}${req.url ?? "/"}`, init));
  } catch {
    res.writeHead(400, { "content-type": "text/plain; charset=utf-8" }).end("bad request\n");
    return;
  }
  const head: Record<string, string | string[]> = {};
  response.headers.forEach((v, k) => (head[k] = v));
  const cookies = response.headers.getSetCookie();
  if (cookies.length) head["set-cookie"] = cookies;
  if (!response.body) return void res.writeHead(response.status, head).end();
  // Anything but an event stream is a small, whole answer: sent with its length, as Bun and
  // Deno.serve send it (a chunked JSON answer would differ on the wire from the Bun build).
  if (!/^text\/event-stream\b/.test(response.headers.get("content-type") ?? "")) {
    const body = Buffer.from(await response.arrayBuffer());
    head["content-length"] = String(body.length);
    return void res.writeHead(response.status, head).end(req.method === "HEAD" ? undefined : body);
  }
  res.writeHead(response.status, head);
  const reader = response.body.getReader();
  // A client that leaves cancels the body, which is how a live event stream frees its reader's place.
  gone.signal.addEventListener("abort", () => void reader.cancel().catch(() => {}), { once: true });
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done || gone.signal.aborted) break;
      // Backpressure: wait for the socket to drain (or to close) before reading more.
      if (!res.write(value)) await drainedOrClosed(res);
    }
    res.end();
  } catch {
    res.destroy();
  }
}

function drainedOrClosed(res: http.ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => (res.off("drain", done), res.off("close", done), resolve());
    res.once("drain", done);
    res.once("close", done);
  });
}
