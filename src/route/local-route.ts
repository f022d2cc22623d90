// Whether an address is delivered here, in this network namespace, as the kernel decides it: one
// rtnetlink RTM_GETROUTE request with RTM_F_FIB_MATCH for the address (what `ip route get fibmatch
// ADDR` asks), answered within sendto(2). The route it matches is of type RTN_LOCAL (or an IPv6
// anycast, or a broadcast) for every such address: an interface's, an alias with a label (eth0:1),
// one on an interface without carrier, any address of an AnyIP range (`ip route add local
// 10.0.0.0/8 dev lo`). Its output interface is the one the local route is on. The interface list
// (getifaddrs) is no substitute: it names an alias by its label, which has no interface index of
// its own; under Bun and Node it leaves out interfaces without carrier; and it cannot know AnyIP
// ranges. Linux and Bun only (libc through bun:ffi, netlink.ts).

import { networkInterfaces } from "node:os";
import { FwdError, fail, ok, type Result } from "../errors.ts";
import { AF_INET, AF_INET6, addressBytes, libcNow, NetlinkChannel, unavailable, NLM_F_REQUEST, NLMSG_ERROR, NLMSG_HDRLEN, type Libc } from "./netlink.ts";

/** <linux/rtnetlink.h>. */
const NETLINK_ROUTE = 0;
const RTM_NEWROUTE = 24;
const RTM_GETROUTE = 26;
const RTM_F_FIB_MATCH = 0x2000;
/** Route types the kernel delivers here: an address of its own, a broadcast, an IPv6 subnet-router anycast. */
const RTN_LOCAL = 2;
const RTN_BROADCAST = 3;
const RTN_ANYCAST = 4;
const RTA_DST = 1;
const RTA_OIF = 4;
/** struct rtmsg: family, dst_len, src_len, tos, table, protocol, scope, type (1 byte each), flags (4). */
const RTMSG_LEN = 12;
const RTM_TYPE = 7;

export interface LocalRoute {
  /** The kernel delivers traffic for the address here. */
  local: boolean;
  /** The interface of the route it matched (for a local address, the one that holds it; lo for AnyIP). */
  ifindex?: number;
}

const HINT = "clients on this machine's own addresses are told apart by address only";

/**
 * Asks the kernel about `address` (dotted IPv4, IPv6 or IPv4-mapped IPv6), as reached through
 * interface `oif` when given: a link-local address means something only with its scope, and this
 * machine's fe80::1 on one interface is not a peer's fe80::1 on another (a review saw a remote client
 * taken for a local one, and ended as gone). No promise: libc must have been loaded (loadLibc, as
 * prepareSocketOwner does) and the kernel answers within the call; an error where it cannot be
 * asked, or does not answer at once.
 */
export function localRoute(address: string, oif?: number): Result<LocalRoute> {
  const c = libcNow();
  if (c === undefined) return fail(new FwdError("E_CONFIG", "local route: libc is not loaded yet", HINT));
  if (!c.ok) return fail(unavailable("local route", c.error));
  const bytes = addressBytes(address);
  if (!bytes) return fail(new FwdError("E_CONFIG", `local route: ${address} is not an IP address`, HINT));
  try {
    return ask(c.value, bytes, oif);
  } catch (e) {
    // Not expected (the calls return codes); still, the accept path must never see a throw.
    return fail(new FwdError("E_CONFIG", `local route: ${(e as Error).message}`, HINT, { cause: e }));
  }
}

/**
 * Whether traffic for `address` is delivered here (this machine's own addresses, and its anycast and
 * broadcast ones): the kernel's routing where it can be asked (localRoute), else the interface list,
 * which under Bun and Node leaves out addresses on an interface without carrier and knows nothing of
 * AnyIP ranges; false where neither answers (getifaddrs fails too when descriptors run out).
 */
export function isOwnAddress(address: string): boolean {
  const r = localRoute(address);
  if (r.ok) return r.value.local;
  const bare = address.replace(/^::ffff:/i, "");
  try {
    return Object.values(networkInterfaces()).some((list) => list?.some((i) => i.address === bare));
  } catch {
    return false;
  }
}

/** The rtnetlink socket kept between questions (see NetlinkChannel). */
const routes = new NetlinkChannel(NETLINK_ROUTE);
const REQUEST = new Uint8Array(NLMSG_HDRLEN + RTMSG_LEN + 4 + 16 + 8);
const REQUEST_VIEW = new DataView(REQUEST.buffer);
/** An answer is one route: rtmsg and a few attributes (table, dst, oif, prefsrc, cache info …). */
const ANSWER = new Uint8Array(1024);

