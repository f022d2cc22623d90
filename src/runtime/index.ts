// The few facts and calls that differ between Bun and Deno, behind one small interface; everything
// else in fwd uses node: APIs and web standards so it runs on both.

import type { Duplex } from "node:stream";
import { BunTcpSocket } from "./bun-tcp.ts";

interface BunServer {
  port: number;
  stop(closeActiveConnections?: boolean): void;
}
declare const Bun:
  | { version: string; main: string; serve(o: { hostname: string; port: number; fetch: (r: Request) => Response | Promise<Response>; idleTimeout?: number }): BunServer }
  | undefined;
declare const Deno: { version: { deno: string } } | undefined;

export interface RuntimeInfo {
  name: "bun" | "deno" | "node";
  version: string;
  /** Running from a `bun build --compile` binary (plugins on disk then load through the runtime). */
  compiled: boolean;
}

export function runtimeInfo(): RuntimeInfo {
  // Bun.main, not import.meta.url: a --bytecode build keeps the source path in import.meta.url.
  if (typeof Bun !== "undefined") return { name: "bun", version: Bun.version, compiled: Bun.main.startsWith("/$bunfs/") };
  if (typeof Deno !== "undefined") return { name: "deno", version: Deno.version.deno, compiled: false };
  return { name: "node", version: process.versions.node, compiled: false };
}

export interface HttpServer {
  port: number;
  stop(): Promise<void>;
}

/**
 * The runtime's own HTTP server for a fetch handler (Hono's app.fetch). A connection idle for
 * `idleTimeoutS` seconds is closed (keep-alive ones included); a long stream stays open by sending
 * something well inside that time.
 */
export async function serveHttp(fetch: (r: Request) => Response | Promise<Response>, hostname: string, port: number, o: { idleTimeoutS: number }): Promise<HttpServer> {
  if (typeof Bun !== "undefined") {
    // Bun takes up to 255 s here (0 would mean never) and checks it in 4 s steps: 4 s or less is one
    // step, which closes a connection at the next check however busy it is (measured, Bun 1.4), so 5 s
    // is the shortest timeout that a stream's heartbeat can hold off.
    const s = Bun.serve({ hostname, port, fetch, idleTimeout: Math.min(255, Math.max(5, Math.round(o.idleTimeoutS))) });
    return { port: s.port, stop: async () => s.stop(true) };
  }
  if (typeof Deno !== "undefined") {
    // Not Deno.serve: it takes no idle timeout and never closes an idle keep-alive connection (see
    // node-http.ts). Loaded here only, so Bun never loads node:http for it.
    const { serveNodeHttp } = await import("./node-http.ts");
    return serveNodeHttp(fetch, hostname, port, o.idleTimeoutS);
  }
  throw new Error("serveHttp: needs Bun or Deno");
}


/**
 * A TCP connection on Bun's own sockets (bun-tcp.ts), or undefined where bunSockets() says no (then
 * the caller's node:net it is). `halfOpen` for a forward's far end (-R's target, reverse SOCKS),
 * whose end is passed on; without it, the SSH session's: it ends with the peer's, as ssh2 expects.
 * `joinPerTurn` for the SSH session's socket: see BunTcpSocket.connect.
 */
export function dialBun(host: string, port: number, o: { halfOpen?: boolean; joinPerTurn?: boolean } = {}): Duplex | undefined {
  if (!bunSockets()) return undefined;
  return BunTcpSocket.connect(host, port, o) as unknown as Duplex;
}

/** Whether TCP goes through Bun's own sockets (bun-tcp.ts); FWD_NODE_NET=1 keeps node:net (to compare). */
export function bunSockets(): boolean {
  return typeof Bun !== "undefined" && process.env.FWD_NODE_NET !== "1";
}

export interface StreamListener {
  port: number;
  /** Stops accepting; open connections carry on. */
  close(): void;
}

/**
 * A listening socket on Bun's own sockets, each connection handed over paused and half-open allowed
 * (as node:net's createServer({ allowHalfOpen, pauseOnConnect }) does). Throws on a failed bind with
 * node's error codes. Only where bunSockets() says so.
 */
export function listenBun(bind: { host: string; port: number } | { path: string }, onSocket: (s: Duplex) => void): StreamListener {
  const l = BunTcpSocket.listen(bind, (s) => onSocket(s as unknown as Duplex));
  return { port: l.port, close: () => l.stop(false) };
}
