// The two tunnels under test, started the same way against the same sshd: OpenSSH `ssh -N` and `fwd`,
// each with one -L to the echo server, one -L to the iperf3 port and a -D SOCKS proxy, same cipher.

import { spawn } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import type { Sshd } from "../../test/harness/sshd.ts";
import { runFwd, type FwdRunOptions, type FwdRuntime } from "../../test/harness/fwd.ts";
import { freePort, waitForPort } from "../../test/harness/net.ts";
import { stopChild, track } from "./children.ts";

export const CIPHER = "aes128-gcm@openssh.com";
const ROOT = join(import.meta.dir, "..", "..");
const READY_MS = 20_000;

export interface Tunnel {
  pid: number;
  /** Local port forwarded to the echo server. */
  echoPort: number;
  /** Local port forwarded to the iperf3 server's port. */
  iperfPort: number;
  /** Local SOCKS port whose connections leave from the sshd's side. */
  socksPort: number;
  stop(): Promise<void>;
}

export interface Targets {
  echo: number;
  /** The echo server's process: its descriptor count tells how many connections reached it. */
  echoPid: number;
  iperf: number;
}

/** A clean environment: no agent, no user config (the harness's fwd runner does the same). */
const cleanEnv = () => ({ PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: "/nonexistent" });

/**
 * OpenSSH cannot bind -L to port 0 and report the port, so its ports are picked free beforehand; one
 * can be taken between the pick and ssh's bind (seen here after earlier rows: "Address already in
 * use"), and then the start is tried again with new ports.
 */
export async function startOpenSsh(sshd: Sshd, t: Targets): Promise<Tunnel> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOpenSshOnce(sshd, t);
    } catch (e) {
      if (attempt >= 5 || !/Address already in use/.test((e as Error).message)) throw e;
    }
  }
}

async function startOpenSshOnce(sshd: Sshd, t: Targets): Promise<Tunnel> {
  const echoPort = await freePort();
  const iperfPort = await freePort();
  const socksPort = await freePort();
  const args = [
    "-N", "-c", CIPHER, ...sshd.clientArgs,
    "-o", "ExitOnForwardFailure=yes", "-o", "BatchMode=yes",
    "-L", `127.0.0.1:${echoPort}:127.0.0.1:${t.echo}`,
    "-L", `127.0.0.1:${iperfPort}:127.0.0.1:${t.iperf}`,
    "-D", `127.0.0.1:${socksPort}`,
    "127.0.0.1",
  ];
  const p = track(spawn("ssh", args, { env: cleanEnv(), stdio: ["ignore", "ignore", "pipe"] }));
  let log = "";
  p.stderr!.on("data", (d: Buffer) => (log += d.toString()));
  const exited = new Promise<never>((_, reject) => p.once("exit", (code) => reject(new Error(`ssh exited (${code}): ${log}`))));
  exited.catch(() => {});
  try {
    // Only the echo forward is probed: a bare connect to iperf3 -s -1 would use up its one test.
    await Promise.race([waitForPort("127.0.0.1", echoPort, READY_MS), exited]);
    await Promise.race([waitForListen(iperfPort), exited]);
    await Promise.race([waitForListen(socksPort), exited]);
  } catch (e) {
    await stopChild(p);
    throw e;
  }
  return { pid: p.pid!, echoPort, iperfPort, socksPort, stop: () => stopChild(p) };
}

/**
 * Which fwd gets measured: the built binary when there is one (unless --source), else the source;
 * under Deno (--runtime deno) always the source, `deno run -A src/main.ts`.
 */
export function fwdCommand(preferSource: boolean, runtime: FwdRuntime = "bun"): FwdRunOptions & { label: string } {
  if (runtime === "deno") return { runtime, label: "fwd from source under Deno (deno run -A src/main.ts)" };
  const bin = join(ROOT, "dist", "fwd");
  if (preferSource || !existsSync(bin)) return { label: "fwd from source (bun src/main.ts)" };
  const built = statSync(bin).mtimeMs;
  const stale = newestMtime(join(ROOT, "src")) > built;
  return { binary: bin, label: `dist/fwd (built ${new Date(built).toISOString()}${stale ? "; older than src/ — run `npm run build`" : ""})` };
}

export async function startFwd(sshd: Sshd, t: Targets, how: FwdRunOptions): Promise<Tunnel> {
  const args = [
    ...sshd.clientArgs, "-c", CIPHER, "-o", "BatchMode=yes",
    "-L", `0:127.0.0.1:${t.echo}`,
    "-L", `0:127.0.0.1:${t.iperf}`,
    "-D", "0",
    "127.0.0.1",
  ];
  const f = runFwd(args, { ...(how.binary ? { binary: how.binary } : {}), ...(how.runtime ? { runtime: how.runtime } : {}) });
  track(f.proc);
  const stop = () => stopChild(f.proc, 5_000);
  try {
    const bound = async (to: string) => {
      const line = await f.waitFor(new RegExp(`^listening .*:(\\d+) -> ${to}$`), READY_MS);
      return Number(/:(\d+) -> /.exec(line)![1]);
    };
    const echoPort = await bound(`127\\.0\\.0\\.1:${t.echo}`);
    const iperfPort = await bound(`127\\.0\\.0\\.1:${t.iperf}`);
    const socksPort = await bound("SOCKS, connecting from the server");
    await waitForPort("127.0.0.1", echoPort, READY_MS);
    return { pid: f.proc.pid!, echoPort, iperfPort, socksPort, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

/** Waits until something listens on the port, by reading /proc/net/tcp instead of connecting. */
async function waitForListen(port: number): Promise<void> {
  const hex = `:${port.toString(16).toUpperCase().padStart(4, "0")} `;
  const deadline = Date.now() + READY_MS;
  while (Date.now() < deadline) {
    const table = await Bun.file("/proc/net/tcp").text();
    // State 0A is LISTEN.
    if (table.split("\n").some((l) => l.includes(`0100007F${hex}`) && / 0A /.test(l))) return;
    await Bun.sleep(25);
  }
  throw new Error(`nothing listens on 127.0.0.1:${port} after ${READY_MS} ms`);
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) newest = Math.max(newest, statSync(join(e.parentPath, e.name)).mtimeMs);
  }
  return newest;
}
