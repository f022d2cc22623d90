// The rows of the benchmark's table, each read from one round of one tool; the table shows the median
// over the rounds. Labels carry the plan's counts, so a --quick or --smoke table says what it measured.

import type { Plan } from "./plan.ts";
import type { Round } from "./round.ts";
import { percentile } from "./stats.ts";

export interface RowSpec {
  metric: string;
  digits: number;
  /** Lower is better: the ratio is then OpenSSH/fwd, so ≥ 1.0 still means fwd is at or better. */
  lowerIsBetter?: boolean;
  get(r: Round): number;
}

export function rowSpecs(plan: Plan): RowSpec[] {
  const n = (x: number) => x.toLocaleString("en-US");
  const lower = true;
  const rows: RowSpec[] = [
    { metric: `upload throughput, ${plan.bulkMiB} MiB (Gbit/s)`, digits: 2, get: (r) => r.uploadGbps },
    { metric: `download throughput, ${plan.bulkMiB} MiB (Gbit/s)`, digits: 2, get: (r) => r.downloadGbps },
    { metric: "tunnel CPU seconds per GiB moved", digits: 2, lowerIsBetter: lower, get: (r) => r.cpuPerGiB },
    { metric: "connections/s, sequential", digits: 0, get: (r) => r.sequential.perSecond },
    { metric: `connections/s, ${plan.concurrency} at a time`, digits: 0, get: (r) => r.concurrent.perSecond },
    { metric: "connections/s through SOCKS5, sequential", digits: 0, get: (r) => r.socksSequential.perSecond },
    { metric: `connections/s through SOCKS5, ${plan.concurrency} at a time`, digits: 0, get: (r) => r.socksConcurrent.perSecond },
    { metric: "p50 latency, sequential (ms)", digits: 2, lowerIsBetter: lower, get: (r) => percentile(r.sequential.latenciesMs, 50) },
    { metric: "p99 latency, sequential (ms)", digits: 2, lowerIsBetter: lower, get: (r) => percentile(r.sequential.latenciesMs, 99) },
    { metric: "tunnel CPU seconds per 1,000 connections", digits: 2, lowerIsBetter: lower, get: (r) => r.cpuPer1000 },
    { metric: `tunnel CPU seconds for the warm-ups before them (2 × ${n(plan.warmup)} connections)`, digits: 2, lowerIsBetter: lower, get: (r) => r.warmupCpuSeconds },
    { metric: "idle connected RSS (MiB)", digits: 1, lowerIsBetter: lower, get: (r) => r.idleRssMiB },
    { metric: `peak RSS while ${plan.bulkMiB} MiB go each way (MiB)`, digits: 1, lowerIsBetter: lower, get: (r) => r.bulkPeakRssMiB },
  ];
  plan.idleCounts.forEach((count, i) => {
    // A count not fully opened gives no figure: a lower count's RSS must not pass for this one's.
    const full = (r: Round) => r.idle[i] !== undefined && r.idle[i]!.opened === count;
    rows.push(
      { metric: `seconds to open ${n(count)} idle connections`, digits: 2, lowerIsBetter: lower, get: (r) => (full(r) ? r.idle[i]!.openSeconds : NaN) },
      { metric: `RSS with ${n(count)} idle connections open (MiB)`, digits: 1, lowerIsBetter: lower, get: (r) => (full(r) ? r.idle[i]!.heldRssMiB : NaN) },
      { metric: `RSS after those ${n(count)} close (MiB)`, digits: 1, lowerIsBetter: lower, get: (r) => (full(r) ? r.idle[i]!.afterCloseRssMiB : NaN) },
    );
  });
  rows.push(
    { metric: "peak RSS over the bulk and connection rows (MiB)", digits: 1, lowerIsBetter: lower, get: (r) => r.peakRssMiB },
    { metric: "peak RSS over the idle-connection rows (MiB)", digits: 1, lowerIsBetter: lower, get: (r) => r.idleTunnelPeakRssMiB },
    { metric: "tunnel CPU seconds, bulk and connection rows", digits: 2, lowerIsBetter: lower, get: (r) => r.cpuSeconds },
    { metric: "tunnel CPU seconds, idle-connection rows", digits: 2, lowerIsBetter: lower, get: (r) => r.idleTunnelCpuSeconds },
    { metric: `slow link: download at 100 ms RTT, ${plan.slowLink.longMiB} MiB (Mbit/s)`, digits: 0, get: (r) => r.slow.downloadMbps },
    { metric: `slow link: upload at 100 ms RTT, ${plan.slowLink.longMiB} MiB (Mbit/s)`, digits: 0, get: (r) => r.slow.uploadMbps },
    { metric: `slow link: JSON lines at 40 Mbit/s with -C, ${plan.slowLink.textMiB} MiB (Mbit/s of text)`, digits: 0, get: (r) => r.slow.textCompressedMbps },
    { metric: `slow link: the same without -C (Mbit/s of text)`, digits: 0, get: (r) => r.slow.textPlainMbps },
    { metric: "start-up, `fwd --version` vs `ssh -V` (ms)", digits: 1, lowerIsBetter: lower, get: (r) => r.version.ms },
    { metric: "start-up, `fwd --help` vs `ssh -V` (ms)", digits: 1, lowerIsBetter: lower, get: (r) => r.help.ms },
    { metric: "max RSS, `fwd --version` vs `ssh -V` (MiB)", digits: 1, lowerIsBetter: lower, get: (r) => r.version.rssMiB },
    { metric: "max RSS, `fwd --help` vs `ssh -V` (MiB)", digits: 1, lowerIsBetter: lower, get: (r) => r.help.rssMiB },
  );
  return rows;
}
