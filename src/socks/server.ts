// The server side of SOCKS4, SOCKS4a and SOCKS5 (CONNECT, no-auth or RFC 1929 username/password) on
// one stream. It reads the request, asks `open` for the connection, answers with a reply code that
// says what really happened, and hands back both ends for the caller to pipe. Names are passed on
// unresolved, so for -D they are resolved on the SSH server's side. The deadline covers the whole
// handshake, the connection's opening included; a client that hangs up meanwhile ends it at once.

import type { Duplex } from "node:stream";
import { timingSafeEqual } from "node:crypto";
import { badTarget } from "../vocab/host-name.ts";
import { formatEndpoint, type TcpEndpoint } from "../vocab/endpoint.ts";
import { FwdError, type Result } from "../errors.ts";
import { ByteReader, HandshakeError } from "./reader.ts";
import { SOCKS4, SOCKS5, socks4Reply, socks5CodeFor, socks5Reply } from "./replies.ts";

export interface SocksOptions {
  /** What messages call this proxy (the forward's id). */
  name?: string;
  /** Required credentials; without them only "no authentication" is offered. */
  auth?: { user: string; password: string };
  /** From the first byte to the reply, the opening of the connection included. */
  timeoutMs: number;
  /** Answers `GET /proxy.pac` on the same port when set (a browser fetches it over plain HTTP). */
  pac?: PacOptions;
}

export interface PacOptions {
  body: () => string;
  /** Whether the request's Host header names this proxy (DNS rebinding sends a foreign name). */
  hostOk: (host: string) => boolean;
}

/** Turns true when the deadline passes or the client leaves (a flag: an AbortController costs more). */
export interface OpenSignal {
  readonly aborted: boolean;
}

/**
 * Opens the connection to `target`. `signal` aborts when the deadline passes or the client leaves:
 * the answer is no longer awaited then, and the opener must close what it opens late.
 */
export type Opener = (target: TcpEndpoint, signal: OpenSignal) => Promise<Result<Duplex>>;

export type SocksOutcome =
  | { kind: "connected"; target: TcpEndpoint; upstream: Duplex }
  /** The request was understood but the connection failed; the client got the matching reply. */
  | { kind: "failed"; target: TcpEndpoint; error: FwdError }
  /** Not a usable request (bad bytes, wrong password, slow client, unsupported command). */
  | { kind: "rejected"; why: string }
  | { kind: "pac" };

const MAX_FIELD = 255;

/**
 * The handshake's answers to the client, with room for one held back: SOCKS5's method answer, when
 * the client sent its request right behind the greeting without waiting for it, goes out with the
 * reply to that request — one write and one wakeup of the client fewer per connection, the same
 * bytes in the same order. Whatever ends the handshake sends what is held first.
 */
class Answers {
  private held: Buffer | undefined;

  constructor(readonly client: Duplex) {}

  /** Only the method answer is ever held, and only before anything else was written. */
  hold(b: Buffer): void {
    this.held = b;
  }

  write(b: Buffer): void {
    this.client.write(this.withHeld(b));
  }

  end(b?: Buffer): void {
    const all = b ? this.withHeld(b) : this.takeHeld();
    if (all) this.client.end(all);
    else this.client.end();
  }

  /** `b` with what is held in front of it. */
  private withHeld(b: Buffer): Buffer {
    const held = this.takeHeld();
    return held ? Buffer.concat([held, b]) : b;
  }

  private takeHeld(): Buffer | undefined {
    const held = this.held;
    this.held = undefined;
    return held;
  }
}

export async function serveSocks(client: Duplex, o: SocksOptions, open: Opener): Promise<SocksOutcome> {
  const r = new ByteReader(client, o.timeoutMs);
  const out = new Answers(client);
  const connect = (target: TcpEndpoint, reply: (e: FwdError | undefined) => Buffer) => connectTo(client, out, r, o, target, open, reply);
  try {
    const version = await r.byte();
    if (version === 0x05) return await socks5(out, r, o, connect);
    if (version === 0x04) return await socks4(out, r, o, connect);
    if (version === 0x47 /* "G" of an HTTP GET */ && o.pac) return await servePac(client, r, o.pac);
    return reject(out, r, `not a SOCKS request (first byte 0x${version.toString(16).padStart(2, "0")})`);
  } catch (e) {
    return reject(out, r, e instanceof HandshakeError ? e.why : String(e));
  }
}

type Connect = (target: TcpEndpoint, reply: (e: FwdError | undefined) => Buffer) => Promise<SocksOutcome>;

// SOCKS5's messages, each parsed whole off the front of the bytes that have come (ByteReader.take):
// a value and its length, or undefined while it is incomplete. A field that decides at once (a
// version, an address type) decides as soon as it is there, without waiting for the rest.

