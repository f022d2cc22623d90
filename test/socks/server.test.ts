// Table tests for the SOCKS server over real socket pairs: what each request parses to, and the exact
// bytes answered, with a stand-in opener in place of the SSH session.

import { describe, expect, test } from "bun:test";
import net from "node:net";
import { PassThrough } from "node:stream";
import type { TcpEndpoint } from "../../src/vocab/endpoint.ts";
import { FwdError, fail, ok } from "../../src/errors.ts";
import { serveSocks, type OpenSignal, type SocksOptions, type SocksOutcome } from "../../src/socks/server.ts";

/** Runs serveSocks on the server end of a loopback socket pair; the client sends `input` at once. */
async function run(input: Buffer, o: Partial<SocksOptions> = {}, openResult?: FwdError) {
  const opened: TcpEndpoint[] = [];
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const accepted = new Promise<net.Socket>((r) => server.once("connection", r));
  const client = net.connect((server.address() as net.AddressInfo).port, "127.0.0.1");
  const replies: Buffer[] = [];
  client.on("data", (d) => replies.push(d));
  await new Promise((r) => client.once("connect", r));
  client.write(input);
  const sock = await accepted;
  const outcome: SocksOutcome = await serveSocks(sock, { timeoutMs: 300, ...o }, async (t) => {
    opened.push(t);
    return openResult ? fail(openResult) : ok(new PassThrough());
  });
  await new Promise((r) => setTimeout(r, 20));
  client.destroy();
  sock.destroy();
  server.close();
  return { outcome, opened, reply: [...Buffer.concat(replies)] };
}

/** A server end whose writes are counted, and a client that sees the bytes answered. */
async function socketPair() {
  const server = net.createServer({ noDelay: true });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const accepted = new Promise<net.Socket>((r) => server.once("connection", r));
  const client = net.connect((server.address() as net.AddressInfo).port, "127.0.0.1");
  client.setNoDelay(true);
  const replies: Buffer[] = [];
  client.on("data", (d) => replies.push(d));
  await new Promise((r) => client.once("connect", r));
  const sock = await accepted;
  const writes: number[] = [];
  const write = sock.write.bind(sock) as (b: Buffer) => boolean;
  const end = sock.end.bind(sock) as (b?: Buffer) => net.Socket;
  sock.write = ((b: Buffer) => (writes.push(b.length), write(b))) as typeof sock.write;
  sock.end = ((b?: Buffer) => (b && writes.push(b.length), end(b))) as typeof sock.end;
  const answered = () => [...Buffer.concat(replies)];
  const close = () => (client.destroy(), sock.destroy(), server.close());
  return { client, sock, writes, answered, close };
}
const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ""), "hex");
const OK5 = [5, 0, 0, 1, 0, 0, 0, 0, 0, 0];

