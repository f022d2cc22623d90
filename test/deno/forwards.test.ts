// fwd UNDER DENO (`deno run -A src/main.ts`, Deno from node_modules) against a real OpenSSH sshd: the
// demo, -L with hashed bytes each way, -R, -D with curl, and the ciphers Deno's crypto brings. Run by
// `npm run test:deno`; bunfig.toml keeps these files out of the plain `bun test` run.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash, randomBytes } from "node:crypto";
import { readFileSync, readlinkSync, realpathSync } from "node:fs";
import { join } from "node:path";
import { curl } from "../harness/curl.ts";
import { runFwd, runFwdToEnd, type FwdRunOptions } from "../harness/fwd.ts";
import { exchange, startEcho, startHashSink, startHttp, startRandomSource } from "../harness/net.ts";
import { startSshd, type Sshd } from "../harness/sshd.ts";

const ROOT = join(import.meta.dir, "..", "..");
const DENO: FwdRunOptions = { runtime: "deno" };
const MiB = 1024 * 1024;
const CHACHA = "chacha20-poly1305@openssh.com";
const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");
const negotiated = (lines: string[]) => lines.map((l) => / cipher (\S+)/.exec(l)?.[1]).find(Boolean);

let sshd: Sshd;
let chachaOnly: Sshd;
beforeAll(async () => {
  [sshd, chachaOnly] = await Promise.all([startSshd(), startSshd({ config: { Ciphers: CHACHA } })]);
});
afterAll(async () => {
  await Promise.all([sshd?.stop(), chachaOnly?.stop()]);
});

describe("fwd under Deno", () => {
  test("--version names Deno", async () => {
    const r = await runFwdToEnd(["--version"], DENO);
    expect(r.stdout).toMatch(/^fwd \d+\.\d+\.\d+ \(deno 2\.\d+\.\d+\)$/);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
  });

  test("demo --once: the page comes through the built-in SSH server", async () => {
    const r = await runFwdToEnd(["demo", "--once"], DENO);
    expect(r.stdout).toMatch(/^listening 127\.0\.0\.1:\d+ -> 127\.0\.0\.1:\d+$/m);
    expect(r.stdout).toMatch(/demo: the tunnel works — fetched \d+ bytes through SSH/);
    expect(r.code).toBe(0);
  });

  test("-L: 8 MiB each way intact (SHA-256) with aes128-gcm, carried by Deno itself", async () => {
    const sink = await startHashSink();
    const source = await startRandomSource(8 * MiB);
    const fwd = runFwd([...sshd.clientArgs, "-vv", "-L", `0:127.0.0.1:${sink.port}`, "-L", `0:127.0.0.1:${source.port}`, sshd.host], DENO);
    try {
      await fwd.waitFor(new RegExp(`-> 127\\.0\\.0\\.1:${sink.port}$`));
      await fwd.waitFor(new RegExp(`-> 127\\.0\\.0\\.1:${source.port}$`));
      expect(negotiated(fwd.stderr)).toBe("aes128-gcm@openssh.com");
      // The process that carries the bytes is the deno binary, not a Bun started some other way.
      const pid = fwd.proc.pid!;
      expect(readlinkSync(`/proc/${pid}/exe`)).toBe(realpathSync(join(ROOT, "node_modules", ".bin", "deno")));

      const [upPort, downPort] = fwd.ports as [number, number];
      const payload = randomBytes(8 * MiB);
      const up = await exchange(upPort, payload);
      expect(up.reply.toString()).toBe(sha256(payload));
      expect(up.ended).toBe(true);
      const down = await exchange(downPort, "");
      expect(down.reply.length).toBe(8 * MiB);
      expect(sha256(down.reply)).toBe(source.sent[0]!);
    } finally {
      expect(await fwd.stop()).toBe(0);
      await sink.close();
      await source.close();
    }
  }, 60_000);

  test("chacha20-poly1305 (Deno's crypto has ChaCha20): an sshd that allows only it, 1 MiB intact", async () => {
    const sink = await startHashSink();
    const fwd = runFwd([...chachaOnly.clientArgs, "-vv", "-L", `0:127.0.0.1:${sink.port}`, chachaOnly.host], DENO);
    try {
      await fwd.waitFor(/^listening /);
      expect(negotiated(fwd.stderr)).toBe(CHACHA);
      const payload = randomBytes(MiB);
      expect((await exchange(fwd.ports[0]!, payload)).reply.toString()).toBe(sha256(payload));
    } finally {
      expect(await fwd.stop()).toBe(0);
      await sink.close();
    }
  }, 30_000);

  test("-R: 4 MiB from the server's side reaches a target here intact", async () => {
    const sink = await startHashSink();
    const fwd = runFwd([...sshd.clientArgs, "-R", `0:127.0.0.1:${sink.port}`, sshd.host], DENO);
    try {
      const line = await fwd.waitFor(/^listening on the server localhost:\d+ -> 127\.0\.0\.1:\d+$/);
      const port = Number(/localhost:(\d+)/.exec(line)![1]);
      const payload = randomBytes(4 * MiB);
      expect((await exchange(port, payload)).reply.toString()).toBe(sha256(payload));
    } finally {
      expect(await fwd.stop()).toBe(0);
      await sink.close();
    }
  }, 30_000);

  test("-D: curl through SOCKS5 (name resolved by the server) and SOCKS4; loopback clients share one quota (no bun:ffi), said once", async () => {
    const web = await startHttp("127.0.0.1");
    const fwd = runFwd([...sshd.clientArgs, "-vv", "-D", "0", sshd.host], DENO);
    try {
      await fwd.waitFor(/^listening 127\.0\.0\.1:\d+ -> SOCKS, connecting from the server$/);
      const socks = `127.0.0.1:${fwd.ports[0]}`;
      const five = await curl(["--socks5-hostname", socks, `http://localhost:${web.port}/five`]);
      expect(five).toEqual({ code: 0, stdout: "hello /five via 127.0.0.1", stderr: "" });
      const four = await curl(["--socks4", socks, `http://127.0.0.1:${web.port}/four`]);
      expect(four).toEqual({ code: 0, stdout: "hello /four via 127.0.0.1", stderr: "" });
      expect([...fwd.stdout, ...fwd.stderr].filter((l) => l.includes("whose user is not found"))).toEqual([
        "debug: -D 0: local clients whose user is not found share one quota (said once): socket owner: this runtime has no bun:ffi",
      ]);
    } finally {
      expect(await fwd.stop()).toBe(0);
      await web.close();
    }
  }, 30_000);

  test("50 concurrent connections through one -L each get exactly their own bytes back", async () => {
    const echo = await startEcho();
    const fwd = runFwd([...sshd.clientArgs, "-L", `0:127.0.0.1:${echo.port}`, sshd.host], DENO);
    try {
      await fwd.waitFor(/^listening /);
      const results = await Promise.all(
        Array.from({ length: 50 }, async (_, i) => {
          const msg = Buffer.from(`connection ${i} `.repeat(64));
          const r = await exchange(fwd.ports[0]!, msg);
          return r.ended && r.reply.equals(msg);
        }),
      );
      expect(results.filter(Boolean).length).toBe(50);
    } finally {
      expect(await fwd.stop()).toBe(0);
      await echo.close();
    }
  }, 30_000);
});