/** After the version byte: the number of methods, then the methods. */
const methodsOf = (b: Buffer) => (b.length >= 1 && b.length >= 1 + b[0]! ? ([b.subarray(1, 1 + b[0]!), 1 + b[0]!] as const) : undefined);

type Credentials = { ok: false } | { ok: true; user: Buffer; pass: Buffer };
/** RFC 1929: version 1, then the user name and the password, each after its length byte. */
function credentialsOf(b: Buffer): readonly [Credentials, number] | undefined {
  if (b.length < 1) return undefined;
  if (b[0] !== 0x01) return [{ ok: false }, 1];
  if (b.length < 2) return undefined;
  const userEnd = 2 + b[1]!;
  if (b.length < userEnd + 1) return undefined;
  const end = userEnd + 1 + b[userEnd]!;
  return b.length < end ? undefined : [{ ok: true, user: b.subarray(2, userEnd), pass: b.subarray(userEnd + 1, end) }, end];
}

type Request = { bad: "version" } | { bad: "address type"; atyp: number } | { bad?: undefined; cmd: number; host: string; port: number };
/** Version 5, a command, a reserved byte, an address type, the address, the port. */
function requestOf(b: Buffer): readonly [Request, number] | undefined {
  if (b.length < 4) return undefined;
  if (b[0] !== 0x05) return [{ bad: "version" }, 4];
  const atyp = b[3]!;
  const addrLen = atyp === 0x01 ? 4 : atyp === 0x04 ? 16 : atyp === 0x03 ? (b.length < 5 ? -1 : 1 + b[4]!) : undefined;
  if (addrLen === undefined) return [{ bad: "address type", atyp }, 4];
  if (addrLen < 0 || b.length < 4 + addrLen + 2) return undefined;
  const a = b.subarray(4, 4 + addrLen);
  const host = atyp === 0x01 ? `${a[0]}.${a[1]}.${a[2]}.${a[3]}` : atyp === 0x04 ? ipv6(a) : a.subarray(1).toString("latin1");
  return [{ cmd: b[1]!, host, port: b.readUInt16BE(4 + addrLen) }, 4 + addrLen + 2];
}

async function socks5(out: Answers, r: ByteReader, o: SocksOptions, connect: Connect): Promise<SocksOutcome> {
  const methods = await r.take(methodsOf);
  const want = o.auth ? 0x02 : 0x00;
  if (!methods.includes(want)) {
    out.write(Buffer.from([0x05, 0xff]));
    return reject(out, r, o.auth ? "client offered no username/password method" : "client offered no no-auth method");
  }
  // More bytes right behind the greeting: the client did not wait for this answer (see Answers).
  // Only without authentication: with it, the next message is the client's password, which it
  // may send only once it knows the method.
  if (!o.auth && r.buffered > 0) out.hold(Buffer.from([0x05, want]));
  else out.write(Buffer.from([0x05, want]));
  if (o.auth) {
    const c = await r.take(credentialsOf);
    if (!c.ok) return reject(out, r, "bad auth version");
    if (!same(c.user, o.auth.user) || !same(c.pass, o.auth.password)) {
      out.write(Buffer.from([0x01, 0x01]));
      return reject(out, r, "wrong username or password");
    }
    out.write(Buffer.from([0x01, 0x00]));
  }
  const req = await r.take(requestOf);
  if (req.bad === "version") return reject(out, r, "bad request version");
  if (req.bad === "address type") {
    out.write(socks5Reply(SOCKS5.addressTypeNotSupported));
    return reject(out, r, `address type ${req.atyp} not supported`);
  }
  if (req.cmd !== 0x01) {
    out.write(socks5Reply(SOCKS5.commandNotSupported));
    return reject(out, r, req.cmd === 0x02 ? "BIND is not supported" : req.cmd === 0x03 ? "UDP ASSOCIATE is not supported" : `command ${req.cmd} unknown`);
  }
  return connect({ host: req.host, port: req.port }, (e) => socks5Reply(e ? socks5CodeFor(e.reason) : SOCKS5.succeeded));
}

async function socks4(out: Answers, r: ByteReader, o: SocksOptions, connect: Connect): Promise<SocksOutcome> {
  const [cmd, p1, p2, a, b, c, d] = await r.bytes(7);
  await r.untilNul(MAX_FIELD); // user id: SOCKS4 has no password, so it proves nothing
  const port = (p1! << 8) | p2!;
  // 4a: 0.0.0.x (x ≠ 0) means "the name follows"
  const host = a === 0 && b === 0 && c === 0 && d !== 0 ? (await r.untilNul(MAX_FIELD)).toString("latin1") : `${a}.${b}.${c}.${d}`;
  if (o.auth) {
    out.write(socks4Reply(SOCKS4.rejected));
    return reject(out, r, "SOCKS4 cannot carry a password and this proxy requires one");
  }
  if (cmd !== 0x01) {
    out.write(socks4Reply(SOCKS4.rejected));
    return reject(out, r, "only CONNECT is supported");
  }
  return connect({ host, port }, (e) => socks4Reply(e ? SOCKS4.rejected : SOCKS4.granted));
}

