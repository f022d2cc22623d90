// Session ciphers against real servers: chacha20-poly1305@openssh.com (which Bun's crypto lacks and
// patches/ssh2+1.17.0.patch supplies) with an sshd that allows only it and with TinySSH, which
// speaks nothing else; what is negotiated by default; and an unknown name as a usage error.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { runFwd, runFwdToEnd, TEST_HOME } from "../harness/fwd.ts";
import { exchange, startHashSink, startRandomSource } from "../harness/net.ts";
import { startSshd, type Sshd } from "../harness/sshd.ts";
import { startTinysshd, tinysshMissing } from "../harness/tinysshd.ts";

const ROOT = join(import.meta.dir, "..", "..");
const MiB = 1024 * 1024;
const CHACHA = "chacha20-poly1305@openssh.com";
const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");
const negotiated = (lines: string[]) => lines.map((l) => / cipher (\S+)/.exec(l)?.[1]).find(Boolean);

let plain: Sshd;
let chachaOnly: Sshd;
beforeAll(async () => {
  plain = await startSshd();
  chachaOnly = await startSshd({ config: { Ciphers: CHACHA } });
});
afterAll(async () => {
  await plain?.stop();
  await chachaOnly?.stop();
});

describe("chacha20-poly1305@openssh.com", () => {
  test("an sshd that allows only it: fwd's defaults reach it, and -L carries 4 MiB each way intact", async () => {
    const sink = await startHashSink();
    const source = await startRandomSource(4 * MiB);
    const fwd = runFwd([...chachaOnly.clientArgs, "-vv", "-L", `0:127.0.0.1:${sink.port}`, "-L", `0:127.0.0.1:${source.port}`, chachaOnly.host]);
    try {
      await fwd.waitFor(new RegExp(`-> 127\\.0\\.0\\.1:${source.port}$`));
      await fwd.waitFor(new RegExp(`-> 127\\.0\\.0\\.1:${sink.port}$`));
      expect(negotiated(fwd.stderr)).toBe(CHACHA);
      const [upPort, downPort] = fwd.ports as [number, number];
      const payload = randomBytes(4 * MiB);
      expect((await exchange(upPort, payload)).reply.toString()).toBe(sha256(payload));
      const down = await exchange(downPort, "");
      expect(down.reply.length).toBe(4 * MiB);
      expect(sha256(down.reply)).toBe(source.sent[0]!);
    } finally {
      expect(await fwd.stop()).toBe(0);
      await sink.close();
      await source.close();
    }
  }, 60_000);

  test.skipIf(tinysshMissing() !== undefined)("TinySSH (it speaks nothing else): a remote command carries 4 MiB up and down intact", async () => {
    const tiny = await startTinysshd();
    try {
      const run = (command: string, input?: Buffer) =>
        spawnSync(process.execPath, [join(ROOT, "src", "main.ts"), ...tiny.clientArgs, "-vv", tiny.host, "--", command], {
          ...(input ? { input } : {}),
          maxBuffer: 64 * MiB,
          timeout: 30_000,
          env: { PATH: process.env.PATH, HOME: TEST_HOME },
        });
      const payload = randomBytes(4 * MiB);
      const up = run("sha256sum", payload);
      expect(negotiated(up.stderr.toString().split("\n"))).toBe(CHACHA);
      expect(up.stdout.toString()).toBe(`${sha256(payload)}  -\n`);
      expect(up.status).toBe(0);
      const file = join(TEST_HOME, "tinyssh-download");
      writeFileSync(file, payload);
      const down = run(`cat ${file}`);
      expect(down.stdout.length).toBe(4 * MiB);
      expect(sha256(down.stdout)).toBe(sha256(payload));
      expect(down.status).toBe(0);
    } finally {
      await tiny.stop();
    }
  }, 60_000);

  test("-c picks it against an sshd that also has AES; by default fwd negotiates aes128-gcm@openssh.com", async () => {
    for (const [flags, want] of [[["-c", CHACHA], CHACHA], [[], "aes128-gcm@openssh.com"]] as const) {
      const r = await runFwdToEnd([...plain.clientArgs, ...flags, "-vv", plain.host, "--", "true"]);
      expect(r.code).toBe(0);
      expect(negotiated(r.stderr.split("\n"))).toBe(want);
    }
  });
});

describe("cipher names", () => {
  const SUPPORTED = /supported ciphers: aes128-gcm@openssh\.com, aes256-gcm@openssh\.com, aes128-ctr, aes192-ctr, aes256-ctr, chacha20-poly1305@openssh\.com, /;

  test("an unknown name given with -c is a usage error (exit 2) that lists the supported ones", async () => {
    const r = await runFwdToEnd([...plain.clientArgs, "-c", "aes128-ctr,no-such-cipher", "-L", "0:127.0.0.1:9", plain.host]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('fwd: -o Ciphers: unknown cipher "no-such-cipher"');
    expect(r.stderr).toMatch(SUPPORTED);
    expect(r.stderr).not.toContain("    at ");
  });

  test("in ssh_config too, named with its file", async () => {
    const cfg = join(plain.dir, "ciphers.conf");
    writeFileSync(cfg, `Host lab\n  HostName 127.0.0.1\n  Port ${plain.port}\n  Ciphers +arcfour512\n`);
    const r = await runFwdToEnd(["-F", cfg, "-L", "0:127.0.0.1:9", "lab"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`fwd: ${cfg}: Ciphers: unknown cipher "arcfour512"`);
    expect(r.stderr).toMatch(SUPPORTED);
  });
});
