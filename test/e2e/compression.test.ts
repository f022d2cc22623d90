// -C and Compression: zlib@openssh.com negotiated with a real sshd (seen in sshd's own log and in
// fwd's), data intact either way, and none at all unless asked for, as with OpenSSH.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { runFwd } from "../harness/fwd.ts";
import { exchange } from "../harness/net.ts";
import { startSshd, type Sshd } from "../harness/sshd.ts";
import net from "node:net";

let sshd: Sshd;
/** Varied JSON lines, compressible as real logs and API traffic are (not one repeated line). */
const text = Buffer.from(
  Array.from({ length: 60_000 }, (_, i) => JSON.stringify({ id: i, user: `user${(i * 7919) % 1009}`, ok: i % 3 === 0, at: 1_700_000_000 + i * 13 }) + "\n").join(""),
);
const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");
let source: net.Server;
let sourcePort: number;

beforeAll(async () => {
  // DEBUG1: sshd logs the negotiated algorithms ("kex: client->server cipher: … compression: …").
  sshd = await startSshd({ config: { LogLevel: "DEBUG1" } });
  source = net.createServer((s) => s.end(text));
  await new Promise<void>((r) => source.listen(0, "127.0.0.1", r));
  sourcePort = (source.address() as net.AddressInfo).port;
});
afterAll(async () => {
  source?.close();
  await sshd?.stop();
});

/** The compression sshd agreed to for each session it logged so far. */
const serverSaw = () => [...sshd.output().matchAll(/kex: server->client cipher: \S+ MAC: \S+ compression: (\S+)/g)].map((m) => m[1]);

async function download(args: string[]): Promise<{ body: Buffer; stderr: string[] }> {
  const before = serverSaw().length;
  const fwd = runFwd([...sshd.clientArgs, ...args, "-L", `0:127.0.0.1:${sourcePort}`, sshd.host]);
  try {
    await fwd.waitFor(/^listening /);
    const { reply } = await exchange(fwd.ports[0]!, "");
    // The server logs its side of the key exchange before the session is up, so it is there now.
    expect(serverSaw().length).toBe(before + 1);
    return { body: reply, stderr: fwd.stderr };
  } finally {
    expect(await fwd.stop()).toBe(0);
  }
}

describe("compression", () => {
  test("-C negotiates zlib@openssh.com with sshd, says so, and the data arrives intact", async () => {
    const { body, stderr } = await download(["-C"]);
    expect(sha(body)).toBe(sha(text));
    expect(serverSaw().at(-1)).toBe("zlib@openssh.com");
    expect(stderr.some((l) => /: cipher \S+, compression zlib@openssh\.com$/.test(l))).toBe(true);
  }, 30_000);

  test("without -C there is none, as with ssh", async () => {
    const { body, stderr } = await download([]);
    expect(sha(body)).toBe(sha(text));
    expect(serverSaw().at(-1)).toBe("none");
    expect(stderr.some((l) => /compression/.test(l))).toBe(false);
  }, 30_000);

  test("-o Compression=yes and Compression yes in ssh_config do what -C does", async () => {
    const viaO = await download(["-o", "Compression=yes"]);
    expect(sha(viaO.body)).toBe(sha(text));
    expect(serverSaw().at(-1)).toBe("zlib@openssh.com");

    const config = join(sshd.dir, "compress_config");
    writeFileSync(config, `Host ${sshd.host}\n  Compression yes\n`, { mode: 0o600 });
    const args = [...sshd.clientArgs];
    args[args.indexOf("-F") + 1] = config;
    const fwd = runFwd([...args, "-L", `0:127.0.0.1:${sourcePort}`, sshd.host]);
    try {
      await fwd.waitFor(/^listening /);
      const { reply } = await exchange(fwd.ports[0]!, "");
      expect(sha(reply)).toBe(sha(text));
      expect(serverSaw().at(-1)).toBe("zlib@openssh.com");
    } finally {
      expect(await fwd.stop()).toBe(0);
    }
  }, 30_000);

  test("the status API names each session's compression", async () => {
    const fwd = runFwd([...sshd.clientArgs, "-C", "--status", "127.0.0.1:0", "-L", `0:127.0.0.1:${sourcePort}`, sshd.host]);
    try {
      const line = await fwd.waitFor(/^status http/);
      await fwd.waitFor(/^listening /);
      const url = new URL(line.split(" ")[1]!);
      const token = url.searchParams.get("token");
      const res = await fetch(`${url.origin}/api/v1/status`, token ? { headers: { authorization: `Bearer ${token}` } } : {});
      const body = (await res.json()) as { sessions: { compression?: string; cipher?: string }[] };
      expect(body.sessions[0]?.compression).toBe("zlib@openssh.com");
      expect(body.sessions[0]?.cipher).toMatch(/^aes|^chacha/);
    } finally {
      expect(await fwd.stop()).toBe(0);
    }
  }, 30_000);
});