function ask(c: Libc, addr: number[], oif: number | undefined): Result<LocalRoute> {
  const seq = routes.next();
  const dstEnd = NLMSG_HDRLEN + RTMSG_LEN + 4 + addr.length; // a multiple of 4 for both families
  const len = dstEnd + (oif === undefined ? 0 : 8);
  const req = REQUEST.fill(0).subarray(0, len);
  const v = REQUEST_VIEW;
  v.setUint32(0, len, true);
  v.setUint16(4, RTM_GETROUTE, true);
  v.setUint16(6, NLM_F_REQUEST, true);
  v.setUint32(8, seq, true);
  REQUEST[16] = addr.length === 4 ? AF_INET : AF_INET6;
  REQUEST[17] = addr.length * 8; // rtm_dst_len: this one address
  v.setUint32(16 + 8, RTM_F_FIB_MATCH, true);
  v.setUint16(28, 4 + addr.length, true); // struct rtattr: length, type, then the address
  v.setUint16(30, RTA_DST, true);
  REQUEST.set(addr, 32);
  if (oif !== undefined) {
    v.setUint16(dstEnd, 8, true);
    v.setUint16(dstEnd + 2, RTA_OIF, true);
    v.setUint32(dstEnd + 4, oif, true);
  }
  const a = routes.ask(c, req, seq, ANSWER);
  if ("late" in a) {
    // Never seen (rtnetlink answers within the call); the gate cannot wait, so it is a failure.
    c.close(a.late);
    return fail(new FwdError("E_CONFIG", "local route: the kernel did not answer at once", HINT));
  }
  if ("failed" in a) return fail(new FwdError("E_CONFIG", `local route: ${a.failed}: errno ${a.errno}`, HINT));
  if ("stray" in a) return fail(new FwdError("E_CONFIG", "local route: an answer to another request", HINT));
  return parse(ANSWER.subarray(0, a.n));
}

function parse(a: Uint8Array): Result<LocalRoute> {
  const v = new DataView(a.buffer, a.byteOffset, a.byteLength);
  const type = v.getUint16(4, true);
  if (type === NLMSG_ERROR && a.length >= NLMSG_HDRLEN + 4) {
    // No route at all, or one that refuses (unreachable, prohibit, blackhole): not delivered here.
    // Any other error (no memory, no buffers) is no answer.
    const errno = -v.getInt32(NLMSG_HDRLEN, true);
    return NO_ROUTE.has(errno) ? ok({ local: false }) : fail(new FwdError("E_CONFIG", `local route: RTM_GETROUTE: errno ${errno}`, HINT));
  }
  if (type !== RTM_NEWROUTE || a.length < NLMSG_HDRLEN + RTMSG_LEN) return fail(unexpected(type, a.length));
  // Any route the kernel delivers on, not RTN_LOCAL only: with IPv6 forwarding on, every prefix gets a
  // subnet-router anycast address (fd00:1::), which any user may bind with IPV6_FREEBIND and
  // connect from (an attack review took a second quota so).
  const kind = a[NLMSG_HDRLEN + RTM_TYPE];
  if (kind !== RTN_LOCAL && kind !== RTN_ANYCAST && kind !== RTN_BROADCAST) return ok({ local: false });
  const end = Math.min(a.length, v.getUint32(0, true));
  for (let at = NLMSG_HDRLEN + RTMSG_LEN; at + 4 <= end; ) {
    const len = v.getUint16(at, true);
    if (len < 4 || at + len > end) break;
    if (v.getUint16(at + 2, true) === RTA_OIF && len >= 8) return ok({ local: true, ifindex: v.getUint32(at + 4, true) });
    at += (len + 3) & ~3;
  }
  return ok({ local: true });
}

/** The errors a route lookup gives for an address that has no route, or a refusing one: EPERM, EACCES, EINVAL, ENETDOWN, ENETUNREACH, EHOSTUNREACH. */
const NO_ROUTE = new Set([1, 13, 22, 100, 101, 113]);

const unexpected = (type: number, n: number) => new FwdError("E_CONFIG", `local route: an unexpected answer (type ${type}, ${n} bytes)`, HINT);