describe("SOCKS requests", () => {
  test.each([
    ["SOCKS5 IPv4", "050100 05010001 7f000001 0050", { host: "127.0.0.1", port: 80 }, [5, 0, ...OK5]],
    ["SOCKS5 name", "050100 05010003 0b 6578616d706c652e636f6d 01bb", { host: "example.com", port: 443 }, [5, 0, ...OK5]],
    ["SOCKS5 IPv6", "050100 05010004 00000000000000000000000000000001 1f90", { host: "0:0:0:0:0:0:0:1", port: 8080 }, [5, 0, ...OK5]],
    ["SOCKS4", "04 01 0016 0a000001 75736572 00", { host: "10.0.0.1", port: 22 }, [0, 0x5a, 0, 0, 0, 0, 0, 0]],
    ["SOCKS4a", "04 01 0050 00000001 00 64622e6c616e 00", { host: "db.lan", port: 80 }, [0, 0x5a, 0, 0, 0, 0, 0, 0]],
  ])("%s", async (_name, input, target, reply) => {
    const r = await run(hex(input));
    expect(r.outcome.kind).toBe("connected");
    expect(r.opened).toEqual([target]);
    expect(r.reply).toEqual(reply);
  });

  test.each([
    ["not SOCKS at all", "16030100", [], "not a SOCKS request (first byte 0x16)"],
    ["SOCKS5 without the no-auth method", "050102", [5, 0xff], "client offered no no-auth method"],
    ["SOCKS5 BIND", "050100 05020001 7f000001 0050", [5, 0, 5, 7, 0, 1, 0, 0, 0, 0, 0, 0], "BIND is not supported"],
    ["SOCKS5 UDP ASSOCIATE", "050100 05030001 7f000001 0050", [5, 0, 5, 7, 0, 1, 0, 0, 0, 0, 0, 0], "UDP ASSOCIATE is not supported"],
    ["SOCKS5 unknown address type", "050100 05010009", [5, 0, 5, 8, 0, 1, 0, 0, 0, 0, 0, 0], "address type 9 not supported"],
    ["SOCKS4 BIND", "04 02 0050 7f000001 00", [0, 0x5b, 0, 0, 0, 0, 0, 0], "only CONNECT is supported"],
    ["truncated", "0501", [], "timeout"],
  ])("%s is rejected", async (_name, input, reply, why) => {
    const r = await run(hex(input));
    expect(r.outcome).toEqual({ kind: "rejected", why });
    expect(r.opened).toEqual([]);
    expect(r.reply).toEqual(reply);
  });

  test("bytes sent right after the request are kept for the tunnel", async () => {
    const server = net.createServer();
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const accepted = new Promise<net.Socket>((r) => server.once("connection", r));
    const client = net.connect((server.address() as net.AddressInfo).port, "127.0.0.1");
    await new Promise((r) => client.once("connect", r));
    client.write(Buffer.concat([hex("050100 05010001 7f000001 0050"), Buffer.from("GET / HTTP/1.0\r\n\r\n")]));
    const sock = await accepted;
    await new Promise((r) => setTimeout(r, 30));
    const outcome = await serveSocks(sock, { timeoutMs: 300 }, async () => ok(new PassThrough()));
    expect(outcome.kind).toBe("connected");
    // Handed back paused, as pipe() expects; whoever reads next resumes it.
    const early = await new Promise<string>((resolve) => {
      sock.once("data", (d) => resolve(d.toString()));
      sock.resume();
    });
    expect(early).toBe("GET / HTTP/1.0\r\n\r\n");
    client.destroy();
    sock.destroy();
    server.close();
  });
});

describe("a request that arrives a byte at a time", () => {
  // Each message is parsed whole once it has all come: every split point must wait, not misread.
  test.each([
    ["SOCKS5 name with a password", "050102 01 05 616c696365 02 7077 05010003 0b 6578616d706c652e636f6d 01bb", { auth: { user: "alice", password: "pw" } }, { host: "example.com", port: 443 }, [5, 2, 1, 0, ...OK5]],
    ["SOCKS5 IPv6", "050100 05010004 00000000000000000000000000000001 1f90", {}, { host: "0:0:0:0:0:0:0:1", port: 8080 }, [5, 0, ...OK5]],
    ["SOCKS4a", "04 01 0050 00000001 00 64622e6c616e 00", {}, { host: "db.lan", port: 80 }, [0, 0x5a, 0, 0, 0, 0, 0, 0]],
  ])("%s", async (_name, input, o, target, reply) => {
    const { client, sock, answered, close } = await socketPair();
    const opened: TcpEndpoint[] = [];
    const outcome = serveSocks(sock, { timeoutMs: 3_000, ...o }, async (t) => (opened.push(t), ok(new PassThrough())));
    for (const byte of hex(input)) {
      client.write(Buffer.from([byte]));
      await new Promise((r) => setTimeout(r, 3));
    }
    expect((await outcome).kind).toBe("connected");
    await new Promise((r) => setTimeout(r, 20));
    expect(opened).toEqual([target]);
    expect(answered()).toEqual(reply);
    close();
  });
});

