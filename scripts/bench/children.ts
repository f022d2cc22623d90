// Every child process the benchmark starts (tunnels, iperf3, the echo server), so that an interrupted
// run can end them by pid before it exits, and a normal stop that brings them down politely.

import type { ChildProcess } from "node:child_process";

const live = new Set<ChildProcess>();

/** Remembers `p` until it exits; returns it. */
export function track<T extends ChildProcess>(p: T): T {
  live.add(p);
  p.once("exit", () => live.delete(p));
  return p;
}

/** SIGKILLs every tracked child that is still running (for an interrupted run). */
export function killAll(): void {
  for (const p of live) p.kill("SIGKILL");
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
export async function stopChild(p: ChildProcess, graceMs = 2_000): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return;
  const gone = new Promise((r) => p.once("exit", r));
  p.kill("SIGTERM");
  const timer = setTimeout(() => p.kill("SIGKILL"), graceMs);
  await gone;
  clearTimeout(timer);
}
