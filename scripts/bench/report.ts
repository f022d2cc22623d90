// What the benchmark prints: the machine it ran on, each tunnel process's peak memory, and the
// Markdown table comparing OpenSSH and fwd.

import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { cpus } from "node:os";

/** Peak resident set size (VmHWM) of a live process, in MiB. */
export const peakRssMiB = (pid: number) => statusKiB(pid, "VmHWM") / 1024;

/** Current resident set size (VmRSS) of a live process, in MiB. */
export const rssMiB = (pid: number) => statusKiB(pid, "VmRSS") / 1024;

function statusKiB(pid: number, field: string): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  if (!m) throw new Error(`no ${field} in /proc/${pid}/status`);
  return Number(m[1]);
}

/** CPU seconds (user + system) a live process has used so far. */
export function cpuSeconds(pid: number): number {
  // Fields after the parenthesised command name: state is field 3, utime 14, stime 15.
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = Number(fields[11]) + Number(fields[12]);
  return ticks / 100;
}

export function machineLines(fwdLabel: string): string[] {
  const cpuModel = /^model name\s*:\s*(.+)$/m.exec(readFileSync("/proc/cpuinfo", "utf8"))?.[1] ?? cpus()[0]?.model ?? "unknown";
  const sshV = spawnSync("ssh", ["-V"]).stderr?.toString().trim() ?? "unknown";
  const nproc = spawnSync("nproc").stdout?.toString().trim() ?? String(cpus().length);
  return [
    `- date: ${new Date().toISOString()}`,
    `- nproc: ${nproc}; CPU: ${cpuModel}`,
    `- Bun ${Bun.version}; ${sshV}`,
    `- fwd measured: ${fwdLabel}`,
  ];
}

export interface Row {
  metric: string;
  openssh: number;
  fwd: number;
  /** Lower is better: the ratio is then OpenSSH/fwd, so ≥ 1.0 still means fwd is as good or better. */
  lowerIsBetter?: boolean;
  digits: number;
}

export function table(rows: Row[]): string[] {
  const fmt = (n: number, d: number) => (Number.isFinite(n) ? n.toLocaleString("en-US", { minimumFractionDigits: d, maximumFractionDigits: d }) : "n/a");
  const lines = ["| metric | OpenSSH | fwd | fwd/OpenSSH |", "|---|---:|---:|---:|"];
  for (const r of rows) {
    const ratio = r.lowerIsBetter ? r.openssh / r.fwd : r.fwd / r.openssh;
    lines.push(`| ${r.metric}${r.lowerIsBetter ? " ¹" : ""} | ${fmt(r.openssh, r.digits)} | ${fmt(r.fwd, r.digits)} | ${fmt(ratio, 2)} |`);
  }
  lines.push(
    "",
    "¹ lower is better; the ratio column is OpenSSH/fwd for these rows, so ≥ 1.00 still means fwd is as good or better.",
  );
  return lines;
}
