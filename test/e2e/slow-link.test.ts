// Long links: through a relay that delays each direction by 50 ms (a 100 ms round trip), the
// receive window of a download grows past OpenSSH's fixed 2 MiB, stays within --max-window, and the
// bytes arrive intact. (Speed is the benchmark's business: scripts/bench, slow-link section.)

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { appendFileSync } from "node:fs";
import { runFwd } from "../harness/fwd.ts";
import { exchange, startRandomSource } from "../harness/net.ts";
import { startSlowLink, type SlowLink } from "../harness/slow-link.ts";
import { startSshd, type Sshd } from "../harness/sshd.ts";

const MiB = 1024 * 1024;
let sshd: Sshd;
let link: SlowLink;
let source: Awaited<ReturnType<typeof startRandomSource>>;
let args: string[];

beforeAll(async () => {
  sshd = await startSshd();
  link = await startSlowLink({ targetPort: sshd.port, delayMs: 50 });
  // The relay is another port on the same host: known_hosts names it too.
  appendFileSync(sshd.knownHosts, `[127.0.0.1]:${link.port} ${sshd.hostKeyPub}\n`);
  args = sshd.clientArgs.map((a) => (a === String(sshd.port) ? String(link.port) : a));
  source = await startRandomSource(24 * MiB);
});
afterAll(async () => {
  await source?.close();
  await link?.close();
  await sshd?.stop();
});

async function download(extra: string[], expectGrowth = true): Promise<string[]> {
  const fwd = runFwd([...args, "-vv", ...extra, "-L", `0:127.0.0.1:${source.port}`, sshd.host]);
  try {
    await fwd.waitFor(/^listening /, 20_000);
    const before = source.sent.length;
    const down = await exchange(fwd.ports[0]!, "");
    expect(down.reply.length).toBe(24 * MiB);
    expect(createHash("sha256").update(down.reply).digest("hex")).toBe(source.sent[before]!);
    // The connection's close line, then the channel's own close (which logs its window) soon after.
    await fwd.waitFor(/#1 closed after/, 10_000);
    if (expectGrowth) await fwd.waitFor(/receive window grew to/, 5_000);
  } finally {
    expect(await fwd.stop()).toBe(0);
  }
  return fwd.stderr.filter((l) => /receive window grew to/.test(l));
}

describe("a 100 ms round trip", () => {
  test("a download's window grows past 2 MiB, up to the 16 MiB default, and the data is intact", async () => {
    const grew = await download([]);
    expect(grew.length).toBe(1);
    const mib = Number(/grew to (\d+) MiB/.exec(grew[0]!)![1]);
    expect(mib).toBeGreaterThan(2);
    expect(mib).toBeLessThanOrEqual(16);
  }, 90_000);

  test("--max-window 4M bounds it at 4 MiB; --max-window 2M keeps OpenSSH's fixed window", async () => {
    const four = await download(["--max-window", "4M"]);
    expect(four).toEqual([expect.stringMatching(/grew to 4 MiB$/)]);
    expect(await download(["--max-window", "2M"], false)).toEqual([]);
  }, 120_000);
});
