// Runs the real `fwd` command (from source, or a built binary) as a child process and reads its
// output: the "listening" lines it prints, its log, its exit code.

import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const ROOT = join(import.meta.dir, "..", "..");
const BUN = process.execPath;
const DENO = join(ROOT, "node_modules", ".bin", "deno");
/**
 * Deno's cache of transpiled modules, shared by every run: outside TEST_HOME (whose contents tests
 * check) and kept, so each start does not transpile fwd again.
 */
const DENO_DIR = join(ROOT, "node_modules", ".cache", "deno");

/** What runs fwd from source: the test runner's Bun, or Deno (`FWD_TEST_RUNTIME=deno` for a whole run). */
export type FwdRuntime = "bun" | "deno";
const DEFAULT_RUNTIME: FwdRuntime = process.env.FWD_TEST_RUNTIME === "deno" ? "deno" : "bun";

/**
 * An empty home directory for fwd under test, one per test run (removed by setup.ts when the run
 * ends): no user config, keys or known_hosts of the machine's own leak in, nothing fwd writes leaks out.
 */
export const TEST_HOME = mkdtempSync(join(tmpdir(), "fwd-home-"));

export interface FwdProcess {
  proc: ChildProcess;
  stdout: string[];
  stderr: string[];
  /** Bound ports in the order the "listening" lines came. */
  ports: number[];
  /** Resolves with the exit code. */
  exited: Promise<number>;
  /** Waits until a line matching `re` appears on stdout or stderr; rejects when fwd exits first. */
  waitFor(re: RegExp, timeoutMs?: number): Promise<string>;
  /** Sends SIGINT (or another signal) and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number>;
}

export interface FwdRunOptions {
  /** A compiled binary to run instead of `bun src/main.ts`. */
  binary?: string;
  /** The runtime for `src/main.ts` when no binary is given (default: FWD_TEST_RUNTIME, else Bun). */
  runtime?: FwdRuntime;
  env?: Record<string, string | undefined>;
}

/** The command line that starts fwd with `args`, and what its environment needs for that. */
function fwdCommand(args: string[], o: FwdRunOptions): { cmd: string; argv: string[]; env: Record<string, string> } {
  const main = join(ROOT, "src", "main.ts");
  if (o.binary) return { cmd: o.binary, argv: args, env: {} };
  if ((o.runtime ?? DEFAULT_RUNTIME) === "bun") return { cmd: BUN, argv: [main, ...args], env: {} };
  // --config: Deno looks for deno.json from the working directory, which some tests change.
  // --cached-only: nothing is fetched; the npm packages come from node_modules (nodeModulesDir manual).
  return {
    cmd: DENO,
    argv: ["run", "-A", "--quiet", "--cached-only", "--config", join(ROOT, "deno.json"), main, ...args],
    env: { DENO_DIR, DENO_NO_UPDATE_CHECK: "1" },
  };
}

export function runFwd(args: string[], o: FwdRunOptions = {}): FwdProcess {
  const { cmd, argv, env: runtimeEnv } = fwdCommand(args, o);
  // A clean environment: no agent and no user config unless the test gives them.
  const env: Record<string, string> = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: TEST_HOME, ...runtimeEnv };
  // The switches back to node:net, node:crypto and one send per buffer pass through, so the suite can run on those paths too.
  for (const k of ["FWD_NODE_NET", "FWD_NODE_CRYPTO", "FWD_NO_WRITEV"]) if (process.env[k]) env[k] = process.env[k]!;
  for (const [k, v] of Object.entries(o.env ?? {})) if (v !== undefined) env[k] = v;
  const proc = spawn(cmd, argv, { env, stdio: ["ignore", "pipe", "pipe"] });
  const stdout: string[] = [];
  const stderr: string[] = [];
  const ports: number[] = [];
  const waiters = new Set<() => void>();
  const collect = (into: string[]) => {
    let partial = "";
    return (d: Buffer) => {
      const lines = (partial + d.toString()).split("\n");
      partial = lines.pop() ?? "";
      for (const line of lines) {
        into.push(line);
        const m = /^listening .*:(\d+) -> /.exec(line);
        if (m && into === stdout) ports.push(Number(m[1]));
      }
      for (const w of waiters) w();
    };
  };
  proc.stdout!.on("data", collect(stdout));
  proc.stderr!.on("data", collect(stderr));
  let exitCode: number | undefined;
  const exited = new Promise<number>((resolve) =>
    proc.once("exit", (code, signal) => {
      exitCode = code ?? (signal ? 128 : 1);
      for (const w of waiters) w();
      resolve(exitCode);
    }),
  );
  return {
    proc,
    stdout,
    stderr,
    ports,
    exited,
    waitFor(re, timeoutMs = 15_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const hit = [...stdout, ...stderr].find((l) => re.test(l));
          // A line fwd wrote to stderr after one on stdout (`probe ok` after `listening`) can be read
          // first: the two pipes are read apart. A moment more lets stdout's earlier lines, and the
          // ports they give, be in (seen: `ports` still empty after a probe line, under Deno in CI).
          if (hit !== undefined && !stdout.includes(hit)) return done(() => void setTimeout(() => resolve(hit), 50));
          if (hit !== undefined) return done(() => resolve(hit));
          if (exitCode !== undefined)
            return done(() => reject(new Error(`fwd exited (${exitCode}) before ${re}:\n${[...stdout, ...stderr].join("\n")}`)));
        };
        const timer = setTimeout(() => done(() => reject(new Error(`no ${re} within ${timeoutMs} ms:\n${[...stdout, ...stderr].join("\n")}`))), timeoutMs);
        const done = (f: () => void) => {
          clearTimeout(timer);
          waiters.delete(check);
          f();
        };
        waiters.add(check);
        check();
      });
    },
    async stop(signal = "SIGINT") {
      if (exitCode === undefined) proc.kill(signal);
      return exited;
    },
  };
}

/** Runs fwd to completion (for commands that are expected to fail or finish). */
export async function runFwdToEnd(args: string[], o: FwdRunOptions = {}, timeoutMs = 30_000) {
  const p = runFwd(args, o);
  const timer = setTimeout(() => p.proc.kill("SIGKILL"), timeoutMs);
  const code = await p.exited;
  clearTimeout(timer);
  return { code, stdout: p.stdout.join("\n"), stderr: p.stderr.join("\n") };
}

/**
 * The two kinds of socket fwd accepts on, for tests that must hold on both: Bun's own
 * (src/runtime/bun-tcp.ts) and node:net (FWD_NODE_NET=1), each as its name and the environment it needs.
 */
export const SOCKET_KINDS = [
  ["Bun's sockets", { FWD_NODE_NET: "0" }],
  ["node:net sockets (FWD_NODE_NET=1)", { FWD_NODE_NET: "1" }],
] as const;
