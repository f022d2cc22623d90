// Start-up cost of a short command (`ssh -V`, `fwd --version`, `fwd --help`): the median wall time of
// running it to exit, and the median of its peak memory as GNU time reports it. Bun's own
// resourceUsage().maxRSS is not used: it counts pages of the process image before exec (`true` shows
// 15 MiB there, 1 MiB under /usr/bin/time).

import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { median } from "./stats.ts";

const TIME = "/usr/bin/time";

export interface Startup {
  ms: number;
  rssMiB: number;
}

/** Runs `argv` `runs` times for the wall time, then `runs` times under /usr/bin/time for the peak RSS. */
export function startup(argv: string[], runs: number, env: Record<string, string>): Startup {
  const wall: number[] = [];
  const rss: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const r = spawnSync(argv[0]!, argv.slice(1), { env, stdio: "ignore", timeout: 10_000 });
    wall.push(performance.now() - t0);
    if (r.error || r.signal) throw new Error(`${argv.join(" ")}: ${r.error?.message ?? r.signal}`);
  }
  if (existsSync(TIME)) {
    for (let i = 0; i < runs; i++) {
      const r = spawnSync(TIME, ["-f", "%M", ...argv], { env, stdio: ["ignore", "ignore", "pipe"], timeout: 10_000 });
      const kib = /(\d+)\s*$/.exec(r.stderr?.toString() ?? "")?.[1];
      if (kib) rss.push(Number(kib) / 1024);
    }
  }
  return { ms: median(wall), rssMiB: median(rss) };
}
