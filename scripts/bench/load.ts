// The request/response load for the benchmark: a TCP_NODELAY echo server (its own process) as the
// tunnel's target, and clients that open short connections through the tunnel (connect, 100 bytes
// out, 100 back, close), one at a time or many at once, for a fixed count bounded by a time cap. A
// connection to a proxy port first does the proxy's handshake (see socks.ts).

import { spawn } from "node:child_process";
import net from "node:net";
import { join } from "node:path";
import { stopChild, track } from "./children.ts";

const PAYLOAD = Buffer.alloc(100, "x");
/** One connection that takes longer than this counts as failed (a hang must not stall the run). */
const CONN_TIMEOUT_MS = 5_000;

export interface EchoServer {
  port: number;
  /** Its process id: its descriptor count tells how many connections reached it. */
  pid: number;
  close(): Promise<void>;
}

/** Starts echo-server.ts as a child process (see there) and waits for the port it prints. */
export async function startEchoServer(): Promise<EchoServer> {
  const p = track(spawn(process.execPath, [join(import.meta.dir, "echo-server.ts")], { stdio: ["pipe", "pipe", "inherit"] }));
  const port = await new Promise<number>((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error("echo server printed no port within 10 s")), 10_000);
    p.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      const m = /^(\d+)\n/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    p.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`echo server exited (${code})`));
    });
  });
  return { port, pid: p.pid!, close: () => stopChild(p) };
}

/** Bytes a proxy wants first (sent on connect), and how to judge its fixed-length answer. */
export interface Handshake {
  hello: Buffer;
  replyLength: number;
  /** An error text when the answer says no. */
  check(reply: Buffer): string | undefined;
}

/** Where the connections go: a local port that leads to the echo server, directly or after a handshake. */
export interface Route {
  port: number;
  handshake?: Handshake;
}

/**
 * One connection: connect, do the route's handshake if any, send 100 bytes, read the 100-byte echo,
 * half-close and wait for the peer's close. Resolves with the ms from connect() to the full echo
 * (handshake included), or an error text.
 */
export function echoOnce({ port, handshake }: Route): Promise<{ ms: number } | { error: string }> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    let reply = handshake ? Buffer.alloc(0) : undefined; // undefined once the handshake is done
    let got = 0;
    let ms: number | undefined;
    let settled = false;
    const s = net.connect({ host: "127.0.0.1", port, allowHalfOpen: true, noDelay: true });
    const finish = (r: { ms: number } | { error: string }) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      s.destroy();
      resolve(r);
    };
    const timer = setTimeout(() => {
      const what = reply ? `no handshake reply (${reply.length} bytes)` : ms === undefined ? `no echo (${got} bytes)` : "no close after the echo";
      finish({ error: `${what} within ${CONN_TIMEOUT_MS} ms` });
    }, CONN_TIMEOUT_MS);
    s.on("connect", () => s.write(handshake ? handshake.hello : PAYLOAD));
    s.on("data", (d: Buffer) => {
      if (reply && handshake) {
        reply = Buffer.concat([reply, d]);
        if (reply.length < handshake.replyLength) return;
        const refused = handshake.check(reply.subarray(0, handshake.replyLength));
        if (refused) return finish({ error: refused });
        d = reply.subarray(handshake.replyLength); // nothing, unless the proxy ran ahead
        reply = undefined;
        s.write(PAYLOAD);
      }
      got += d.length;
      if (got >= PAYLOAD.length && ms === undefined) {
        ms = performance.now() - t0;
        s.end();
      }
    });
    const cut = () => ({ error: reply ? `closed during the handshake (${reply.length} bytes)` : `closed after ${got} of ${PAYLOAD.length} bytes` });
    // A FIN before the echo is a failure now: with allowHalfOpen, waiting for 'close' would wait for the timeout.
    s.on("end", () => {
      if (ms === undefined) finish(cut());
    });
    s.on("error", (e: NodeJS.ErrnoException) => finish({ error: e.code ?? e.message }));
    s.on("close", () => finish(ms !== undefined && got === PAYLOAD.length ? { ms } : cut()));
  });
}

export interface LoadResult {
  done: number;
  failed: number;
  seconds: number;
  perSecond: number;
  /** Connect-to-echo times of the successful connections, sorted ascending. */
  latenciesMs: number[];
  /** Up to a few distinct error texts, for the report. */
  errors: string[];
}

/** Runs `count` connections with at most `concurrency` open at once; stops starting new ones after capMs. */
export async function runConnections(route: Route, count: number, concurrency: number, capMs: number): Promise<LoadResult> {
  const latencies: number[] = [];
  const errors = new Map<string, number>();
  let started = 0;
  let failed = 0;
  const t0 = performance.now();
  const deadline = t0 + capMs;
  const worker = async () => {
    while (started < count && performance.now() < deadline) {
      started++;
      const r = await echoOnce(route);
      if ("ms" in r) latencies.push(r.ms);
      else {
        failed++;
        errors.set(r.error, (errors.get(r.error) ?? 0) + 1);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = (performance.now() - t0) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    done: latencies.length,
    failed,
    seconds,
    perSecond: latencies.length / seconds,
    latenciesMs: latencies,
    errors: [...errors].slice(0, 5).map(([e, n]) => `${n}× ${e}`),
  };
}
