// One tool's rows through one freshly started tunnel: its idle memory once connected, bulk upload and
// download of a fixed amount (rate, CPU per GiB, memory peak), then sequential and concurrent short
// connections through the -L and through the -D SOCKS5 proxy (rate, latency, CPU per 1,000).

import { runIperf, startIperfServer, type Transfer } from "./iperf.ts";
import { runConnections, type LoadResult, type Route } from "./load.ts";
import type { Plan } from "./plan.ts";
import { cpuSeconds, peakRssMiB, resetPeakRss, rssMiB } from "./proc.ts";
import { socks5ConnectTo } from "./socks.ts";
import { percentile } from "./stats.ts";
import type { Targets, Tunnel } from "./tunnels.ts";

export interface Measured {
  idleRssMiB: number;
  uploadGbps: number;
  downloadGbps: number;
  /** Tunnel CPU seconds during both bulk transfers over the GiB they moved. */
  cpuPerGiB: number;
  /** The tunnel's peak RSS from just before the bulk transfers to just after them. */
  bulkPeakRssMiB: number;
  sequential: LoadResult;
  concurrent: LoadResult;
  socksSequential: LoadResult;
  socksConcurrent: LoadResult;
  /** Tunnel CPU seconds during the four connection rows (warm-ups excluded) per 1,000 connections done. */
  cpuPer1000: number;
  /** Tunnel CPU seconds during the two warm-ups (-L and SOCKS5) before those rows. */
  warmupCpuSeconds: number;
  /** Over the tunnel's whole life: connecting, the bulk rows and the connection rows. */
  peakRssMiB: number;
  cpuSeconds: number;
}

export type Say = (line: string) => void;

/** Runs every row through `tunnel`, whose forwards lead to `targets`. */
export async function measure(tunnel: Tunnel, targets: Targets, plan: Plan, log: Say): Promise<Measured> {
  const pid = tunnel.pid;
  // Progress on stderr, with what each step cost: the tunnel's CPU time and resident memory, and this
  // process's CPU (near 1 s per second means the load generator, not the tunnel, was the limit).
  let mark = { tunnel: cpuSeconds(pid), self: process.cpuUsage(), at: performance.now() };
  const say = (m: string) => {
    const now = { tunnel: cpuSeconds(pid), self: process.cpuUsage(), at: performance.now() };
    const self = process.cpuUsage(mark.self);
    const wall = (now.at - mark.at) / 1000;
    log(`${m} [tunnel ${(now.tunnel - mark.tunnel).toFixed(2)} CPU s, RSS ${rssMiB(pid).toFixed(0)} MiB; bench ${((self.user + self.system) / 1e6 / wall).toFixed(2)} CPU s/s]`);
    mark = now;
  };

  await Bun.sleep(plan.settleMs);
  const idleRssMiB = rssMiB(pid);
  say(`idle connected: RSS ${idleRssMiB.toFixed(1)} MiB`);

  const startPeakRssMiB = peakRssMiB(pid);
  resetPeakRss(pid);
  const bulkCpu0 = cpuSeconds(pid);
  const bytes = plan.bulkMiB * 2 ** 20;
  const up = await iperf(tunnel.iperfPort, targets.iperf, bytes, false);
  say(`upload ${plan.bulkMiB} MiB: ${up.gbps.toFixed(2)} Gbit/s`);
  const down = await iperf(tunnel.iperfPort, targets.iperf, bytes, true);
  say(`download ${plan.bulkMiB} MiB: ${down.gbps.toFixed(2)} Gbit/s`);
  const cpuPerGiB = (cpuSeconds(pid) - bulkCpu0) / ((up.bytes + down.bytes) / 2 ** 30);
  const bulkPeakRssMiB = peakRssMiB(pid);
  say(`bulk: peak RSS ${bulkPeakRssMiB.toFixed(1)} MiB, ${cpuPerGiB.toFixed(2)} CPU s/GiB`);

  // A dead -L means the tunnel is broken and the tool gets no result; a dead -D only fails its rows.
  let connCpu = 0;
  const row = async (route: Route, count: number, concurrency: number) => {
    const c0 = cpuSeconds(pid);
    const r = await runConnections(route, count, concurrency, plan.capMs);
    connCpu += cpuSeconds(pid) - c0;
    return r;
  };
  let warmupCpu = 0;
  const connections = async (route: Route, label: string) => {
    const w0 = cpuSeconds(pid);
    const warm = await runConnections(route, plan.warmup, 1, 10_000);
    warmupCpu += cpuSeconds(pid) - w0;
    if (warm.done === 0 && !route.handshake) throw new Error(`no ${label}warm-up connection got its echo (${warm.errors.join("; ")})`);
    say(describe(`${label}warm-up`, warm));
    const sequential = await row(route, plan.sequential, 1);
    say(describe(`${label}sequential`, sequential));
    const concurrent = await row(route, plan.concurrent, plan.concurrency);
    say(describe(`${label}${plan.concurrency} at a time`, concurrent));
    return { sequential, concurrent };
  };
  const { sequential, concurrent } = await connections({ port: tunnel.echoPort }, "");
  const socks = await connections({ port: tunnel.socksPort, handshake: socks5ConnectTo(targets.echo) }, "SOCKS5 ");
  const done = [sequential, concurrent, socks.sequential, socks.concurrent].reduce((n, r) => n + r.done, 0);
  const m: Measured = {
    idleRssMiB,
    uploadGbps: up.gbps,
    downloadGbps: down.gbps,
    cpuPerGiB,
    bulkPeakRssMiB,
    sequential,
    concurrent,
    socksSequential: socks.sequential,
    socksConcurrent: socks.concurrent,
    cpuPer1000: done > 0 ? (connCpu / done) * 1000 : NaN,
    warmupCpuSeconds: warmupCpu,
    // VmHWM was reset before the bulk rows: the peak of the whole life is the larger of the two.
    peakRssMiB: Math.max(startPeakRssMiB, peakRssMiB(pid)),
    cpuSeconds: cpuSeconds(pid),
  };
  say(`connections: ${m.cpuPer1000.toFixed(2)} CPU s per 1,000; peak RSS ${m.peakRssMiB.toFixed(1)} MiB, ${m.cpuSeconds.toFixed(2)} CPU s in all`);
  return m;
}

async function iperf(tunnelPort: number, target: number, bytes: number, reverse: boolean): Promise<Transfer> {
  const server = await startIperfServer(target);
  try {
    return await runIperf(tunnelPort, bytes, reverse);
  } finally {
    await server.stop();
  }
}

function describe(what: string, r: LoadResult): string {
  const failed = r.failed > 0 ? `, ${r.failed} failed (${r.errors.join("; ")})` : "";
  const p50 = percentile(r.latenciesMs, 50).toFixed(2);
  return `${what}: ${r.done} connections in ${r.seconds.toFixed(2)} s = ${Math.round(r.perSecond)}/s, p50 ${p50} ms${failed}`;
}
