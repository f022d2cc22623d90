// The benchmark behind `npm run bench`: OpenSSH `ssh -L`/`-D` and `fwd -L`/`-D` against one real sshd on
// loopback, one after the other in the same run (absolute figures drift between runs, ratios less),
// printed as a Markdown table and written to dist/bench.md. `--quick` is a smoke run; `--source`
// measures `bun src/main.ts` even when dist/fwd exists; `--runtime deno` measures `deno run -A src/main.ts`.

import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { startSshd, type Sshd } from "../test/harness/sshd.ts";
import { freePort } from "../test/harness/net.ts";
import { startEchoServer, percentile, type EchoServer } from "./bench/load.ts";
import { FULL, QUICK, measure, type Measured } from "./bench/measure.ts";
import { machineLines, table, type Row } from "./bench/report.ts";
import { CIPHER, fwdCommand, startFwd, startOpenSsh } from "./bench/tunnels.ts";
import { killAll } from "./bench/children.ts";

const argv = process.argv.slice(2);
const plan = argv.includes("--quick") ? QUICK : FULL;
const runtimeAt = argv.indexOf("--runtime");
const runtime = runtimeAt >= 0 ? argv[runtimeAt + 1] : "bun";
if (runtime !== "bun" && runtime !== "deno") {
  process.stderr.write(`bench: --runtime takes bun or deno, not ${runtime ?? "nothing"}\n`);
  process.exit(2);
}
const fwd = fwdCommand(argv.includes("--source"), runtime);
const t0 = performance.now();

let sshd: Sshd | undefined;
let echo: EchoServer | undefined;
const cleanup = async () => {
  await echo?.close();
  await sshd?.stop();
};
for (const signal of ["SIGINT", "SIGTERM"] as const)
  process.once(signal, () => {
    killAll();
    void cleanup().finally(() => process.exit(130));
  });

let failed = false;
try {
  sshd = await startSshd();
  echo = await startEchoServer();
  const targets = { echo: echo.port, iperf: await freePort() };
  process.stderr.write(`bench: sshd on 127.0.0.1:${sshd.port}, cipher ${CIPHER}, measuring ${fwd.label}\n`);

  // One tool at a time, each through its own fresh tunnel; a tool that fails leaves its column n/a.
  const results: { openssh?: Measured; fwd?: Measured } = {};
  const tools = [
    ["openssh", () => startOpenSsh(sshd!, targets)],
    ["fwd", () => startFwd(sshd!, targets, fwd)],
  ] as const;
  for (const [name, start] of tools) {
    try {
      results[name] = await measure(name, await start(), targets, plan);
    } catch (e) {
      failed = true;
      process.stderr.write(`bench: ${name} failed: ${(e as Error).message}\n`);
    }
  }

  const seconds = (performance.now() - t0) / 1000;
  const lines = [
    `# fwd benchmark${plan === QUICK ? " (--quick)" : ""}`,
    "",
    ...machineLines(fwd.label),
    `- loopback, one sshd, cipher ${CIPHER}; OpenSSH \`ssh -N -L … -D …\` then \`fwd -L … -D 0\`, each through a fresh tunnel`,
    `- connections: connect, 100 bytes out, 100-byte echo back, close; ${plan.sequential} one at a time, ` +
      `${plan.concurrent} ${plan.concurrency} at a time (each capped at ${plan.capMs / 1000} s); bulk: iperf3 -t ${plan.iperfSeconds}`,
    `- SOCKS5 connections: the same, after a no-auth greeting and a CONNECT to 127.0.0.1 sent in one write`,
    `- whole run: ${seconds.toFixed(0)} s`,
    "",
    ...table(rows(results.openssh, results.fwd)),
    ...failures(results),
  ];
  const text = lines.join("\n") + "\n";
  process.stdout.write(text);
  const dist = join(import.meta.dir, "..", "dist");
  mkdirSync(dist, { recursive: true });
  writeFileSync(join(dist, "bench.md"), text);
  process.stderr.write(`bench: wrote dist/bench.md\n`);
} catch (e) {
  failed = true;
  process.stderr.write(`bench: ${(e as Error).stack ?? e}\n`);
} finally {
  await cleanup();
}
process.exit(failed ? 1 : 0);

function rows(o: Measured | undefined, f: Measured | undefined): Row[] {
  const pick = (m: Measured | undefined, get: (m: Measured) => number) => (m ? get(m) : NaN);
  const row = (metric: string, digits: number, get: (m: Measured) => number, lowerIsBetter = false): Row => ({
    metric,
    digits,
    openssh: pick(o, get),
    fwd: pick(f, get),
    lowerIsBetter,
  });
  return [
    row("upload throughput (Gbit/s)", 2, (m) => m.uploadGbps),
    row("download throughput (Gbit/s)", 2, (m) => m.downloadGbps),
    row("connections/s, sequential", 0, (m) => m.sequential.perSecond),
    row(`connections/s, ${plan.concurrency} at a time`, 0, (m) => m.concurrent.perSecond),
    row("connections/s through SOCKS5, sequential", 0, (m) => m.socksSequential.perSecond),
    row(`connections/s through SOCKS5, ${plan.concurrency} at a time`, 0, (m) => m.socksConcurrent.perSecond),
    row("p50 latency, sequential (ms, lower is better)", 2, (m) => percentile(m.sequential.latenciesMs, 50), true),
    row("p99 latency, sequential (ms, lower is better)", 2, (m) => percentile(m.sequential.latenciesMs, 99), true),
    row("peak RSS of the tunnel process (MiB, lower is better)", 1, (m) => m.peakRssMiB, true),
  ];
}

/** Notes under the table for connections that failed or rows that hit their time cap. */
function failures(r: { openssh?: Measured; fwd?: Measured }): string[] {
  const notes: string[] = [];
  for (const [name, m] of Object.entries(r)) {
    const loads = [
      ["sequential", m.sequential, plan.sequential],
      ["concurrent", m.concurrent, plan.concurrent],
      ["SOCKS5 sequential", m.socksSequential, plan.sequential],
      ["SOCKS5 concurrent", m.socksConcurrent, plan.concurrent],
    ] as const;
    for (const [what, l, want] of loads) {
      if (l.failed > 0) notes.push(`- ${name} ${what}: ${l.failed} connections failed (${l.errors.join("; ")})`);
      else if (l.done < want) notes.push(`- ${name} ${what}: only ${l.done} of ${want} within the ${plan.capMs / 1000} s cap`);
    }
  }
  return notes.length > 0 ? ["", ...notes] : [];
}
