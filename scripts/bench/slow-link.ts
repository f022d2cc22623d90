// The slow-link rows: what loopback hides. Each tool's -L goes through the project's user-space relay
// (test/harness/slow-link.ts: the kernel here has no netem) to the same sshd: bulk down and up at a
// 100 ms round trip, and varied JSON lines across a 40 Mbit/s link with and without -C.

import { spawn } from "node:child_process";
import { appendFileSync } from "node:fs";
import net from "node:net";
import type { Sshd } from "../../test/harness/sshd.ts";
import { runFwd, type FwdRunOptions } from "../../test/harness/fwd.ts";
import { startSlowLink, type SlowLink } from "../../test/harness/slow-link.ts";
import { freePort, waitForPort } from "../../test/harness/net.ts";
import { stopChild, track } from "./children.ts";
import { CIPHER } from "./tunnels.ts";

export interface SlowLinkPlan {
  /** MiB moved each way at 100 ms, and MiB of text at 40 Mbit/s. */
  longMiB: number;
  textMiB: number;
}

export interface SlowLinkResult {
  downloadMbps: number;
  uploadMbps: number;
  textCompressedMbps: number;
  textPlainMbps: number;
}

const RTT_DELAY_MS = 50; // each way
const THIN_RATE = 5_000_000; // bytes/s: 40 Mbit/s
const THIN_DELAY_MS = 10;
const READY_MS = 20_000;

/** Varied JSON-lines records (ids, names, flags, paths), not one repeated line: compressible as logs are. */
export function jsonLines(bytes: number): Buffer {
  const parts: string[] = [];
  let n = 0;
  for (let i = 0; n < bytes; i++) {
    const line = JSON.stringify({ id: i, user: `user${(i * 7919) % 1009}`, ok: i % 3 === 0, at: 1_700_000_000 + i * 13, path: `/api/v1/items/${(i * 31) % 5000}` }) + "\n";
    parts.push(line);
    n += line.length;
  }
  return Buffer.from(parts.join("")).subarray(0, bytes);
}

/** Sends `body` to each client, then closes. */
async function source(body: Buffer): Promise<{ port: number; close(): void }> {
  const s = net.createServer((c) => {
    c.on("error", () => {});
    c.end(body);
  });
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  return { port: (s.address() as net.AddressInfo).port, close: () => s.close() };
}

/** Takes whatever arrives and answers a client's FIN with its own. */
async function sink(): Promise<{ port: number; close(): void }> {
  const s = net.createServer((c) => {
    c.on("error", () => {});
    c.on("data", () => {});
    c.on("end", () => c.end());
  });
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  return { port: (s.address() as net.AddressInfo).port, close: () => s.close() };
}

/** A tunnel of `tool` through `link` with one -L to 127.0.0.1:target; resolves with its local port and a stop. */
async function tunnel(tool: "openssh" | "fwd", sshd: Sshd, link: SlowLink, target: number, extra: string[], how: FwdRunOptions) {
  const args = sshd.clientArgs.map((a) => (a === String(sshd.port) ? String(link.port) : a));
  if (tool === "openssh") {
    const port = await freePort();
    const p = track(spawn("ssh", ["-N", "-c", CIPHER, ...extra, ...args, "-o", "BatchMode=yes", "-o", "ExitOnForwardFailure=yes", "-L", `127.0.0.1:${port}:127.0.0.1:${target}`, "127.0.0.1"], {
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: "/nonexistent" },
      stdio: "ignore",
    }));
    await waitForPort("127.0.0.1", port, READY_MS);
    return { port, stop: () => stopChild(p) };
  }
  const f = runFwd(["-c", CIPHER, ...extra, ...args, "-o", "BatchMode=yes", "-L", `0:127.0.0.1:${target}`, "127.0.0.1"], how);
  track(f.proc);
  await f.waitFor(/^listening /, READY_MS);
  return { port: f.ports[0]!, stop: () => stopChild(f.proc, 5_000) };
}

/** Mbit/s of payload: download reads what the far end sends; upload sends `bytes` and waits for the far end's FIN. */
function transfer(port: number, upload: Buffer | undefined): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    let got = 0;
    const c = net.connect({ port, host: "127.0.0.1", noDelay: true }, () => {
      if (upload) c.end(upload);
    });
    c.on("data", (d: Buffer) => (got += d.length));
    c.on("error", reject);
    c.on("close", () => resolve((((upload?.length ?? got) * 8) / ((performance.now() - t0) / 1000)) / 1e6));
  });
}

/** All four slow-link figures for one tool, each through its own fresh tunnel and relay. */
export async function measureSlowLink(tool: "openssh" | "fwd", sshd: Sshd, plan: SlowLinkPlan, how: FwdRunOptions, say: (m: string) => void): Promise<SlowLinkResult> {
  const MiB = 1024 * 1024;
  const bulk = Buffer.alloc(plan.longMiB * MiB, 0x5a);
  const text = jsonLines(plan.textMiB * MiB);
  const through = async (o: { delayMs: number; rate?: number }, run: (link: SlowLink) => Promise<number>) => {
    const link = await startSlowLink({ targetPort: sshd.port, delayMs: o.delayMs, ...(o.rate ? { rateBytesPerS: o.rate, queueBytes: 256 * 1024 } : {}) });
    // The relay is another port of the same host: its known_hosts line is the server's own key.
    appendFileSync(sshd.knownHosts, `[127.0.0.1]:${link.port} ${sshd.hostKeyPub}\n`);
    try {
      return await run(link);
    } finally {
      await link.close();
    }
  };
  const once = async (link: SlowLink, target: { port: number; close(): void }, extra: string[], upload?: Buffer) => {
    const t = await tunnel(tool, sshd, link, target.port, extra, how);
    try {
      return await transfer(t.port, upload);
    } finally {
      await t.stop();
      target.close();
    }
  };
  const downloadMbps = await through({ delayMs: RTT_DELAY_MS }, async (l) => once(l, await source(bulk), []));
  say(`slow link: ${plan.longMiB} MiB down at 100 ms RTT: ${downloadMbps.toFixed(0)} Mbit/s`);
  const uploadMbps = await through({ delayMs: RTT_DELAY_MS }, async (l) => once(l, await sink(), [], bulk));
  say(`slow link: ${plan.longMiB} MiB up at 100 ms RTT: ${uploadMbps.toFixed(0)} Mbit/s`);
  const textCompressedMbps = await through({ delayMs: THIN_DELAY_MS, rate: THIN_RATE }, async (l) => once(l, await source(text), ["-C"]));
  say(`slow link: ${plan.textMiB} MiB of JSON lines at 40 Mbit/s with -C: ${textCompressedMbps.toFixed(0)} Mbit/s`);
  const textPlainMbps = await through({ delayMs: THIN_DELAY_MS, rate: THIN_RATE }, async (l) => once(l, await source(text), []));
  say(`slow link: the same without -C: ${textPlainMbps.toFixed(0)} Mbit/s`);
  return { downloadMbps, uploadMbps, textCompressedMbps, textPlainMbps };
}
