// One tool's measurements through one freshly started tunnel: warm-up, sequential and concurrent
// short connections through the -L and then through the -D SOCKS5 proxy, bulk upload and download,
// then the tunnel process's peak memory and CPU.

import { runIperf, startIperfServer } from "./iperf.ts";
import { percentile, runConnections, type LoadResult, type Route } from "./load.ts";
import { cpuSeconds, peakRssMiB, rssMiB } from "./report.ts";
import { socks5ConnectTo } from "./socks.ts";
import type { Targets, Tunnel } from "./tunnels.ts";

export interface Plan {
  warmup: number;
  sequential: number;
  concurrent: number;
  concurrency: number;
  /** Upper bound on each connection row, whatever its count. */
  capMs: number;
  iperfSeconds: number;
}

export const FULL: Plan = { warmup: 50, sequential: 2000, concurrent: 5000, concurrency: 50, capMs: 20_000, iperfSeconds: 5 };
export const QUICK: Plan = { warmup: 10, sequential: 300, concurrent: 1000, concurrency: 50, capMs: 8_000, iperfSeconds: 2 };

export interface Measured {
  sequential: LoadResult;
  concurrent: LoadResult;
  socksSequential: LoadResult;
  socksConcurrent: LoadResult;
  uploadGbps: number;
  downloadGbps: number;
  peakRssMiB: number;
  cpuSeconds: number;
}

/** Runs every row through `tunnel`, whose forwards lead to `targets`; stops the tunnel at the end. */
export async function measure(name: string, tunnel: Tunnel, targets: Targets, plan: Plan): Promise<Measured> {
  // Progress on stderr, with what each step cost: the tunnel's CPU time and resident memory, and this
  // process's CPU (near 1 s per second means the load generator, not the tunnel, was the limit).
  let mark = { tunnel: cpuSeconds(tunnel.pid), self: process.cpuUsage(), at: performance.now() };
  const say = (m: string) => {
    const now = { tunnel: cpuSeconds(tunnel.pid), self: process.cpuUsage(), at: performance.now() };
    const self = process.cpuUsage(mark.self);
    const wall = (now.at - mark.at) / 1000;
    const cost = `tunnel ${(now.tunnel - mark.tunnel).toFixed(2)} CPU s, RSS ${rssMiB(tunnel.pid).toFixed(0)} MiB; bench ${((self.user + self.system) / 1e6 / wall).toFixed(2)} CPU s/s`;
    process.stderr.write(`bench: ${name}: ${m} [${cost}]\n`);
    mark = now;
  };
  // A dead -L means the tunnel is broken and the tool gets no column; a dead -D only fails its rows.
  const connections = async (route: Route, label: string) => {
    const warm = await runConnections(route, plan.warmup, 1, 5_000);
    if (warm.done === 0 && !route.handshake) throw new Error(`${name}: no ${label}warm-up connection got its echo (${warm.errors.join("; ")})`);
    say(describe(`${label}warm-up`, warm));
    const sequential = await runConnections(route, plan.sequential, 1, plan.capMs);
    say(describe(`${label}sequential`, sequential));
    const concurrent = await runConnections(route, plan.concurrent, plan.concurrency, plan.capMs);
    say(describe(`${label}${plan.concurrency} at a time`, concurrent));
    return { sequential, concurrent };
  };
  try {
    const { sequential, concurrent } = await connections({ port: tunnel.echoPort }, "");
    const socks = await connections({ port: tunnel.socksPort, handshake: socks5ConnectTo(targets.echo) }, "SOCKS5 ");
    const uploadGbps = await iperf(tunnel.iperfPort, targets.iperf, plan.iperfSeconds, false);
    say(`upload ${uploadGbps.toFixed(2)} Gbit/s`);
    const downloadGbps = await iperf(tunnel.iperfPort, targets.iperf, plan.iperfSeconds, true);
    say(`download ${downloadGbps.toFixed(2)} Gbit/s`);
    const m: Measured = {
      sequential,
      concurrent,
      socksSequential: socks.sequential,
      socksConcurrent: socks.concurrent,
      uploadGbps,
      downloadGbps,
      peakRssMiB: peakRssMiB(tunnel.pid),
      cpuSeconds: cpuSeconds(tunnel.pid),
    };
    process.stderr.write(`bench: ${name}: peak RSS ${m.peakRssMiB.toFixed(1)} MiB, ${m.cpuSeconds.toFixed(2)} CPU s in all\n`);
    return m;
  } finally {
    const t0 = performance.now();
    await tunnel.stop();
    process.stderr.write(`bench: ${name}: exited ${((performance.now() - t0) / 1000).toFixed(2)} s after SIGTERM\n`);
  }
}

async function iperf(tunnelPort: number, target: number, seconds: number, reverse: boolean): Promise<number> {
  const server = await startIperfServer(target);
  try {
    return await runIperf(tunnelPort, seconds, reverse);
  } finally {
    await server.stop();
  }
}

function describe(what: string, r: LoadResult): string {
  const failed = r.failed > 0 ? `, ${r.failed} failed (${r.errors.join("; ")})` : "";
  const p50 = percentile(r.latenciesMs, 50).toFixed(2);
  return `${what}: ${r.done} connections in ${r.seconds.toFixed(2)} s = ${Math.round(r.perSecond)}/s, p50 ${p50} ms${failed}`;
}
