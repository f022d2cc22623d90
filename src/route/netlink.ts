// What the kernel questions of this directory share: libc's socket calls through bun:ffi (loaded
// once, Linux and Bun only), the netlink constants, and addresses as the kernel's structures hold
// them. The questions themselves are sock_diag (socket-owner.ts) and rtnetlink (local-route.ts):
// one request each, answered by the kernel within sendto(2).

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
export const MSG_DONTWAIT = 0x40;
export const EAGAIN = 11;
/** struct nlmsghdr: length, type, flags, sequence number, port id. */
export const NLMSG_HDRLEN = 16;

export interface Libc {
  socket(domain: number, type: number, protocol: number): number;
  sendto(fd: number, buf: Uint8Array, len: number, flags: number, addr: Uint8Array, addrLen: number): number;
  recv(fd: number, buf: Uint8Array, len: number, flags: number): number;
  close(fd: number): number;
  errno(): number;
}

let libc: Promise<Result<Libc>> | undefined;
/** What loadLibc() settled on, once it has: from then on a question needs no promise at all. */
let settled: Result<Libc> | undefined;

/** libc's calls through bun:ffi, opened once; an error saying why where there is no such thing. */
export function loadLibc(): Promise<Result<Libc>> {
  return (libc ??= (async (): Promise<Result<Libc>> => {
    if (process.platform !== "linux") return fail(new FwdError("E_CONFIG", "socket owner: sock_diag is Linux's", "on this system loopback clients are told apart by address only"));
    if (!("Bun" in globalThis)) return fail(new FwdError("E_CONFIG", "socket owner: this runtime has no bun:ffi", "the fwd binary (Bun) tells local users apart on loopback"));
    try {
      const { dlopen, FFIType: T, read } = await import("bun:ffi");
      const { symbols: s } = dlopen("libc.so.6", {
        socket: { args: [T.i32, T.i32, T.i32], returns: T.i32 },
        sendto: { args: [T.i32, T.ptr, T.u64, T.i32, T.ptr, T.u32], returns: T.i64 },
        recv: { args: [T.i32, T.ptr, T.u64, T.i32], returns: T.i64 },
        close: { args: [T.i32], returns: T.i32 },
        __errno_location: { args: [], returns: T.ptr },
      });
      return ok({
        socket: (d, t, p) => s.socket(d, t, p),
        sendto: (fd, buf, len, flags, addr, addrLen) => Number(s.sendto(fd, buf, len, flags, addr, addrLen)),
        recv: (fd, buf, len, flags) => Number(s.recv(fd, buf, len, flags)),
        close: (fd) => s.close(fd),
        errno: () => read.i32(s.__errno_location()!, 0),
      });
    } catch (e) {
      return fail(new FwdError("E_CONFIG", `socket owner: cannot call libc: ${(e as Error).message}`, "sock_diag needs fwd on Bun (the fwd binary is) on Linux with glibc", { cause: e }));
    }
  })().then((r) => (settled = r)));
}

/** libc once loadLibc() has settled; undefined before. */
export const libcNow = (): Result<Libc> | undefined => settled;

/** A non-blocking netlink socket for `protocol` (NETLINK_ROUTE, NETLINK_SOCK_DIAG, …); negative on failure. */
export const netlinkSocket = (c: Libc, protocol: number): number => c.socket(AF_NETLINK, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol);

/** struct sockaddr_nl of the kernel (port id 0), where every request goes. */
export const KERNEL = (() => {
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
