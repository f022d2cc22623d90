// Guards the benchmark script, not fwd's performance: `bench.ts --smoke` (a few seconds, tiny counts)
// must run both tools against a real sshd and print every row of the table with a figure in each
// column. No figure is compared with anything.

import { afterAll, expect, test } from "bun:test";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SMOKE } from "../scripts/bench/plan.ts";
import { rowSpecs } from "../scripts/bench/rows.ts";

const ROOT = join(import.meta.dir, "..");
const dir = mkdtempSync(join(tmpdir(), "fwd-bench-test-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test("bench --smoke prints every row with an OpenSSH, a fwd and a ratio figure", async () => {
  const out = join(dir, "bench.md");
  const p = spawn(process.execPath, [join(ROOT, "scripts", "bench.ts"), "--smoke", "--source", "--out", out], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  p.stdout!.on("data", (d: Buffer) => (stdout += d.toString()));
  p.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => p.kill("SIGTERM"), 80_000);
  const code = await new Promise<number | null>((resolve) => p.once("exit", resolve));
  clearTimeout(timer);
  expect({ code, stderr: code === 0 ? "" : stderr }).toEqual({ code: 0, stderr: "" });
  expect(readFileSync(out, "utf8")).toBe(stdout);
  expect(stdout).toContain("- fwd measured: fwd from source (bun src/main.ts)");

  // The table of medians comes first; "## Each round" repeats the metrics below it.
  const medians = stdout.slice(0, stdout.indexOf("## Each round"));
  const figure = /^-?[\d,]+(\.\d+)?$/;
  const specs = rowSpecs(SMOKE);
  expect(specs.length).toBe(13 + 3 * SMOKE.idleCounts.length + 8 + 4); // + the four slow-link rows
  for (const s of specs) {
    const line = medians.split("\n").find((l) => l.startsWith(`| ${s.metric}${s.lowerIsBetter ? " ¹" : ""} |`));
    expect(line, s.metric).toBeDefined();
    const cells = line!.split("|").slice(2, 5).map((c) => c.trim());
    expect({ metric: s.metric, figures: cells.map((c) => figure.test(c)) }).toEqual({ metric: s.metric, figures: [true, true, true] });
  }
}, 90_000);
