// The demo's sample web service: a page that can only be seen through the tunnel (it listens on a
// port the demo never shows), and that says so.

import http from "node:http";
import type { AddressInfo } from "node:net";

export const SAMPLE_MARKER = "fwd-demo-ok";

export async function startSampleService(): Promise<{ port: number; close(): Promise<void> }> {
  let served = 0;
  const startedAt = new Date();
  const server = http.createServer((req, res) => {
    served++;
    const body = page(served, startedAt, req.socket.remoteAddress ?? "?");
    res.writeHead(200, { "content-type": "text/html; charset=utf-8", "content-length": Buffer.byteLength(body), "x-fwd-demo": SAMPLE_MARKER });
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}

const page = (n: number, since: Date, from: string) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>fwd demo</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem;color:#1d2430}
code{background:#eef1f5;padding:.1rem .3rem;border-radius:4px}.ok{color:#137333;font-weight:600}</style></head>
<body><h1>fwd demo</h1>
<p class="ok" id="${SAMPLE_MARKER}">This page came through an SSH tunnel.</p>
<p>The web service behind it listens on a private loopback port. Your browser talked to fwd's local
port; fwd carried the request inside an SSH session to the demo's built-in SSH server, which opened
the connection to this service — exactly what <code>fwd -L</code> does with a real server.</p>
<p>Requests served: ${n}. Service up since ${since.toISOString()}. Seen from: ${from} (the SSH server's side).</p>
</body></html>
`;
