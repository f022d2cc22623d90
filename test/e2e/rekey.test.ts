// Rekeying under load against a real sshd: with `RekeyLimit 1M` sshd starts a new key exchange after
// every MiB, so an 8 MiB transfer each way crosses many rekeys, with chacha20-poly1305 (patched into
// ssh2) and with AES-GCM; the bytes must arrive intact and the session must stay up.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { createHash, randomBytes } from "node:crypto";
import { runFwd } from "../harness/fwd.ts";
import { exchange, startHashSink, startRandomSource } from "../harness/net.ts";
import { startSshd, type Sshd } from "../harness/sshd.ts";

const MiB = 1024 * 1024;
const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");
const servers: Record<string, Sshd> = {};
beforeAll(async () => {
  for (const c of ["chacha20-poly1305@openssh.com", "aes128-gcm@openssh.com"]) servers[c] = await startSshd({ config: { Ciphers: c, RekeyLimit: "1M" } });
});
afterAll(async () => {
  for (const s of Object.values(servers)) await s.stop();
});

test.each([["chacha20-poly1305@openssh.com"], ["aes128-gcm@openssh.com"]])("%s with RekeyLimit 1M: 8 MiB up and 8 MiB down through -L intact", async (cipher) => {
  const sshd = servers[cipher]!;
  const sink = await startHashSink();
  const source = await startRandomSource(8 * MiB);
  const fwd = runFwd([...sshd.clientArgs, "-vv", "-L", `0:127.0.0.1:${sink.port}`, "-L", `0:127.0.0.1:${source.port}`, sshd.host]);
  try {
    await fwd.waitFor(new RegExp(`-> 127\\.0\\.0\\.1:${sink.port}$`));
    await fwd.waitFor(new RegExp(`-> 127\\.0\\.0\\.1:${source.port}$`));
    const [upPort, downPort] = fwd.ports as [number, number];
    const payload = randomBytes(8 * MiB);
    const [up, down] = await Promise.all([exchange(upPort, payload), exchange(downPort, "")]);
    expect(up.reply.toString()).toBe(sha256(payload));
    expect(down.reply.length).toBe(8 * MiB);
    expect(sha256(down.reply)).toBe(source.sent[0]!);
    // Still one session: a second transfer on the same one.
    const again = await exchange(upPort, payload.subarray(0, MiB));
    expect(again.reply.toString()).toBe(sha256(payload.subarray(0, MiB)));
    // The session never dropped: no reconnect and no lost session (connection lines say "closed" too).
    expect(fwd.stderr.filter((l) => /reconnect|session lost|closed by the server|corrupt/.test(l))).toEqual([]);
  } finally {
    expect(await fwd.stop()).toBe(0);
    await sink.close();
    await source.close();
  }
}, 60_000);
