// What the kernel questions of this directory share: libc's socket calls through bun:ffi (loaded
// once, Linux and Bun only), the netlink constants and socket, addresses as the kernel's structures
// hold them, and a socket's own descriptor and device. The questions themselves are sock_diag
// (socket-owner.ts) and rtnetlink (local-route.ts): one request each, answered within sendto(2);
// original-dst.ts uses getsockopt.

import { FwdError, fail, ok, type Result } from "../errors.ts";
import { ipv6Groups } from "../vocab/cidr.ts";

/** <sys/socket.h>, <linux/netlink.h> (x86-64 and arm64 alike). */
export const AF_INET = 2;
export const AF_INET6 = 10;
const AF_NETLINK = 16;
const SOCK_DGRAM = 2;
const SOCK_NONBLOCK = 0o4000;
const SOCK_CLOEXEC = 0o2000000;
export const NLMSG_ERROR = 2;
export const NLM_F_REQUEST = 1;
const MSG_DONTWAIT = 0x40;
const EAGAIN = 11;
/** struct nlmsghdr: length, type, flags, sequence number, port id. */
export const NLMSG_HDRLEN = 16;

export interface Libc {
  socket(domain: number, type: number, protocol: number): number;
  sendto(fd: number, buf: Uint8Array, len: number, flags: number, addr: Uint8Array, addrLen: number): number;
  recv(fd: number, buf: Uint8Array, len: number, flags: number): number;
  close(fd: number): number;
  getsockopt(fd: number, level: number, name: number, value: Uint8Array, length: Uint32Array): number;
  errno(): number;
}

let libc: Promise<Result<Libc>> | undefined;
/** What loadLibc() settled on, once it has: from then on a question needs no promise at all. */
let settled: Result<Libc> | undefined;

/** libc's calls through bun:ffi, opened once; an error saying why where there is no such thing. */
export function loadLibc(): Promise<Result<Libc>> {
  return (libc ??= (async (): Promise<Result<Libc>> => {
    if (process.platform !== "linux") return fail(new FwdError("E_CONFIG", "netlink is Linux's", "on this system the kernel cannot be asked"));
    if (!("Bun" in globalThis)) return fail(new FwdError("E_CONFIG", "this runtime has no bun:ffi", "the fwd binary (Bun) asks the kernel"));
    try {
      const { dlopen, FFIType: T, read } = await import("bun:ffi");
      const { symbols: s } = dlopen("libc.so.6", {
        socket: { args: [T.i32, T.i32, T.i32], returns: T.i32 },
        sendto: { args: [T.i32, T.ptr, T.u64, T.i32, T.ptr, T.u32], returns: T.i64 },
        recv: { args: [T.i32, T.ptr, T.u64, T.i32], returns: T.i64 },
        close: { args: [T.i32], returns: T.i32 },
        getsockopt: { args: [T.i32, T.i32, T.i32, T.ptr, T.ptr], returns: T.i32 },
        __errno_location: { args: [], returns: T.ptr },
      });
      return ok({
        socket: (d, t, p) => s.socket(d, t, p),
        sendto: (fd, buf, len, flags, addr, addrLen) => Number(s.sendto(fd, buf, len, flags, addr, addrLen)),
        recv: (fd, buf, len, flags) => Number(s.recv(fd, buf, len, flags)),
        close: (fd) => s.close(fd),
        getsockopt: (fd, level, name, value, length) => s.getsockopt(fd, level, name, value, length),
        errno: () => read.i32(s.__errno_location()!, 0),
      });
    } catch (e) {
      return fail(new FwdError("E_CONFIG", `cannot call libc: ${(e as Error).message}`, "this needs fwd on Bun (the fwd binary is) on Linux with glibc", { cause: e }));
    }
  })().then((r) => (settled = r)));
}

/** libc once loadLibc() has settled; undefined before. */
export const libcNow = (): Result<Libc> | undefined => settled;

/** loadLibc's failure as `what`'s (its message prefixed, its hint kept). */
export const unavailable = (what: string, e: FwdError): FwdError => new FwdError(e.code, `${what}: ${e.message}`, e.hint, { cause: e });

/** A non-blocking netlink socket for `protocol` (NETLINK_ROUTE, NETLINK_SOCK_DIAG, …); negative on failure. */
const netlinkSocket = (c: Libc, protocol: number): number => c.socket(AF_NETLINK, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol);

/** What one read of a netlink socket found: an answer of `n` bytes, nothing yet, a failed call, or an answer to another request. */
export type Answer = { n: number } | { none: true } | { failed: string; errno: number } | { stray: true };

