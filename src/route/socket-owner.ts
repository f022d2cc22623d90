// Which local user owns the client end of a TCP connection made on this machine, asked of the kernel with one
// sock_diag netlink request for the exact 4-tuple (NETLINK_SOCK_DIAG, SOCK_DIAG_BY_FAMILY, an
// inet_diag_req_v2 without NLM_F_DUMP): the kernel looks the one socket up in its hash and answers
// with its idiag_uid. Nothing is listed or scanned, unlike /proc/net/tcp, whose cost grows with every
// socket (TIME_WAIT included) on the machine. Linux and Bun only (libc through bun:ffi), loaded on
// first use; elsewhere the lookup says why and the caller keeps to addresses.

import { FwdError, fail, ok, type Result } from "../errors.ts";
import { AF_INET, AF_INET6, addressBytes, libcNow, loadLibc, NetlinkChannel, unavailable, NLM_F_REQUEST, NLMSG_ERROR, NLMSG_HDRLEN, readAnswer, type Answer, type Libc } from "./netlink.ts";

/** <linux/sock_diag.h>, <linux/inet_diag.h> (x86-64 and arm64 alike). */
const NETLINK_SOCK_DIAG = 4;
const SOCK_DIAG_BY_FAMILY = 20;
const IPPROTO_TCP = 6;
const NOCOOKIE = 0xffffffff;
/** lo's interface index, the same in every network namespace (LOOPBACK_IFINDEX in <linux/netdevice.h>). */
export const LOOPBACK_IFINDEX = 1;
/** struct nlmsghdr, then struct inet_diag_req_v2 (family, protocol, ext, pad, states, inet_diag_sockid). */
const REQ_LEN = NLMSG_HDRLEN + 8 + 48;
/** In the answer after its nlmsghdr, struct inet_diag_msg: …, idiag_uid at 64, idiag_inode at 68. */
const MSG_STATE = 1;
const TCP_LISTEN = 10;
/** inet_diag_sockid's source and destination ports, in network order. */
const MSG_SPORT = 4;
const MSG_DPORT = 6;
const MSG_UID = 64;
const MSG_INODE = 68;

/** What every failed lookup means for the caller. */
const UNKNOWN_OWNER_HINT = "a client whose owner is not found is not told apart by user";

/**
 * How long an answer may take. The kernel handles a sock_diag request inside sendto(2), so the answer
 * is queued before sendto returns and the first recv finds it; the wait is only for a system that
 * does otherwise, and it is polled, never a blocking call that would stop the event loop.
 */
export const OWNER_DEADLINE_MS = 100;
const POLL_MS = 5;

/**
 * Loads what lookups need (libc, once), so that every lookup after it is answered within the call;
 * an error saying why where lookups cannot be made at all.
 */
export async function prepareSocketOwner(): Promise<Result<void>> {
  const r = await loadLibc();
  return r.ok ? ok(undefined) : fail(unavailable("socket owner", r.error));
}

/** A TCP endpoint as node:net and Bun's sockets report it: dotted IPv4, IPv6, or IPv4-mapped IPv6. */
export interface Tcp {
  host: string;
  port: number;
}

/**
 * The uid that owns the socket at `client` connected to `server` (this process's end), on this
 * machine and network namespace. An error when the kernel has no such socket (the client left, or
 * is on another machine), when no process owns it any longer (an orphan or TIME_WAIT socket, which
 * the kernel reports as uid 0 and would pass as root's), or when sock_diag cannot be reached.
 */
export async function socketOwner(client: Tcp, server: Tcp, ifindex = LOOPBACK_IFINDEX): Promise<Result<number>> {
  return socketOwnerSoon(client, server, ifindex);
}

