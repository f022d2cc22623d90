// The benchmark behind `npm run bench`: OpenSSH `ssh -N -L … -D …` and `fwd -L … -D 0` against one real
// sshd on loopback, in alternating rounds (OpenSSH, fwd, OpenSSH, fwd, …) in the same run, each row the
// median over the rounds, printed as a Markdown table and written to dist/bench.md.
//
// Flags: --rounds N (default 3), --quick (1 round, smaller counts), --smoke (a few seconds; guards the
// script, its figures mean nothing), --source (measure `bun src/main.ts` even when dist/fwd exists),
// --idle N,N (other idle-connection counts), --out FILE (instead of dist/bench.md), --runtime deno (measure
// `deno run -A src/main.ts` in the fwd column, for information).

import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { startSshd, type Sshd } from "../test/harness/sshd.ts";
import { freePort } from "../test/harness/net.ts";
import { TEST_HOME } from "../test/harness/fwd.ts";
import { startEchoServer, type EchoServer } from "./bench/load.ts";
import { FULL, QUICK, SMOKE } from "./bench/plan.ts";
import { raiseFdLimit } from "./bench/proc.ts";
import { loadAverage, machineLines, notes, perRound, table, type Results } from "./bench/report.ts";
import { runRound, type Tool } from "./bench/round.ts";
import { rowSpecs } from "./bench/rows.ts";
import { CIPHER, fwdCommand, startFwd, startOpenSsh } from "./bench/tunnels.ts";
import { killAll } from "./bench/children.ts";
import { measureSlowLink } from "./bench/slow-link.ts";

const argv = process.argv.slice(2);
const flag = (name: string) => argv.includes(name);
const value = (name: string) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : undefined);
const base = flag("--smoke") ? SMOKE : flag("--quick") ? QUICK : FULL;
const rounds = Number(value("--rounds") ?? base.rounds);
if (!Number.isInteger(rounds) || rounds < 1) {
  process.stderr.write(`bench: --rounds wants a whole number ≥ 1, not ${value("--rounds")}\n`);
  process.exit(2);
}
const idleFlag = value("--idle")?.split(",").map(Number);
if (idleFlag && !idleFlag.every((n) => Number.isInteger(n) && n > 0)) {
  process.stderr.write(`bench: --idle wants counts like 2000,10000, not ${value("--idle")}\n`);
  process.exit(2);
}
const out = value("--out") ?? join(import.meta.dir, "..", "dist", "bench.md");
const runtime = value("--runtime") ?? "bun";
if (runtime !== "bun" && runtime !== "deno") {
  process.stderr.write(`bench: --runtime takes bun or deno, not ${runtime}\n`);
  process.exit(2);
}
const fwd = fwdCommand(flag("--source"), runtime);
const t0 = performance.now();

// Each idle connection costs a descriptor here, in the tunnel, in sshd and in the echo server; all of
// them inherit this process's limit. Where the hard limit is lower than asked, the counts that do not
// fit are cut (and the output says so) rather than failing halfway.
const fdLimit = raiseFdLimit(65536);
const fdReserve = 1_000;
const wantIdle = idleFlag ?? base.idleCounts;
const idleCounts = wantIdle.filter((n) => n + fdReserve <= fdLimit);
const plan = { ...base, rounds, idleCounts };