/** Reads one answer to request `seq` into `into`, without waiting. */
export function readAnswer(c: Libc, fd: number, into: Uint8Array, seq: number): Answer {
  const n = c.recv(fd, into, into.length, MSG_DONTWAIT);
  if (n < 0) {
    const errno = c.errno();
    return errno === EAGAIN ? { none: true } : { failed: "recv", errno };
  }
  // An answer to another request (never seen; guarded all the same) must not be taken for this one's.
  if (n < NLMSG_HDRLEN || new DataView(into.buffer, into.byteOffset).getUint32(8, true) !== seq) return { stray: true };
  return { n };
}

/**
 * Requests to the kernel over one netlink socket of `protocol`, kept from one request to the next
 * while each answer comes within sendto (the kernel builds it in the call): a socket() and a close()
 * fewer per request (~30 → ~15 µs of CPU measured for sock_diag). A socket whose answer did not come
 * at once is handed to the caller and never shared again: a late answer must not meet the next request.
 */
export class NetlinkChannel {
  private shared: number | undefined;
  private seq = 0;

  constructor(private readonly protocol: number) {}

  /** The sequence number for the next request (its answer carries it). */
  next(): number {
    return (this.seq = (this.seq + 1) >>> 0);
  }

  /**
   * Sends `req` (numbered `seq`) and reads its answer into `into`: the answer, a failed call, or
   * `late` with the socket, which is then the caller's to read later and close.
   */
  ask(c: Libc, req: Uint8Array, seq: number, into: Uint8Array): Exclude<Answer, { none: true }> | { late: number } {
    let fd = this.shared;
    this.shared = undefined;
    if (fd === undefined) fd = netlinkSocket(c, this.protocol);
    if (fd < 0) return { failed: "socket", errno: c.errno() };
    if (c.sendto(fd, req, req.length, 0, KERNEL, KERNEL.length) !== req.length) {
      const errno = c.errno();
      c.close(fd);
      return { failed: "sendto", errno };
    }
    const a = readAnswer(c, fd, into, seq);
    if ("none" in a) return { late: fd };
    // Its answer read whole, the socket has nothing left in it and serves the next request.
    if ("n" in a && this.shared === undefined) this.shared = fd;
    else c.close(fd);
    return a;
  }
}

/** struct sockaddr_nl of the kernel (port id 0), where every request goes. */
const KERNEL = (() => {
  const a = new Uint8Array(12);
  new DataView(a.buffer).setUint16(0, AF_NETLINK, true);
  return a;
})();

/** 4 bytes for IPv4 and IPv4-mapped IPv6 (the kernel keeps those in its IPv4 tables), 16 for IPv6. */
export function addressBytes(host: string): number[] | undefined {
  const v4 = (s: string) => {
    const p = s.split(".");
    return p.length === 4 && p.every((n) => /^\d{1,3}$/.test(n) && Number(n) <= 255) ? p.map(Number) : undefined;
  };
  const h = host.replace(/%.*$/, "");
  if (!h.includes(":")) return v4(h);
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(h);
  if (mapped) return v4(mapped[1]!);
  return ipv6Groups(h)?.flatMap((g) => [g >> 8, g & 255]);
}

/**
 * A socket's descriptor: Bun's own sockets (src/runtime/bun-tcp.ts) say `fd`; Bun's node:net sockets
 * expose theirs as _handle.fd (FACTS.md). Neither is in Node's types; undefined where there is none.
 */
export function socketFd(socket: object): number | undefined {
  const s = socket as { fd?: number; _handle?: { fd?: number } };
  const fd = typeof s.fd === "number" ? s.fd : s._handle?.fd;
  return typeof fd === "number" && fd >= 0 ? fd : undefined;
}

const SOL_SOCKET = 1;
const SO_BINDTOIFINDEX = 62;
const INT = new Uint8Array(4);
const INT_LEN = new Uint32Array(1);

/**
 * The interface a socket is bound to (SO_BINDTOIFINDEX, Linux 5.0), undefined for none. A socket
 * accepted from a link-local address is bound to the interface the connection came in on: the
 * client's scope, which Bun's remoteAddress leaves out.
 */
export function boundInterface(socket: object): number | undefined {
  const c = settled;
  const fd = socketFd(socket);
  if (!c?.ok || fd === undefined) return undefined;
  INT_LEN[0] = 4;
  if (c.value.getsockopt(fd, SOL_SOCKET, SO_BINDTOIFINDEX, INT, INT_LEN) !== 0) return undefined;
  const index = new DataView(INT.buffer).getInt32(0, true);
  return index > 0 ? index : undefined;
}
