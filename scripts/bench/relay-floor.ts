// The floor under the connection rows: a bare TCP relay on Bun's own sockets (Bun.listen →
// Bun.connect, no SSH, no streams), run under the same short-connection load as `npm run bench`
// (connect, 100 bytes, echo, close; one at a time, then 50 at a time). What it costs per
// connection is what Bun's event loop and the kernel's loopback take before any fwd code runs.
//
//   bun scripts/bench/relay-floor.ts [count]      (default 3000 connections per row)
//
// Measured here (2026-12-02, 2 cores): 0.27 CPU ms per sequential connection (0.06 user, 0.21
// system) and 0.16 at 50 at a time; OpenSSH's ssh in the benchmark: 0.28 and 0.17.

import { spawn } from "node:child_process";
import { cpuSeconds } from "./proc.ts";
import { runConnections, startEchoServer } from "./load.ts";

if (process.argv[2] === "--relay") {
  // The relay itself, in its own process so that its CPU is counted alone.
  const target = Number(process.argv[3]);
  interface Side {
    peer?: { write(d: Uint8Array): number; shutdown(): void; end(): void };
    pending: Uint8Array[];
    ended?: boolean;
  }
  const server = Bun.listen<Side>({
    hostname: "127.0.0.1",
    port: 0,
    allowHalfOpen: true,
    socket: {
      open(s) {
        s.data = { pending: [] };
        void Bun.connect<Side>({
          hostname: "127.0.0.1",
          port: target,
          allowHalfOpen: true,
          socket: {
            open(o) {
              o.data = { peer: s, pending: [] };
              s.data.peer = o;
              for (const p of s.data.pending) o.write(p);
              if (s.data.ended) o.shutdown();
            },
            data: (o, d) => void o.data.peer!.write(d),
            end: (o) => o.data.peer!.shutdown(),
            close: (o) => o.data.peer?.end(),
          },
        });
      },
      data: (s, d) => void (s.data.peer ? s.data.peer.write(d) : s.data.pending.push(d)),
      end: (s) => {
        if (s.data.peer) s.data.peer.shutdown();
        else s.data.ended = true;
      },
      close: (s) => s.data.peer?.end(),
    },
  });
  process.stdout.write(`${server.port}\n`);
} else {
  const count = Number(process.argv[2] ?? 3000);
  const echo = await startEchoServer();
  const relay = spawn(process.execPath, [import.meta.path, "--relay", String(echo.port)], {
    stdio: ["ignore", "pipe", "inherit"],
    // As fwd's tunnel commands run (src/runtime/jit-options.ts).
    env: { ...process.env, BUN_JSC_useFTLJIT: "0" },
  });
  const port = await new Promise<number>((resolve) => relay.stdout!.once("data", (d: Buffer) => resolve(Number(String(d).trim()))));
  try {
    for (const concurrency of [1, 50]) {
      const before = cpuSeconds(relay.pid!);
      const r = await runConnections({ port }, count, concurrency, 60_000);
      const cpu = cpuSeconds(relay.pid!) - before;
      process.stdout.write(`bare relay, ${concurrency} at a time: ${r.perSecond.toFixed(0)} connections/s, ${r.failed} failed, ${((cpu * 1000) / r.done).toFixed(3)} CPU ms per connection\n`);
    }
  } finally {
    relay.kill();
    await echo.close();
  }
  process.exit(0);
}
