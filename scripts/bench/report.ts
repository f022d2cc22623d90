// What the benchmark prints: the machine it ran on, the Markdown table of medians comparing OpenSSH
// and fwd, every round's value behind each median, and notes for anything that did not run in full.

import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { cpus } from "node:os";
import type { Plan } from "./plan.ts";
import type { Round } from "./round.ts";
import type { RowSpec } from "./rows.ts";
import { median } from "./stats.ts";

export interface Results {
  openssh: Round[];
  fwd: Round[];
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

/** The 1-, 5- and 15-minute load averages: how busy the machine was besides the benchmark. */
export const loadAverage = () => readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");

const fmt = (n: number, d: number) =>
  Number.isFinite(n) ? n.toLocaleString("en-US", { minimumFractionDigits: d, maximumFractionDigits: d }) : "n/a";

/** The table of medians: OpenSSH, fwd, and the ratio oriented so that ≥ 1.00 means fwd is at or better. */
export function table(specs: RowSpec[], r: Results): string[] {
  const lines = ["| metric | OpenSSH | fwd | fwd/OpenSSH |", "|---|---:|---:|---:|"];
  for (const s of specs) {
    const o = median(r.openssh.map(s.get));
    const f = median(r.fwd.map(s.get));
    const ratio = s.lowerIsBetter ? o / f : f / o;
    lines.push(`| ${s.metric}${s.lowerIsBetter ? " ¹" : ""} | ${fmt(o, s.digits)} | ${fmt(f, s.digits)} | ${fmt(ratio, 2)} |`);
  }
  lines.push("", "¹ lower is better; the ratio column is OpenSSH/fwd for these rows, so ≥ 1.00 still means fwd is at or better.");
  return lines;
}

/** Every round's value of every row, in round order, so a median's spread can be seen. */
export function perRound(specs: RowSpec[], r: Results): string[] {
  const values = (rounds: Round[], s: RowSpec) => rounds.map((x) => fmt(s.get(x), s.digits)).join(" · ") || "n/a";
  const lines = ["| metric | OpenSSH, each round | fwd, each round |", "|---|---:|---:|"];
  for (const s of specs) lines.push(`| ${s.metric} | ${values(r.openssh, s)} | ${values(r.fwd, s)} |`);
  return lines;
}

/** Notes for rounds that failed, connections that failed, rows that hit their cap, idle counts not reached. */
export function notes(plan: Plan, r: Results, failedRounds: string[]): string[] {
  const out = [...failedRounds];
  for (const [name, rounds] of Object.entries(r) as [string, Round[]][]) {
    if (rounds.length < plan.rounds) out.push(`- ${name}: ${rounds.length} of ${plan.rounds} rounds completed; its medians are over those`);
    rounds.forEach((m, i) => {
      const at = `${name} round ${i + 1}`;
      const loads = [
        ["sequential", m.sequential, plan.sequential],
        ["concurrent", m.concurrent, plan.concurrent],
        ["SOCKS5 sequential", m.socksSequential, plan.sequential],
        ["SOCKS5 concurrent", m.socksConcurrent, plan.concurrent],
      ] as const;
      for (const [what, l, want] of loads) {
        if (l.failed > 0) out.push(`- ${at} ${what}: ${l.failed} connections failed (${l.errors.join("; ")})`);
        else if (l.done < want) out.push(`- ${at} ${what}: only ${l.done} of ${want} within the ${plan.capMs / 1000} s cap`);
      }
      for (const idle of m.idle) {
        if (idle.opened < idle.count)
          out.push(
            `- ${at}: only ${idle.opened} of ${idle.count} idle connections open (${idle.failed} failed) within ${plan.idleCapMs / 1000} s, ` +
              `RSS ${idle.heldRssMiB.toFixed(1)} MiB with those and ${idle.afterCloseRssMiB.toFixed(1)} MiB after they closed; no figure for that count`,
          );
        if (!idle.closed) out.push(`- ${at}: after ${idle.count} idle connections closed, the tunnel's descriptors were not back to their baseline within 30 s`);
      }
    });
  }
  return out.length > 0 ? ["", ...out] : [];
}