let sshd: Sshd | undefined;
let echo: EchoServer | undefined;
const cleanup = async () => {
  await echo?.close();
  await sshd?.stop();
  rmSync(TEST_HOME, { recursive: true, force: true });
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
  const targets = { echo: echo.port, echoPid: echo.pid, iperf: await freePort() };
  const loadBefore = loadAverage();
  process.stderr.write(`bench: sshd on 127.0.0.1:${sshd.port}, cipher ${CIPHER}, measuring ${fwd.label}; fd limit ${fdLimit}; load ${loadBefore}\n`);

  const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: TEST_HOME };
  const main = join(import.meta.dir, "..", "src", "main.ts");
  const fwdArgv = fwd.binary
    ? [fwd.binary]
    : fwd.runtime === "deno"
      ? [join(import.meta.dir, "..", "node_modules", ".bin", "deno"), "run", "-A", "--quiet", main]
      : [process.execPath, main];
  const tools: Tool[] = [
    {
      name: "openssh", start: () => startOpenSsh(sshd!, targets), version: ["ssh", "-V"], help: ["ssh", "-V"], env,
      slowLink: (p, say) => measureSlowLink("openssh", sshd!, p, {}, say),
    },
    {
      name: "fwd", start: () => startFwd(sshd!, targets, fwd), version: [...fwdArgv, "--version"], help: [...fwdArgv, "--help"], env,
      slowLink: (p, say) => measureSlowLink("fwd", sshd!, p, fwd, say),
    },
  ];
  // A round that fails leaves that tool one round short; the notes say so and the medians use the rest.
  const results: Results = { openssh: [], fwd: [] };
  const failedRounds: string[] = [];
  for (let round = 1; round <= plan.rounds; round++) {
    for (const tool of tools) {
      const say = (m: string) => process.stderr.write(`bench: round ${round}/${plan.rounds} ${tool.name}: ${m}\n`);
      try {
        results[tool.name].push(await runRound(tool, targets, plan, say));
      } catch (e) {
        failed = true;
        failedRounds.push(`- ${tool.name} round ${round} failed: ${(e as Error).message.split("\n")[0]}`);
        say(`failed: ${(e as Error).stack ?? e}`);
      }
    }
  }

  const seconds = (performance.now() - t0) / 1000;
  const specs = rowSpecs(plan);
  const cut = wantIdle.filter((n) => !idleCounts.includes(n));
  const lines = [
    `# fwd benchmark${plan.name === "full" ? "" : ` (--${plan.name})`}`,
    "",
    ...machineLines(fwd.label),
    `- loopback, one sshd, cipher ${CIPHER}; OpenSSH \`ssh -N -L … -D …\` and \`fwd -L … -D 0\`; ` +
      `median of ${plan.rounds} alternating round${plan.rounds > 1 ? "s" : ""} (OpenSSH, fwd, OpenSSH, …), each through fresh tunnels`,
    `- bulk: iperf3 -n ${plan.bulkMiB} MiB up, then down, through the -L; CPU s/GiB is the tunnel process's user+sys CPU over both, ` +
      `per GiB received; its peak RSS is VmHWM reset just before them`,
    `- connections: connect, 100 bytes out, 100-byte echo back, close; ${plan.sequential} one at a time, ` +
      `${plan.concurrent} ${plan.concurrency} at a time (each capped at ${plan.capMs / 1000} s); SOCKS5 the same after a no-auth ` +
      `greeting and a CONNECT to 127.0.0.1 in one write; each route first gets ${plan.warmup} warm-up connections one at a time, ` +
      `whose CPU has a row of its own; CPU per 1,000 is the tunnel's CPU over the four rows after them`,
    `- idle RSS: VmRSS ${plan.settleMs / 1000} s after connecting, before any load; idle connections: a second fresh tunnel, ` +
      `${plan.idleCounts.join(" then ")} connections through its -L opened in batches of 100 (each batch counted open once the ` +
      `echo server holds that many more; nothing is sent), capped at ${plan.idleCapMs / 1000} s per count, held ` +
      `${plan.settleMs / 1000} s, VmRSS read; then all closed, VmRSS read ${plan.settleMs / 1000} s after the tunnel's descriptors are back to baseline` +
      (cut.length > 0 ? ` (${cut.join(", ")} left out: the fd limit here is ${fdLimit})` : ""),
    `- slow link: each tool's -L through the project's user-space relay (test/harness/slow-link.ts) to the same sshd: ` +
      `${plan.slowLink.longMiB} MiB down and up with 50 ms added each way (100 ms RTT); ${plan.slowLink.textMiB} MiB of varied JSON lines ` +
      `down a 40 Mbit/s link (10 ms each way) with and without -C`,
    `- start-up: median wall time of ${plan.startupRuns} runs per round (spawn to exit), max RSS from GNU time; OpenSSH's figure is \`ssh -V\` for both rows` +
      (fwd.binary ? "" : "; fwd from source includes Bun transpiling src/ on each run"),
    `- whole run: ${seconds.toFixed(0)} s; load average ${loadBefore} before, ${loadAverage()} after (other work on the machine makes absolute figures noisy; the ratios within a run are steadier)`,
    "",
    ...table(specs, results),
    ...notes(plan, results, failedRounds),
    "",
    "## Each round",
    "",
    ...perRound(specs, results),
  ];
  const text = lines.join("\n") + "\n";
  process.stdout.write(text);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, text);
  process.stderr.write(`bench: wrote ${out}\n`);
} catch (e) {
  failed = true;
  process.stderr.write(`bench: ${(e as Error).stack ?? e}\n`);
} finally {
  await cleanup();
}
process.exit(failed ? 1 : 0);
