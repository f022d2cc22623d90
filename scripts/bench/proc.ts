// What the benchmark reads about a live process from /proc: its memory (current and peak resident
// set), its CPU time and its open file descriptors, and the file-descriptor limit of this process,
// which every child (echo server, sshd, both tunnels) inherits.

import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";

/** Peak resident set size (VmHWM) of a live process, in MiB: since it started or since resetPeakRss. */
export const peakRssMiB = (pid: number) => statusKiB(pid, "VmHWM") / 1024;

/** Current resident set size (VmRSS) of a live process, in MiB. */
export const rssMiB = (pid: number) => statusKiB(pid, "VmRSS") / 1024;

/**
 * Sets a process's VmHWM back to its current RSS (`5` to clear_refs, Linux ≥ 4.0), so that the next
 * peakRssMiB is the peak of what comes after, not of the process's whole life.
 */
export const resetPeakRss = (pid: number) => writeFileSync(`/proc/${pid}/clear_refs`, "5");

function statusKiB(pid: number, field: string): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  if (!m) throw new Error(`no ${field} in /proc/${pid}/status`);
  return Number(m[1]);
}

/** CPU seconds (user + system) a live process has used so far, to the kernel's 10 ms tick. */
export function cpuSeconds(pid: number): number {
  // Fields after the parenthesised command name: state is field 3, utime 14, stime 15.
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = Number(fields[11]) + Number(fields[12]);
  return ticks / 100;
}

/** How many file descriptors a live process has open. */
export const fdCount = (pid: number) => readdirSync(`/proc/${pid}/fd`).length;

/**
 * Raises this process's soft RLIMIT_NOFILE to `want` (or as far as the hard limit allows, when raising
 * the hard limit is not permitted), with prlimit on our own pid because Bun has no setrlimit. Children
 * started afterwards inherit it, so the tunnels need no `ulimit -n` wrapper. Returns the soft limit now.
 */
export function raiseFdLimit(want: number): number {
  const [soft, hard] = fdLimits();
  if (soft >= want) return soft;
  const set = (n: number) => spawnSync("prlimit", ["--pid", String(process.pid), `--nofile=${n}:${Math.max(n, hard)}`]).status === 0;
  if (!set(want) && soft < hard) set(Math.min(want, hard));
  return fdLimits()[0];
}

function fdLimits(): [number, number] {
  const m = /^Max open files\s+(\d+)\s+(\d+)/m.exec(readFileSync("/proc/self/limits", "utf8"));
  if (!m) throw new Error("no open-files line in /proc/self/limits");
  return [Number(m[1]), Number(m[2])];
}
