// Handing back start-up pages (runtime/trim-mappings.ts): only read-only file mappings without a
// private page are dropped, and a running tunnel's RSS falls while its forwards keep working.

import { afterAll, beforeAll, describe, expect, spyOn, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { droppable, parseSmaps, trimFileMappings } from "../../src/runtime/trim-mappings.ts";
import { runFwd, type FwdProcess } from "../harness/fwd.ts";
import { exchange, startEcho } from "../harness/net.ts";
import { startSshd, type Sshd } from "../harness/sshd.ts";

const SMAPS = `55d0a0000000-55d0a1000000 r--p 00000000 08:01 123 /usr/bin/fwd
Rss:                1024 kB
Anonymous:             0 kB
55d0a1000000-55d0a2000000 r-xp 01000000 08:01 123 /usr/bin/fwd
Rss:                2048 kB
Anonymous:             0 kB
55d0a2000000-55d0a2100000 r--p 02000000 08:01 123 /usr/bin/fwd
Rss:                 512 kB
Anonymous:           512 kB
55d0a2100000-55d0a2200000 rw-p 02100000 08:01 123 /usr/bin/fwd
Rss:                 100 kB
Anonymous:            40 kB
7f0000000000-7f0000100000 rw-p 00000000 00:00 0
Rss:                 800 kB
Anonymous:           800 kB
7f0000100000-7f0000200000 r--s 00000000 08:01 99 /dev/shm/x
Rss:                  64 kB
Anonymous:             0 kB
7ffd00000000-7ffd00002000 r-xp 00000000 00:00 0                          [vdso]
Rss:                   8 kB
Anonymous:             0 kB
55d0a3000000-55d0a3100000 r--p 03000000 08:01 123 /usr/bin/fwd
Rss:                  12 kB
Private_Dirty:         0 kB
Anonymous:             0 kB
Swap:                 12 kB
55d0a4000000-55d0a4100000 r-xp 04000000 08:01 124 /usr/bin/fwd-just-installed
Rss:                 256 kB
Private_Dirty:       256 kB
Anonymous:             0 kB
Swap:                  0 kB
`;

describe("which mappings may be dropped", () => {
  const maps = parseSmaps(SMAPS);
  test("parses ranges, permissions, paths and the sizes that decide", () => {
    expect(maps).toHaveLength(9);
    expect(maps[1]).toEqual({ start: 0x55d0a1000000n, end: 0x55d0a2000000n, perms: "r-xp", path: "/usr/bin/fwd", rssKiB: 2048, anonymousKiB: 0, swapKiB: 0 });
  });
  test("only the program's read-only mappings without copies: not RELRO's copied pages (resident or swapped out), data, the heap, shared memory or the vDSO; a binary whose pages are still dirty in the page cache, yes", () => {
    expect(maps.map(droppable)).toEqual([true, true, false, false, false, false, false, false, true]);
  });
});

describe("dropping the compiled code first", () => {
  test("dropCode: Bun.shrink(), then at least 200 ms later the collection; without it, no shrink; aborted while waiting, nothing", async () => {
    const calls: [string, number][] = [];
    const shrink = spyOn(Bun, "shrink").mockImplementation(() => void calls.push(["shrink", performance.now()]));
    const gc = spyOn(Bun, "gc").mockImplementation(() => void calls.push(["gc", performance.now()]));
    try {
      await trimFileMappings({ dropCode: true });
      expect(calls.map(([what]) => what)).toEqual(["shrink", "gc"]);
      expect(calls[1]![1] - calls[0]![1]).toBeGreaterThanOrEqual(190);
      calls.length = 0;
      await trimFileMappings();
      expect(calls.map(([what]) => what)).toEqual(["gc"]);
      calls.length = 0;
      const stop = new AbortController();
      const trim = trimFileMappings({ dropCode: true, signal: stop.signal });
      stop.abort();
      expect(await trim).toBe(0);
      expect(calls.map(([what]) => what)).toEqual(["shrink"]);
    } finally {
      shrink.mockRestore();
      gc.mockRestore();
    }
  });
});

describe("a running tunnel", () => {
  let sshd: Sshd;
  beforeAll(async () => {
    sshd = await startSshd();
  });
  afterAll(async () => {
    await sshd?.stop();
  });
  const rssFileKiB = (pid: number) => Number(/^RssFile:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]);
  /** The start-up trim says so, the file pages fall below half of what they were, and the forward still carries. */
  const expectStartupTrim = async (fwd: FwdProcess, say: string) => {
    const before = rssFileKiB(fwd.proc.pid!);
    await fwd.waitFor(/handed back [\d.]+ MiB of program pages used only to start/, 15_000);
    expect(rssFileKiB(fwd.proc.pid!)).toBeLessThan(before / 2);
    expect((await exchange(fwd.ports[0]!, say)).reply.toString()).toBe(say);
  };

  test("hands back its start-up pages a second after connecting, and carries on forwarding", async () => {
    const echo = await startEcho();
    const fwd = runFwd(["-vv", ...sshd.clientArgs, "-L", `0:127.0.0.1:${echo.port}`, sshd.host], { runtime: "bun" });
    try {
      await fwd.waitFor(/^listening /);
      await expectStartupTrim(fwd, "after the trim");
    } finally {
      expect(await fwd.stop()).toBe(0);
      await echo.close();
    }
  }, 30_000);

  test("a runtime just installed (its pages still dirty in the page cache, not yet on disk) is handed back all the same", async () => {
    // A fresh copy of the runtime: written a moment ago, so the kernel has not written it back yet.
    const dir = mkdtempSync(join(tmpdir(), "fwd-fresh-"));
    const runtime = join(dir, "bun");
    // Written, not copied: a copy may share the file's blocks (a reflink on btrfs or XFS) and dirty nothing.
    writeFileSync(runtime, readFileSync(process.execPath), { mode: 0o755 });
    const wrapper = join(dir, "fwd");
    writeFileSync(wrapper, `#!/bin/sh\nexec ${runtime} ${join(import.meta.dir, "..", "..", "src", "main.ts")} "$@"\n`, { mode: 0o755 });
    const echo = await startEcho();
    const fwd = runFwd(["-vv", ...sshd.clientArgs, "-L", `0:127.0.0.1:${echo.port}`, sshd.host], { binary: wrapper });
    try {
      await fwd.waitFor(/^listening /);
      const dirtyKiB = (text: string) => {
        let kib = 0;
        let fresh = false;
        for (const line of text.split("\n")) {
          if (/^[0-9a-f]+-[0-9a-f]+ /.test(line)) fresh = line.endsWith(runtime);
          else if (fresh && line.startsWith("Private_Dirty:")) kib += Number(/(\d+) kB/.exec(line)![1]);
        }
        return kib;
      };
      // What makes this case: the copy's pages show as dirty without being copies (Anonymous 0).
      expect(dirtyKiB(readFileSync(`/proc/${fwd.proc.pid}/smaps`, "utf8"))).toBeGreaterThan(4096);
      await expectStartupTrim(fwd, "fresh");
    } finally {
      expect(await fwd.stop()).toBe(0);
      await echo.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);

  test("hands them back again once a burst of connections has closed and gone quiet", async () => {
    const echo = await startEcho();
    const fwd = runFwd(["-vv", ...sshd.clientArgs, "-L", `0:127.0.0.1:${echo.port}`, sshd.host], { runtime: "bun" });
    try {
      await fwd.waitFor(/handed back [\d.]+ MiB of program pages used only to start/, 15_000);
      // 256 closes make a burst (cli/idle-collect.ts): 300 connections, 20 at a time, each checked.
      for (let i = 0; i < 300; i += 20) {
        const replies = await Promise.all(Array.from({ length: 20 }, (_, j) => exchange(fwd.ports[0]!, `c${i + j}`)));
        expect(replies.map((r) => r.reply.toString())).toEqual(Array.from({ length: 20 }, (_, j) => `c${i + j}`));
      }
      const during = rssFileKiB(fwd.proc.pid!);
      // Every one of them closed: the compiled code goes too.
      await fwd.waitFor(/handed back [\d.]+ MiB of program pages after \d+ connections closed, and the compiled code$/, 15_000);
      expect(rssFileKiB(fwd.proc.pid!)).toBeLessThan(during);
      expect((await exchange(fwd.ports[0]!, "after the burst")).reply.toString()).toBe("after the burst");
    } finally {
      expect(await fwd.stop()).toBe(0);
      await echo.close();
    }
  }, 60_000);
});
