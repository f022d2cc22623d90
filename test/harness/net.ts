// Small network helpers for tests: free ports, waiting for a port, echo and sink servers, a silent target.

import { spawn } from "node:child_process";
import net from "node:net";

export function freePort(host = "127.0.0.1"): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, host, () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** Resolves once a TCP connect succeeds; bounded by timeoutMs. */
export async function waitForPort(host: string, port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect({ host, port }, () => {
        s.destroy();
        resolve(true);
      });
      s.once("error", () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on ${host}:${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** An echo server: everything received is sent back; a FIN is answered with a FIN after the echo. */
export async function startEcho(listen: { host: string; port?: number } | { path: string } = { host: "127.0.0.1" }) {
  const sockets = new Set<net.Socket>();
  const server = net.createServer({ allowHalfOpen: true }, (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
    s.on("error", () => {});
    s.pipe(s);
  });
  await new Promise<void>((resolve) => {
    if ("path" in listen) server.listen(listen.path, resolve);
    else server.listen(listen.port ?? 0, listen.host, resolve);
  });
  const addr = server.address();
  return {
    port: typeof addr === "object" && addr ? addr.port : 0,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A server that reads until the client's FIN, then answers with the SHA-256 (hex) of what it got. */
export async function startHashSink(): Promise<{ port: number; close(): Promise<void> }> {
  const { createHash } = await import("node:crypto");
  const server = net.createServer({ allowHalfOpen: true }, (s) => {
    const h = createHash("sha256");
    s.on("data", (d) => h.update(d));
    s.on("end", () => s.end(h.digest("hex")));
    s.on("error", () => {});
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { port: (server.address() as net.AddressInfo).port, close: () => new Promise((r) => server.close(() => r())) };
}

/** A server that sends `bytes` of random data to each client, then closes; `sent` has their SHA-256s. */
export async function startRandomSource(bytes: number): Promise<{ port: number; sent: string[]; close(): Promise<void> }> {
  const { createHash, randomBytes } = await import("node:crypto");
  const sent: string[] = [];
  // allowHalfOpen: a client that sends FIN straight away must still get every byte.
  const server = net.createServer({ allowHalfOpen: true }, (s) => {
    const h = createHash("sha256");
    let left = bytes;
    s.on("error", () => {});
    const pump = () => {
      while (left > 0) {
        const chunk = randomBytes(Math.min(left, 256 * 1024));
        left -= chunk.length;
        h.update(chunk);
        if (!s.write(chunk)) return void s.once("drain", pump);
      }
      sent.push(h.digest("hex"));
      s.end();
    };
    pump();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { port: (server.address() as net.AddressInfo).port, sent, close: () => new Promise((r) => server.close(() => r())) };
}

/**
 * Connects, sends `data`, half-closes, and collects the reply until the server's FIN (`ended`) or a
 * reset (`reset`: what a refused forward looks like when the client's bytes were never read).
 */
export function exchange(
  port: number,
  data: Buffer | string,
  host = "127.0.0.1",
): Promise<{ reply: Buffer; ended: boolean; reset: boolean }> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host, port, allowHalfOpen: true });
    const chunks: Buffer[] = [];
    let ended = false;
    let reset = false;
    s.on("data", (d) => chunks.push(d));
    s.on("end", () => {
      ended = true;
      s.end();
    });
    s.on("error", (e: NodeJS.ErrnoException) => (e.code === "ECONNRESET" ? (reset = true) : reject(e)));
    s.on("close", () => resolve({ reply: Buffer.concat(chunks), ended, reset }));
    s.on("connect", () => s.end(data));
  });
}

/** A small HTTP server answering every request with `hello from <its own address>` and the path. */
export async function startHttp(host = "127.0.0.1"): Promise<{ port: number; close(): Promise<void> }> {
  const http = await import("node:http");
  const server = http.createServer((req, res) => {
    res.writeHead(200, { "content-type": "text/plain" });
    res.end(`hello ${req.url} via ${req.socket.localAddress}`);
  });
  await new Promise<void>((r) => server.listen(0, host, r));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () => new Promise((r) => (server.closeAllConnections(), server.close(() => r()))),
  };
}

/**
 * A target that never answers: a listener on loopback whose accept queue is full, so that new SYNs
 * are dropped and a connection to it neither opens nor fails until its own timeout.
 */
export async function startSilentTarget(): Promise<{ port: number; close(): void }> {
  const py = spawn("python3", ["-c", `import socket,time,sys
l=socket.socket(); l.bind(("127.0.0.1",0)); l.listen(0)
p=l.getsockname()[1]; cs=[]
for _ in range(3):
  c=socket.socket(); c.setblocking(False)
  try: c.connect(("127.0.0.1",p))
  except BlockingIOError: pass
  cs.append(c)
time.sleep(0.3); print(p,flush=True); sys.stdin.read()`], { stdio: ["pipe", "pipe", "inherit"] });
  const port = Number(await new Promise<string>((r) => py.stdout!.once("data", (d: Buffer) => r(String(d)))));
  return {
    port,
    close: () => {
      py.stdin?.end();
      py.kill();
    },
  };
}