/**
 * socketOwner's answer without a promise where the kernel gives it within sendto (Linux does), which
 * is every lookup after the first. On the SOCKS accept path the lookup cost ~27 µs of CPU per
 * connection in situ (three async steps, two fresh buffers), against ~7 µs for the calls alone
 * (2026-12-03); without the promises and buffers, about half of that went (lab A/B, three rounds).
 * A promise only for the first lookup (libc loads) and for a kernel that answers later.
 *
 * `ifindex` is the interface the kernel's lookup names (see request()): lo's finds every socket bound
 * to no device or to lo; a socket bound to another (SO_BINDTODEVICE) is found only with that one's.
 */
export function socketOwnerSoon(client: Tcp, server: Tcp, ifindex = LOOPBACK_IFINDEX): Result<number> | Promise<Result<number>> {
  const c = libcNow();
  if (c === undefined) return loadLibc().then(() => socketOwnerSoon(client, server, ifindex));
  if (!c.ok) return fail(unavailable("socket owner", c.error));
  try {
    return lookup(c.value, client, server, ifindex);
  } catch (e) {
    // Not expected (the calls return codes, not exceptions); still, a lookup must never take down the accept path.
    return thrown(e);
  }
}

/** One request, answered at once or polled for (then as a promise). */
function lookup(c: Libc, client: Tcp, server: Tcp, ifindex: number): Result<number> | Promise<Result<number>> {
  const seq = diag.next();
  const req = request(client, server, seq, ifindex);
  if (!req) return fail(new FwdError("E_CONFIG", `socket owner: ${client.host} and ${server.host} are not one address family`, "only TCP over IPv4 or IPv6 has an owner to look up"));
  const want: Wanted = { seq, sport: client.port, dport: server.port };
  const a = diag.ask(c, req, seq, ANSWER);
  return "late" in a ? poll(c, a.late, want).catch(thrown) : answered(a, ANSWER, want);
}

/** The request's number and the ports its answer must carry. */
interface Wanted {
  seq: number;
  sport: number;
  dport: number;
}

function answered(a: Exclude<Answer, { none: true }>, into: Uint8Array, want: Wanted): Result<number> {
  if ("failed" in a) return fail(sysError(a.failed, a.errno));
  if ("stray" in a) return fail(new FwdError("E_CONFIG", "socket owner: an answer to another request", UNKNOWN_OWNER_HINT));
  return parse(into.subarray(0, a.n), want);
}

/** A kernel that did not answer within sendto: polled until the deadline, never a blocking call that would stop the event loop. */
async function poll(c: Libc, fd: number, want: Wanted): Promise<Result<number>> {
  const into = new Uint8Array(ANSWER_BYTES);
  try {
    for (const until = Date.now() + OWNER_DEADLINE_MS; ; ) {
      if (Date.now() >= until) return fail(new FwdError("E_CONFIG", `socket owner: the kernel did not answer within ${OWNER_DEADLINE_MS} ms`, UNKNOWN_OWNER_HINT));
      await new Promise((r) => setTimeout(r, POLL_MS));
      const a = readAnswer(c, fd, into, want.seq);
      if (!("none" in a)) return answered(a, into, want);
    }
  } finally {
    c.close(fd);
  }
}

/** Room for one answer (an inet_diag_msg is 72 bytes with its header; no attributes were asked for). */
const ANSWER_BYTES = 512;
/** The answer buffer of the lookups answered at once: read and parsed before the call returns. */
const ANSWER = new Uint8Array(ANSWER_BYTES);

/** The sock_diag socket kept between lookups. */
const diag = new NetlinkChannel(NETLINK_SOCK_DIAG);
const REQUEST = new Uint8Array(REQ_LEN);
const REQUEST_VIEW = new DataView(REQUEST.buffer);