describe("the SOCKS5 method answer waits for the reply only when the client did not wait for it", () => {
  const settle = (ms = 30) => new Promise((r) => setTimeout(r, ms));

  test("greeting and request in one packet: one write carries the method answer and the reply", async () => {
    const p = await socketPair();
    p.client.write(hex("050100 05010001 7f000001 0050"));
    await settle();
    const outcome = await serveSocks(p.sock, { timeoutMs: 300 }, async () => ok(new PassThrough()));
    await settle();
    expect(outcome.kind).toBe("connected");
    expect(p.writes).toEqual([12]);
    expect(p.answered()).toEqual([5, 0, ...OK5]);
    p.close();
  });

  test("a client that waits for the method answer gets it before it sends its request", async () => {
    const p = await socketPair();
    const outcome = serveSocks(p.sock, { timeoutMs: 3_000 }, async () => ok(new PassThrough()));
    p.client.write(hex("050100"));
    for (let i = 0; i < 100 && p.answered().length < 2; i++) await settle(10);
    expect(p.answered()).toEqual([5, 0]);
    p.client.write(hex("05010001 7f000001 0050"));
    expect((await outcome).kind).toBe("connected");
    await settle();
    expect(p.writes).toEqual([2, 10]);
    expect(p.answered()).toEqual([5, 0, ...OK5]);
    p.close();
  });

  test("a request that never completes still gets the method answer held for it, before the close", async () => {
    const p = await socketPair();
    p.client.write(hex("050100 0501"));
    await settle();
    const outcome = await serveSocks(p.sock, { timeoutMs: 200 }, async () => ok(new PassThrough()));
    await settle();
    expect(outcome).toEqual({ kind: "rejected", why: "timeout" });
    expect(p.answered()).toEqual([5, 0]);
    p.close();
  });

  test("with a password the method answer is never held: the client needs it to send the password", async () => {
    const p = await socketPair();
    p.client.write(hex("050102 01 05 616c696365 02 7077 05010001 7f000001 0050"));
    await settle();
    const outcome = await serveSocks(p.sock, { timeoutMs: 300, auth: { user: "alice", password: "pw" } }, async () => ok(new PassThrough()));
    await settle();
    expect(outcome.kind).toBe("connected");
    expect(p.writes).toEqual([2, 2, 10]);
    expect(p.answered()).toEqual([5, 2, 1, 0, ...OK5]);
    p.close();
  });
});

describe("SOCKS5 username/password (RFC 1929)", () => {
  const auth = { user: "alice", password: "pw" };
  test("right credentials", async () => {
    const r = await run(hex("050102 01 05 616c696365 02 7077 05010001 7f000001 0050"), { auth });
    expect(r.outcome.kind).toBe("connected");
    expect(r.reply).toEqual([5, 2, 1, 0, ...OK5]);
  });
  test.each([
    ["wrong password", "050102 01 05 616c696365 02 7878", [5, 2, 1, 1], "wrong username or password"],
    ["no-auth only", "050100", [5, 0xff], "client offered no username/password method"],
    ["SOCKS4 (cannot carry a password)", "04 01 0050 7f000001 00", [0, 0x5b, 0, 0, 0, 0, 0, 0], "SOCKS4 cannot carry a password and this proxy requires one"],
  ])("%s", async (_name, input, reply, why) => {
    const r = await run(hex(input), { auth });
    expect(r.outcome).toEqual({ kind: "rejected", why });
    expect(r.reply).toEqual(reply);
  });
});

describe("target names no host can have are refused before any open", () => {
  const name5 = (name: Buffer) => Buffer.concat([hex("050100 05010003"), Buffer.from([name.length]), name, hex("0050")]);
  const HOST_UNREACHABLE5 = [5, 0, 5, 4, 0, 1, 0, 0, 0, 0, 0, 0];
  test.each([
    ["a NUL byte (sshd would drop the whole session)", name5(Buffer.from("evil\0.example", "latin1")), HOST_UNREACHABLE5],
    ["an escape sequence", name5(Buffer.from("a\x1b[2Jb", "latin1")), HOST_UNREACHABLE5],
    ["a space", name5(Buffer.from("a b", "latin1")), HOST_UNREACHABLE5],
    ["an empty label", name5(Buffer.from("a..b", "latin1")), HOST_UNREACHABLE5],
    ["a 64-character label", name5(Buffer.from(`${"a".repeat(64)}.example`, "latin1")), HOST_UNREACHABLE5],
    ["254 characters", name5(Buffer.from(`${"a.".repeat(126)}bb`, "latin1")), HOST_UNREACHABLE5],
    ["an empty name", name5(Buffer.alloc(0)), HOST_UNREACHABLE5],
    ["SOCKS4a with a control character", hex("04 01 0050 00000001 00 6261640164 00"), [0, 0x5b, 0, 0, 0, 0, 0, 0]],
  ])("%s", async (_name, input, reply) => {
    const r = await run(input);
    expect(r.outcome.kind).toBe("failed");
    expect(r.outcome.kind === "failed" && r.outcome.error.reason).toBe("bad-address");
    expect(r.opened).toEqual([]);
    expect(r.reply).toEqual(reply);
  });

  test("the refusal names the host with its bytes escaped, never raw", async () => {
    const r = await run(name5(Buffer.from("evil\0\x1b.example", "latin1")), { name: "-D 1080" });
    expect(r.outcome.kind === "failed" && r.outcome.error.message).toBe('-D 1080: refused target: "evil\\x00\\x1b.example" is not a host name or IP address (letters, digits, \'-\', \'_\' and dots only)');
  });

  test("a 253-character name and an underscore are fine", async () => {
    const name = `${"a.".repeat(125)}b_c`;
    expect(name.length).toBe(253);
    const r = await run(name5(Buffer.from(name)));
    expect(r.opened).toEqual([{ host: name, port: 80 }]);
  });
});

