// How much the benchmark does: the full run behind `npm run bench`, `--quick` (one round, smaller
// counts) and `--smoke` (a few seconds, for the test that guards the script; its figures mean nothing).

import type { SlowLinkPlan } from "./slow-link.ts";

export interface Plan {
  name: "full" | "quick" | "smoke";
  /** Alternating rounds (OpenSSH, fwd, OpenSSH, fwd, …); each row reports the median over them. */
  rounds: number;
  warmup: number;
  sequential: number;
  concurrent: number;
  concurrency: number;
  /** Upper bound on each connection row, whatever its count. */
  capMs: number;
  /** MiB sent each way by the bulk rows (iperf3 -n). */
  bulkMiB: number;
  /** Pause before an idle memory reading, so that start-up work and freed memory have settled. */
  settleMs: number;
  /** Concurrent idle connections held through the -L, one row pair per count. */
  idleCounts: number[];
  /** Upper bound on opening one count of idle connections. */
  idleCapMs: number;
  /** Runs of each start-up command per round. */
  startupRuns: number;
  /** MiB moved at 100 ms RTT each way, and MiB of JSON lines across 40 Mbit/s. */
  slowLink: SlowLinkPlan;
}

export const FULL: Plan = {
  name: "full",
  rounds: 3,
  // Enough for fwd's JIT to have compiled the connection path (measured: after 50, the next 2,000
  // sequential connections cost 0.66 CPU ms each; after 300, 0.47). What the warm-up costs each tool
  // is a row of its own, so the one-time cost stays in the table.
  warmup: 500,
  sequential: 2000,
  concurrent: 5000,
  concurrency: 50,
  capMs: 20_000,
  bulkMiB: 512,
  settleMs: 2_000,
  idleCounts: [2000, 10000],
  // OpenSSH's cost per new channel grows with the channels open (each poll round visits all of them):
  // 10,000 took it 288 s on this 2-core machine under a load average of 11, far less when quiet.
  idleCapMs: 300_000,
  startupRuns: 20,
  slowLink: { longMiB: 32, textMiB: 16 },
};

export const QUICK: Plan = {
  ...FULL,
  name: "quick",
  rounds: 1,
  warmup: 10,
  sequential: 300,
  concurrent: 1000,
  capMs: 8_000,
  bulkMiB: 128,
  settleMs: 1_000,
  idleCounts: [500, 2000],
  idleCapMs: 30_000,
  startupRuns: 5,
  slowLink: { longMiB: 16, textMiB: 8 },
};

export const SMOKE: Plan = {
  name: "smoke",
  rounds: 1,
  // Enough that fwd's warm-up CPU is never 0 ticks (its row would have no ratio).
  warmup: 30,
  sequential: 20,
  concurrent: 40,
  concurrency: 10,
  capMs: 3_000,
  bulkMiB: 8,
  settleMs: 200,
  idleCounts: [20, 50],
  idleCapMs: 5_000,
  startupRuns: 2,
  slowLink: { longMiB: 1, textMiB: 1 },
};