/** The request for the socket whose own end is `client` and whose far end is `server`. */
function request(client: Tcp, server: Tcp, seq: number, ifindex: number): Uint8Array | undefined {
  const src = addressBytes(client.host);
  const dst = addressBytes(server.host);
  if (!src || !dst || src.length !== dst.length) return undefined;
  // One buffer for every request: sendto(2) has copied it before it returns.
  const buf = REQUEST.fill(0);
  const v = REQUEST_VIEW;
  v.setUint32(0, REQ_LEN, true);
  v.setUint16(4, SOCK_DIAG_BY_FAMILY, true);
  v.setUint16(6, NLM_F_REQUEST, true);
  v.setUint32(8, seq, true); // sequence number: the answer must carry it (the socket is reused)
  buf[16] = src.length === 4 ? AF_INET : AF_INET6;
  buf[17] = IPPROTO_TCP;
  v.setUint32(20, 0xffffffff, true); // every state
  v.setUint16(24, client.port, false); // inet_diag_sockid: ports and addresses in network order
  v.setUint16(26, server.port, false);
  buf.set(src, 28);
  buf.set(dst, 44);
  // An interface, not 0: the kernel's exact lookup with 0 skips a socket bound to a device, and any
  // local user may bind one (SO_BINDTODEVICE, unprivileged since Linux 5.7) to become unfindable.
  // With an interface's index it finds the sockets bound to that one and to none alike.
  v.setUint32(60, ifindex, true);
  v.setUint32(64, NOCOOKIE, true);
  v.setUint32(68, NOCOOKIE, true);
  return buf;
}

function parse(a: Uint8Array, want: Wanted): Result<number> {
  const v = new DataView(a.buffer, a.byteOffset, a.byteLength);
  if (a.length < NLMSG_HDRLEN) return fail(new FwdError("E_CONFIG", `socket owner: a short answer (${a.length} bytes)`, UNKNOWN_OWNER_HINT));
  const type = v.getUint16(4, true);
  if (type === NLMSG_ERROR && a.length >= NLMSG_HDRLEN + 4) return fail(sysError("sock_diag", -v.getInt32(NLMSG_HDRLEN, true)));
  if (type !== SOCK_DIAG_BY_FAMILY || a.length < NLMSG_HDRLEN + MSG_INODE + 4) return fail(new FwdError("E_CONFIG", `socket owner: an unexpected answer (type ${type}, ${a.length} bytes)`, UNKNOWN_OWNER_HINT));
  // An exact lookup that finds no connection falls back, in the kernel, to a socket listening on
  // the client's address and port: its owner is not the client's.
  if (a[NLMSG_HDRLEN + MSG_STATE] === TCP_LISTEN || v.getUint16(NLMSG_HDRLEN + MSG_SPORT, false) !== want.sport || v.getUint16(NLMSG_HDRLEN + MSG_DPORT, false) !== want.dport)
    return fail(gone("socket owner: the kernel answered for another socket (the client's is gone)"));
  if (v.getUint32(NLMSG_HDRLEN + MSG_INODE, true) === 0) return fail(gone("socket owner: the client's socket has no owner any more (closed by its process)"));
  return ok(v.getUint32(NLMSG_HDRLEN + MSG_UID, true));
}

/** A throw where only codes were expected, as a failure: a lookup must never take down the accept path. */
function thrown(e: unknown): Result<number> {
  return fail(new FwdError("E_CONFIG", `socket owner: ${(e as Error).message}`, UNKNOWN_OWNER_HINT, { cause: e }));
}

function sysError(call: string, errno: number): FwdError {
  // sock_diag's ENOENT: the kernel has no such connection (on that interface, with these ports) — the client's is gone.
  if (errno === 2 && call === "sock_diag") return gone(`socket owner: ${call}: no such socket (ENOENT)`);
  return new FwdError("E_CONFIG", `socket owner: ${call}: errno ${errno}`, UNKNOWN_OWNER_HINT);
}

/** The reason of a lookup that failed because the client's socket is gone or its process closed it. */
export const CLIENT_GONE = "client-gone";

const gone = (message: string) => new FwdError("E_CONFIG", message, UNKNOWN_OWNER_HINT, { reason: CLIENT_GONE });
