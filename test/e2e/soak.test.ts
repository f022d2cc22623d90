// 10,000 connections opened and closed through one forward, with the engine in this process so its
// file descriptors and heap can be measured before and after.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { Engine } from "../../src/engine/engine.ts";
import { connectSsh } from "../../src/ssh/connect.ts";
import { exchange, startEcho } from "../harness/net.ts";
import { startSshd, type Sshd } from "../harness/sshd.ts";

let sshd: Sshd;
let echo: Awaited<ReturnType<typeof startEcho>>;
beforeAll(async () => {
  sshd = await startSshd();
  echo = await startEcho();
});
afterAll(async () => {
  await echo?.close();
  await sshd?.stop();
});

const fds = () => readdirSync("/proc/self/fd").length;
const heap = () => {
  Bun.gc(true);
  return process.memoryUsage().heapUsed;
};

test("10,000 connections through one forward leave descriptors and heap where they were", async () => {
  const engine = new Engine(
    {
      sessions: [
        {
          name: "main",
          host: "soak",
          connect: () =>
            connectSsh(
              {
                label: "soak",
                host: "127.0.0.1",
                port: sshd.port,
                user: sshd.user,
                identityFiles: [{ path: sshd.clientKey, explicit: true }],
                identitiesOnly: true,
                agentSocket: undefined,
                hostKey: { strict: "yes", host: "127.0.0.1", port: sshd.port, userFiles: [sshd.knownHosts], globalFiles: [] },
                connectTimeoutMs: 10_000,
                keepaliveIntervalMs: 15_000,
                keepaliveCountMax: 3,
              },
              { prompt: undefined, log: () => {} },
            ),
        },
      ],
      forwards: [{ kind: "local", id: "soak", bind: { host: "127.0.0.1", port: 0 }, target: { host: "127.0.0.1", port: echo.port } }],
    },
    { exitOnForwardFailure: true, acquireTimeoutMs: 5_000 },
  );
  const started = await engine.start();
  if (!started.ok) throw started.error;
  const port = (started.value[0]!.bound as { port: number }).port;
  const run = async (n: number) => {
    let ok = 0;
    for (let i = 0; i < n; i += 50)
      ok += (await Promise.all(Array.from({ length: Math.min(50, n - i) }, () => exchange(port, "ping")))).filter((r) => r.reply.toString() === "ping").length;
    return ok;
  };
  const settle = async () => {
    const deadline = Date.now() + 5_000;
    while (engine.snapshot().forwards[0]!.stats.open > 0 && Date.now() < deadline) await Bun.sleep(20);
  };
  try {
    expect(await run(500)).toBe(500); // warm-up: JIT, buffers, ssh2's channel table
    await settle();
    const [fd0, heap0] = [fds(), heap()];
    expect(await run(10_000)).toBe(10_000);
    await settle();
    const [fd1, heap1] = [fds(), heap()];
    const stats = engine.snapshot().forwards[0]!.stats;
    expect(stats.total).toBe(10_500);
    expect(stats.open).toBe(0);
    expect(stats.bytesUp).toBe(10_500 * 4);
    expect(fd1 - fd0).toBeLessThanOrEqual(5);
    expect(heap1 - heap0).toBeLessThan(8 * 1024 * 1024);
    console.log(`soak: fds ${fd0} -> ${fd1}, heap ${(heap0 / 2 ** 20).toFixed(1)} -> ${(heap1 / 2 ** 20).toFixed(1)} MiB`);
  } finally {
    await engine.stop(0);
  }
}, 120_000);
