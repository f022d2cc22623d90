// One round for one tool: the bulk and connection rows through a fresh tunnel (measure.ts), the idle
// connection counts through a second fresh tunnel (so that their "back to baseline" compares with a
// process that carried nothing before), and the start-up commands.

import { holdIdle, type IdleResult } from "./idle.ts";
import { measure, type Measured, type Say } from "./measure.ts";
import type { Plan } from "./plan.ts";
import type { SlowLinkPlan, SlowLinkResult } from "./slow-link.ts";
import { cpuSeconds, peakRssMiB, rssMiB } from "./proc.ts";
import { startup, type Startup } from "./startup.ts";
import type { Targets, Tunnel } from "./tunnels.ts";

export interface Tool {
  name: "openssh" | "fwd";
  start(): Promise<Tunnel>;
  /** The commands timed for start-up: OpenSSH has only `ssh -V` for both. */
  version: string[];
  help: string[];
  env: Record<string, string>;
  /** The slow-link rows, through relays in front of the same sshd. */
  slowLink(plan: SlowLinkPlan, say: Say): Promise<SlowLinkResult>;
}

export interface Round extends Measured {
  /** RSS of the second tunnel, connected and settled, before it opened any idle connection. */
  idleBaselineRssMiB: number;
  idle: IdleResult[];
  /** Peak RSS and CPU seconds of that second tunnel over its life. */
  idleTunnelPeakRssMiB: number;
  idleTunnelCpuSeconds: number;
  version: Startup;
  help: Startup;
  slow: SlowLinkResult;
}

export async function runRound(tool: Tool, targets: Targets, plan: Plan, say: Say): Promise<Round> {
  const measured = await withTunnel(tool, say, (t) => measure(t, targets, plan, say));

  const many = await withTunnel(tool, say, async (t) => {
    await Bun.sleep(plan.settleMs);
    const baseline = rssMiB(t.pid);
    say(`idle-connection tunnel: RSS ${baseline.toFixed(1)} MiB before any`);
    const idle: IdleResult[] = [];
    for (const count of plan.idleCounts) {
      const r = await holdIdle(t.pid, targets.echoPid, t.echoPort, count, plan.idleCapMs, plan.settleMs);
      idle.push(r);
      const failed = r.failed > 0 ? `, ${r.failed} failed` : "";
      const closed = r.closed ? `closed in ${r.closeSeconds.toFixed(1)} s` : `still ${r.heldFds} descriptors at the close deadline`;
      say(
        `${r.opened} of ${count} idle connections open in ${r.openSeconds.toFixed(1)} s${failed}: RSS ${r.heldRssMiB.toFixed(1)} MiB, ` +
          `${r.heldFds} fds; ${closed}, then RSS ${r.afterCloseRssMiB.toFixed(1)} MiB`,
      );
    }
    return { baseline, idle, peak: peakRssMiB(t.pid), cpu: cpuSeconds(t.pid) };
  });

  const slow = await tool.slowLink(plan.slowLink, say);
  const version = startup(tool.version, plan.startupRuns, tool.env);
  const help = startup(tool.help, plan.startupRuns, tool.env);
  say(`${tool.version.join(" ")}: ${version.ms.toFixed(1)} ms, ${version.rssMiB.toFixed(1)} MiB; ${tool.help.join(" ")}: ${help.ms.toFixed(1)} ms, ${help.rssMiB.toFixed(1)} MiB`);

  return {
    ...measured,
    idleTunnelPeakRssMiB: many.peak,
    idleTunnelCpuSeconds: many.cpu,
    idleBaselineRssMiB: many.baseline,
    idle: many.idle,
    version,
    help,
    slow,
  };
}

/** Starts a tunnel, runs `body` on it and stops it, pass or fail, saying how long the stop took. */
async function withTunnel<T>(tool: Tool, say: Say, body: (t: Tunnel) => Promise<T>): Promise<T> {
  const t = await tool.start();
  try {
    return await body(t);
  } finally {
    const t0 = performance.now();
    await t.stop();
    say(`tunnel exited ${((performance.now() - t0) / 1000).toFixed(2)} s after SIGTERM`);
  }
}
