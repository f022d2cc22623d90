// JavaScriptCore settings for a long-running tunnel, applied by starting the same program again with
// them. JSC reads its options only from BUN_JSC_* environment variables when the process starts, so a
// standalone binary cannot carry them any other way; execve(2) replaces this process image (same pid,
// same parent, same standard input, output and error), so nothing is left behind and the exit status
// is still fwd's own. Other inherited descriptors do not always survive it (Bun marks some of them
// close-on-exec: seen, a descriptor 63 gone after the execve, a descriptor 3 kept), so a process
// given more than those three (`-F /dev/fd/63`, a socket handed over) is not started again: it runs
// with JSC's defaults instead.
//
// Why: with FTL on, JSC's compiler thread kept recompiling the per-connection path for as long as
// connections came — measured here, 0.66 CPU s of JITWorker per 6,000 short connections (a third of
// all the tunnel's CPU) against 0.16 s without FTL, with the main thread's share unchanged and bulk
// throughput no lower (scripts/bench, README "Benchmark"). The DFG tier still optimises hot code.

import { readdirSync, readlinkSync } from "node:fs";

/** Only what this file uses of Bun (declared here so that `deno check` passes without Bun's types). */
declare const Bun: { main: string } | undefined;

/** What fwd sets for the processes that carry traffic, unless the environment already says otherwise. */
export const TUNNEL_JSC_OPTIONS: Readonly<Record<string, string>> = { BUN_JSC_useFTLJIT: "0" };

/**
 * Whether this process holds a descriptor above 2 that it did not open itself (Bun's own are its
 * epoll and eventfd, "anon_inode:"); also true where /proc cannot say.
 */
export function inheritsDescriptors(): boolean {
  try {
    for (const name of readdirSync("/proc/self/fd")) {
      if (Number(name) < 3) continue;
      let target: string;
      try {
        target = readlinkSync(`/proc/self/fd/${name}`);
      } catch {
        continue; // the listing's own descriptor, closed by now
      }
      if (!target.startsWith("anon_inode:")) return true;
    }
    return false;
  } catch {
    return true;
  }
}

/**
 * Starts this same command again under TUNNEL_JSC_OPTIONS, when running on Bun and the environment does
 * not set them yet (so a user's own BUN_JSC_useFTLJIT wins, and the second start does not loop).
 * Returns only when it did not re-execute: not Bun, already set, descriptors it would lose (see
 * inheritsDescriptors), or execve failed (then fwd simply runs with JSC's defaults).
 */
export async function reexecWithTunnelJit(): Promise<void> {
  if (typeof Bun === "undefined") return;
  const missing = Object.entries(TUNNEL_JSC_OPTIONS).filter(([k]) => process.env[k] === undefined);
  if (missing.length === 0 || inheritsDescriptors()) return;
  const main = Bun.main;
  const compiled = main.startsWith("/$bunfs/");
  // A standalone binary re-applies its own embedded runtime flags; from source, Bun's flags and the
  // script come before fwd's arguments.
  const argv = compiled
    ? [process.execPath, ...process.argv.slice(2)]
    : [process.execPath, ...process.execArgv, main, ...process.argv.slice(2)];
  const env = [...Object.entries(process.env).filter(([, v]) => v !== undefined).map(([k, v]) => `${k}=${v}`), ...missing.map(([k, v]) => `${k}=${v}`)];
  try {
    const { dlopen, FFIType: T, ptr } = await import("bun:ffi");
    const { symbols } = dlopen("libc.so.6", { execve: { args: [T.ptr, T.ptr, T.ptr], returns: T.i32 } });
    // The strings and the pointer arrays stay referenced until execve returns (it returns only on failure).
    const strings = [process.execPath, ...argv, ...env].map((s) => Buffer.from(`${s}\0`));
    const table = (list: Buffer[]) => {
      const t = new BigUint64Array(list.length + 1);
      list.forEach((b, i) => (t[i] = BigInt(ptr(b))));
      return t;
    };
    const argvTable = table(strings.slice(1, 1 + argv.length));
    const envTable = table(strings.slice(1 + argv.length));
    symbols.execve(ptr(strings[0]!), ptr(argvTable), ptr(envTable));
  } catch {
    // No libc by that name, or no FFI: run as is.
  }
}