describe("the deadline covers the opening; a client that leaves ends it", () => {
  /** A handshake whose open never answers by itself; `late` resolves it afterwards. */
  async function pendingOpen(timeoutMs: number, afterRequest: (client: net.Socket) => void) {
    // Half-open, as fwd's listeners are: a client's FIN does not end this side by itself.
    const server = net.createServer({ allowHalfOpen: true });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const accepted = new Promise<net.Socket>((r) => server.once("connection", r));
    const client = net.connect((server.address() as net.AddressInfo).port, "127.0.0.1");
    const replies: Buffer[] = [];
    client.on("data", (d) => replies.push(d));
    client.on("error", () => {});
    await new Promise((r) => client.once("connect", r));
    client.write(hex("050100 05010001 c6120002 0050"));
    const sock = await accepted;
    let signal: OpenSignal | undefined;
    let late!: (s: PassThrough) => void;
    const outcome = serveSocks(sock, { timeoutMs }, (_t, sig) => {
      signal = sig;
      afterRequest(client);
      return new Promise((resolve) => (late = (s) => resolve(ok(s))));
    });
    const done = await outcome;
    const lateChannel = new PassThrough();
    late(lateChannel);
    await new Promise((r) => setTimeout(r, 10));
    const closed = await new Promise<boolean>((r) => (client.destroyed ? r(true) : client.once("close", () => r(true))));
    client.destroy();
    sock.destroy();
    server.close();
    return { outcome: done, aborted: signal?.aborted, lateDestroyed: lateChannel.destroyed, reply: [...Buffer.concat(replies)], closed };
  }

  test("an open with no answer gets the timeout reply (6) at the deadline, and a late channel is closed", async () => {
    const r = await pendingOpen(300, () => {});
    expect(r.outcome.kind).toBe("failed");
    expect(r.outcome.kind === "failed" && r.outcome.error.message).toBe("socks: open 198.18.0.2:80: no answer within 0.3 s");
    expect(r.reply).toEqual([5, 0, 5, 6, 0, 1, 0, 0, 0, 0, 0, 0]);
    expect(r.aborted).toBe(true);
    expect(r.lateDestroyed).toBe(true);
  });

  test("a client that sends early bytes and hangs up during the open still gets the held method answer", async () => {
    const r = await pendingOpen(60_000, (client) => client.end(Buffer.from("early")));
    expect(r.outcome).toEqual({ kind: "rejected", why: "client left while 198.18.0.2:80 was being opened" });
    expect(r.reply).toEqual([5, 0]);
  });

  test("a client that hangs up during the open ends the handshake at once, not at the deadline", async () => {
    // A deadline far beyond bun's 5 s test timeout: only the hang-up can end this in time.
    const r = await pendingOpen(60_000, (client) => client.end());
    expect(r.outcome).toEqual({ kind: "rejected", why: "client left while 198.18.0.2:80 was being opened" });
    expect(r.aborted).toBe(true);
    expect(r.lateDestroyed).toBe(true);
    // It only half-closed: the method answer held for the reply still reaches it, then the close.
    expect(r.reply).toEqual([5, 0]);
    expect(r.closed).toBe(true);
  });
});

describe("reply codes from open failures", () => {
  test.each([
    ["refused", 5],
    ["prohibited", 2],
    ["unreachable", 4],
    ["dns", 4],
    ["bad-address", 4],
    ["timeout", 6],
    ["something else", 1],
  ])("%s → %d", async (reason, code) => {
    const r = await run(hex("050100 05010001 7f000001 0050"), {}, new FwdError("E_CHANNEL", "x", "y", { reason }));
    expect(r.outcome.kind).toBe("failed");
    expect(r.reply).toEqual([5, 0, 5, code, 0, 1, 0, 0, 0, 0, 0, 0]);
  });
});

describe("a client already closed when its handshake begins (it waited for a slot)", () => {
  test("ends at once as closed, not at the handshake's deadline", async () => {
    const s = new PassThrough();
    s.destroy();
    await new Promise((r) => setImmediate(r)); // its 'close' has come and gone
    // The deadline is a minute: waiting for it would outlast the test's own 5 s.
    const outcome = await serveSocks(s, { timeoutMs: 60_000 }, async () => fail(new FwdError("E_CHANNEL", "never opened", "")));
    expect(outcome.kind).toBe("rejected");
  });
});
