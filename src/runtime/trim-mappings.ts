// Hands back the pages of fwd's program file (and libraries) that only starting up used. Bun is one
// ~100 MB executable; parsing arguments, loading the bundle and connecting touch some 30 MiB of its
// code and read-only data, which then stay mapped — counted in fwd's RSS — for as long as the
// tunnel runs, though most are never used again (measured: idle RSS 51 MiB, 39 MiB of it file pages).
//
// madvise(MADV_DONTNEED) on a mapping that is read-only, file-backed and holds no private (copied)
// page only unmaps: the pages stay in the kernel's page cache, and whatever fwd still uses comes
// back on its next access as a minor fault. The kernel drops such clean pages by itself whenever
// memory is short, so this adds no way of failing that was not there already. Writable mappings,
// and read-only ones with private pages (the dynamic linker's relocated RELRO), are never touched:
// there MADV_DONTNEED would throw away contents. Linux and Bun only; elsewhere, or when anything
// fails, nothing happens.

import { readFileSync } from "node:fs";

const MADV_DONTNEED = 4;

/** Declared here so that `deno check` passes without Bun's types. */
declare const Bun: { gc(sync: boolean): void; shrink?(): void } | undefined;

/** How long JavaScriptCore gets to drop its compiled code (it does so once idle) before the pages are read. */
const DROP_CODE_WAIT_MS = 200;

/** A mapping as /proc/self/smaps describes it, with what decides whether it may be dropped. */
export interface Mapping {
  start: bigint;
  end: bigint;
  perms: string;
  path: string;
  rssKiB: number;
  /** Private pages: copied on write (Anonymous), or copied and swapped out since (Swap, not in Anonymous). */
  anonymousKiB: number;
  swapKiB: number;
}

/** Parses /proc/PID/smaps text into its mappings. */
export function parseSmaps(text: string): Mapping[] {
  const out: Mapping[] = [];
  let cur: Mapping | undefined;
  for (const line of text.split("\n")) {
    const head = /^([0-9a-f]+)-([0-9a-f]+) (\S{4}) \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head) {
      cur = { start: BigInt(`0x${head[1]}`), end: BigInt(`0x${head[2]}`), perms: head[3]!, path: head[4] ?? "", rssKiB: 0, anonymousKiB: 0, swapKiB: 0 };
      out.push(cur);
      continue;
    }
    const field = /^(Rss|Anonymous|Swap):\s+(\d+) kB/.exec(line);
    if (field && cur) {
      const kib = Number(field[2]);
      if (field[1] === "Rss") cur.rssKiB = kib;
      else if (field[1] === "Anonymous") cur.anonymousKiB = kib;
      else cur.swapKiB = kib;
    }
  }
  return out;
}

/**
 * Whether dropping a mapping's pages loses nothing: a file's, read-only, and without a private page
 * anywhere — resident or swapped out (a RELRO whose relocated pages went to swap shows Anonymous 0
 * and Swap > 0; dropping it would bring back the file's unrelocated bytes). Private_Dirty does not
 * decide: in a private mapping whatever this process writes becomes a copy (Anonymous), so dirty pages
 * that are not copies are the page cache's own, the file's current bytes — a binary just built or
 * installed and not yet written back to disk shows all its resident pages so (measured: 32 MiB for
 * the first ~30 s, which had the trim skip everything).
 */
export function droppable(m: Mapping): boolean {
  const clean = m.anonymousKiB === 0 && m.swapKiB === 0;
  return m.path.startsWith("/") && !m.perms.includes("w") && m.perms.endsWith("p") && clean && m.rssKiB > 0;
}

type Madvise = (addr: bigint, len: bigint, advice: number) => number;
let madvise: Madvise | undefined;

/**
 * A full collection, then the droppable mappings' pages dropped from this process; returns the KiB
 * they held (0 where not possible — the collection still runs wherever Bun does).
 *
 * `dropCode` first has JavaScriptCore throw away all its compiled code (`Bun.shrink()`: bytecode
 * and JIT output alike, with a full collection), for when nothing runs that needs it soon: what is
 * used again compiles again, from the binary's cached bytecode. Measured, one tunnel: idle RSS 23.3
 * → 22.4 MiB at start-up; after 2,000 connections closed 31 → 24 MiB, after 10,000 35 → 29 (anonymous
 * memory 17.5 → 11 and 21.7 → 16); the price is the next burst's warm-up, 500 connections 0.10 → 0.22
 * CPU s. The pages are read after it, because that work faults the collector's code back in.
 * `signal`: once aborted, a trim still waiting does nothing more.
 */
export async function trimFileMappings(o: { dropCode?: boolean; signal?: AbortSignal } = {}): Promise<number> {
  if (typeof Bun === "undefined") return 0;
  let collected = false;
  try {
    if (process.platform !== "linux") return 0;
    if (o.dropCode && Bun.shrink) {
      Bun.shrink();
      // Unref: a tunnel that stops meanwhile need not wait for it.
      await new Promise((r) => setTimeout(r, DROP_CODE_WAIT_MS).unref?.());
    }
    if (!madvise) {
      const { dlopen, FFIType: T } = await import("bun:ffi");
      const { symbols } = dlopen("libc.so.6", { madvise: { args: [T.u64, T.u64, T.i32], returns: T.i32 } });
      madvise = (addr, len, advice) => symbols.madvise(addr, len, advice) as number;
    }
    // Given up while it waited (the command is ending): nothing more, not even the collection.
    if (o.signal?.aborted) {
      collected = true;
      return 0;
    }
    // Read only now, after loading (which maps memory of its own), and used at once with nothing
    // awaited in between: the list must describe the mappings the calls below act on.
    const maps = parseSmaps(readFileSync("/proc/self/smaps", "utf8")).filter(droppable);
    // Collect first: reading smaps makes a few MiB of garbage (its text, one string per line), and
    // the collection that garbage would bring a moment later faults the collector's code back in
    // (measured: file pages 10 → 17 MiB within a second of the trim; 13 MiB with this).
    Bun.gc(true);
    collected = true;
    let kib = 0;
    for (const m of maps) if (madvise(m.start, m.end - m.start, MADV_DONTNEED) === 0) kib += m.rssKiB;
    return kib;
  } catch {
    return 0;
  } finally {
    if (!collected) Bun.gc(true);
  }
}