async function connectTo(client: Duplex, out: Answers, r: ByteReader, o: SocksOptions, target: TcpEndpoint, open: Opener, reply: (e: FwdError | undefined) => Buffer): Promise<SocksOutcome> {
  const name = o.name ?? "socks";
  // Refused here, before any channel: sshd ends the whole session on a name with a NUL byte.
  const bad = badTarget(name, target);
  if (bad) {
    r.release();
    out.end(reply(bad));
    return { kind: "failed", target, error: bad };
  }
  // The reader's deadline (set when the handshake began) and the client's hang-up end the wait for the open.
  let why: "timeout" | "gone" | undefined;
  const signal: OpenSignal = {
    get aborted() {
      return why !== undefined;
    },
  };
  let pending: Promise<Result<Duplex>> | undefined;
  const up = await new Promise<Result<Duplex> | undefined>((resolve, failed) => {
    const abort = (w: "timeout" | "gone") => {
      why ??= w;
      resolve(undefined);
    };
    r.watch(
      () => abort("gone"),
      () => abort("timeout"),
    );
    if (why) return; // gone or out of time already: nothing to open
    pending = open(target, signal);
    pending.then(resolve, failed);
  });
  // Early bytes wait, paused, for the pipe.
  r.release();
  if (up === undefined) {
    // Nobody waits for it any more: a channel that opens late is closed at once.
    void pending?.then((late) => late.ok && late.value.destroy(), () => {});
    if (why === "gone") {
      const left = `client left while ${formatEndpoint(target)} was being opened`;
      // A client that only half-closed still gets what it was owed (a held method answer) before the close.
      return client.destroyed ? { kind: "rejected", why: left } : reject(out, r, left);
    }
    const e = new FwdError("E_CHANNEL", `${name}: open ${formatEndpoint(target)}: no answer within ${o.timeoutMs / 1000} s`, "the target may drop connection attempts (a firewall), or be down; the SOCKS handshake, its opening included, has a deadline", { reason: "timeout" });
    out.end(reply(e));
    return { kind: "failed", target, error: e };
  }
  if (!up.ok) {
    out.end(reply(up.error));
    return { kind: "failed", target, error: up.error };
  }
  out.write(reply(undefined));
  return { kind: "connected", target, upstream: up.value };
}

async function servePac(client: Duplex, r: ByteReader, pac: PacOptions): Promise<SocksOutcome> {
  const head = await r.untilCrlfCrlf();
  const path = /^ET (\S+) HTTP\/1\.[01]\r\n/.exec(head)?.[1];
  const host = /\r\nhost:[ \t]*([^\r]*?)[ \t]*\r\n/i.exec(head)?.[1];
  r.release();
  const known = path === "/proxy.pac" || path === "/wpad.dat";
  // A page on a rebound name (evil.example → 127.0.0.1) would read the intranet's domain list.
  const allowed = host !== undefined && pac.hostOk(host.toLowerCase());
  const body = known && allowed ? pac.body() : undefined;
  client.end(
    body === undefined
      ? `HTTP/1.1 ${known ? "403 Forbidden" : "404 Not Found"}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n`
      : `HTTP/1.1 200 OK\r\ncontent-type: application/x-ns-proxy-autoconfig\r\ncontent-length: ${Buffer.byteLength(body)}\r\ncache-control: no-store\r\nconnection: close\r\n\r\n${body}`,
  );
  return known && !allowed ? { kind: "rejected", why: `PAC request for Host ${JSON.stringify(host ?? "")}, not this proxy` } : { kind: "pac" };
}

function reject(out: Answers, r: ByteReader, why: string): SocksOutcome {
  r.release();
  // end() lets a reply already written (e.g. "command not supported") reach the client first; the
  // socket is then destroyed, not left half-open for a client that never closes its side.
  const client = out.client;
  client.once("finish", () => client.destroy());
  out.end();
  return { kind: "rejected", why };
}

function same(got: Buffer, want: string): boolean {
  const w = Buffer.from(want, "utf8");
  return got.length === w.length && timingSafeEqual(got, w);
}

function ipv6(b: Buffer): string {
  const parts: string[] = [];
  for (let i = 0; i < 16; i += 2) parts.push(b.readUInt16BE(i).toString(16));
  return parts.join(":");
}
