// -L end to end: the real fwd command against a real OpenSSH sshd, with real bytes through it.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash, randomBytes } from "node:crypto";
import net from "node:net";
import { join } from "node:path";
import { runFwd } from "../harness/fwd.ts";
import { spawn } from "node:child_process";
import { exchange, freePort, startEcho, startHashSink, startRandomSource, waitForPort } from "../harness/net.ts";
import { startSshd, type Sshd } from "../harness/sshd.ts";

let sshd: Sshd;
beforeAll(async () => {
  sshd = await startSshd();
});
afterAll(async () => {
  await sshd?.stop();
});

const MiB = 1024 * 1024;

describe("fwd -L", () => {
  test("64 MiB each way arrives intact (SHA-256), and the client's FIN reaches the target", async () => {
    const sink = await startHashSink();
    const source = await startRandomSource(64 * MiB);
    const fwd = runFwd([...sshd.clientArgs, "-L", `0:127.0.0.1:${sink.port}`, "-L", `0:127.0.0.1:${source.port}`, sshd.host]);
    try {
      await fwd.waitFor(/^listening .* -> 127\.0\.0\.1:\d+$/);
      await fwd.waitFor(new RegExp(`-> 127\\.0\\.0\\.1:${source.port}$`));
      const [upPort, downPort] = fwd.ports as [number, number];

      const payload = randomBytes(64 * MiB);
      const up = await exchange(upPort, payload);
      expect(up.reply.toString()).toBe(createHash("sha256").update(payload).digest("hex"));
      expect(up.ended).toBe(true);

      const down = await exchange(downPort, "");
      expect(down.reply.length).toBe(64 * MiB);
      expect(createHash("sha256").update(down.reply).digest("hex")).toBe(source.sent[0]!);
    } finally {
      expect(await fwd.stop()).toBe(0);
      await sink.close();
      await source.close();
    }
  }, 120_000);

  test("the same flags work for OpenSSH's ssh -N and for fwd, with the same result", async () => {
    const echo = await startEcho();
    const port = await freePort();
    const args = [...sshd.clientArgs, "-L", `${port}:127.0.0.1:${echo.port}`, sshd.host];
    try {
      const ssh = spawn("ssh", ["-N", ...args], { stdio: "ignore" });
      try {
        await waitForPort("127.0.0.1", port, 10_000);
        expect((await exchange(port, "through ssh")).reply.toString()).toBe("through ssh");
      } finally {
        ssh.kill();
        await new Promise((r) => ssh.once("exit", r));
      }
      const fwd = runFwd(["-N", ...args]);
      await fwd.waitFor(new RegExp(`^listening 127\\.0\\.0\\.1:${port} -> 127\\.0\\.0\\.1:${echo.port}$`));
      expect((await exchange(port, "through fwd")).reply.toString()).toBe("through fwd");
      expect(await fwd.stop()).toBe(0);
    } finally {
      await echo.close();
    }
  }, 30_000);

  test("200 concurrent connections through one forward each get exactly their own bytes back", async () => {
    const echo = await startEcho();
    const fwd = runFwd([...sshd.clientArgs, "-L", `0:127.0.0.1:${echo.port}`, sshd.host]);
    try {
      await fwd.waitFor(/^listening /);
      const port = fwd.ports[0]!;
      const results = await Promise.all(
        Array.from({ length: 200 }, async (_, i) => {
          const msg = Buffer.from(`connection ${i} `.repeat(64));
          const r = await exchange(port, msg);
          return r.ended && r.reply.equals(msg);
        }),
      );
      expect(results.filter(Boolean).length).toBe(200);
    } finally {
      expect(await fwd.stop()).toBe(0);
      await echo.close();
    }
  }, 60_000);

  test("a unix-socket target on the server, and a unix-socket listener here", async () => {
    const path = join(sshd.dir, "echo.sock");
    const local = join(sshd.dir, "local.sock");
    const echo = await startEcho({ path });
    const fwd = runFwd([...sshd.clientArgs, "-L", `0:${path}`, "-L", `${local}:${path}`, sshd.host]);
    try {
      await fwd.waitFor(new RegExp(`^listening ${local} -> ${path}$`));
      const r = await exchange(fwd.ports[0]!, "hello over a unix socket");
      expect(r.reply.toString()).toBe("hello over a unix socket");
      const viaLocal = await new Promise<string>((resolve, reject) => {
        const s = net.connect(local, () => s.end("ping"));
        let got = "";
        s.on("data", (d) => (got += d));
        s.on("close", () => resolve(got));
        s.on("error", reject);
      });
      expect(viaLocal).toBe("ping");
    } finally {
      expect(await fwd.stop()).toBe(0);
      await echo.close();
    }
  }, 30_000);

  test("half-close: the server's reply still arrives after the client has sent FIN", async () => {
    // A server that waits for the client's FIN before it says anything: only works if EOF crosses.
    const server = net.createServer({ allowHalfOpen: true }, (s) => {
      let n = 0;
      s.on("data", (d) => (n += d.length));
      s.on("end", () => s.end(`got ${n} bytes, then your FIN`));
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as net.AddressInfo).port;
    const fwd = runFwd([...sshd.clientArgs, "-L", `0:127.0.0.1:${port}`, sshd.host]);
    try {
      await fwd.waitFor(/^listening /);
      const r = await exchange(fwd.ports[0]!, "x".repeat(1000));
      expect(r.reply.toString()).toBe("got 1000 bytes, then your FIN");
      expect(r.ended).toBe(true);
    } finally {
      expect(await fwd.stop()).toBe(0);
      await new Promise((r) => server.close(r));
    }
  }, 30_000);

  test("half-close the other way: the target answers and ends first, uploads after that arrive whole", async () => {
    // fwd's local socket is shut for writing when an upload starts, so the client's FIN comes to it
    // as a close. A target that reads in small sips keeps the pipe pausing that socket, so some
    // FINs land while it is paused with the upload's tail still held.
    const received: Promise<{ bytes: number; sha: string }>[] = [];
    const server = net.createServer({ allowHalfOpen: true }, (s) => {
      s.end("send it\n");
      received.push(
        new Promise((r) => {
          const h = createHash("sha256");
          let bytes = 0;
          s.on("data", (d) => {
            bytes += d.length;
            h.update(d);
            s.pause();
            setTimeout(() => s.resume(), 5);
          });
          s.on("end", () => r({ bytes, sha: h.digest("hex") }));
        }),
      );
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const fwd = runFwd([...sshd.clientArgs, "-L", `0:127.0.0.1:${(server.address() as net.AddressInfo).port}`, sshd.host]);
    try {
      await fwd.waitFor(/^listening /);
      const payloads = Array.from({ length: 12 }, () => randomBytes(2 * MiB));
      const said = await Promise.all(
        payloads.map(async (payload) => {
          const c = net.connect({ port: fwd.ports[0]!, host: "127.0.0.1", allowHalfOpen: true });
          let text = "";
          await new Promise<void>((r) => c.on("data", (d) => (text += d)).once("end", r));
          c.end(payload);
          await new Promise((r) => c.once("close", r));
          return text;
        }),
      );
      expect(said).toEqual(payloads.map(() => "send it\n"));
      const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");
      const got = await Promise.all(received);
      expect(got.map((g) => g.bytes).sort()).toEqual(payloads.map((p) => p.length));
      expect(got.map((g) => g.sha).sort()).toEqual(payloads.map(sha).sort());
    } finally {
      expect(await fwd.stop()).toBe(0);
      await new Promise((r) => server.close(r));
    }
  }, 60_000);

  test("a client that leaves while the target is still sending: the connection is closed and counted", async () => {
    // A target that streams until its peer goes: the channel is left with unread data when the client leaves.
    const firehose = net.createServer((s) => {
      s.on("error", () => {});
      const buf = Buffer.alloc(128 * 1024);
      const pump = () => {
        while (!s.destroyed && s.write(buf));
        if (!s.destroyed) s.once("drain", pump);
      };
      pump();
    });
    await new Promise<void>((r) => firehose.listen(0, "127.0.0.1", r));
    const fwd = runFwd([...sshd.clientArgs, "-v", "-L", `0:127.0.0.1:${(firehose.address() as net.AddressInfo).port}`, sshd.host]);
    try {
      await fwd.waitFor(/^listening /);
      await new Promise<void>((resolve) => {
        const c = net.connect(fwd.ports[0]!, "127.0.0.1");
        let got = 0;
        c.on("error", () => {});
        c.on("data", (d) => {
          got += d.length;
          if (got > 8 * MiB) {
            c.destroy();
            resolve();
          }
        });
      });
      await fwd.waitFor(/#\d+ closed after \d+ ms/, 5_000);
    } finally {
      expect(await fwd.stop()).toBe(0);
      firehose.close();
    }
  }, 30_000);

  test("SIGINT lets an open connection finish within the grace period, then exits 0", async () => {
    const echo = await startEcho();
    const fwd = runFwd([...sshd.clientArgs, "-L", `0:127.0.0.1:${echo.port}`, sshd.host]);
    try {
      await fwd.waitFor(/^listening /);
      const s = net.connect(fwd.ports[0]!, "127.0.0.1");
      await new Promise((r) => s.once("connect", r));
      s.write("before ");
      await new Promise((r) => s.once("data", r));
      fwd.proc.kill("SIGINT");
      await fwd.waitFor(/SIGINT: no new connections \(up to 3s for 1 open connection/);
      // The listener is closed now, but the open connection still carries data.
      const refused = await new Promise<boolean>((resolve) => {
        const c = net.connect(fwd.ports[0]!, "127.0.0.1");
        c.once("connect", () => (c.destroy(), resolve(false)));
        c.once("error", () => resolve(true));
      });
      expect(refused).toBe(true);
      const reply = new Promise<string>((resolve) => s.once("data", (d) => resolve(d.toString())));
      s.write("during grace");
      expect(await reply).toBe("during grace");
      s.end();
      expect(await fwd.exited).toBe(0);
    } finally {
      await fwd.stop();
      await echo.close();
    }
  }, 30_000);
});
