// Where a redirected connection was going: SO_ORIGINAL_DST, read from the kernel's connection tracking
// with getsockopt(2) through Bun's FFI (node:net has no such call; libc as netlink.ts loads it). Linux
// and Bun only; loaded on first use, so nothing else pays for the FFI or breaks where it is absent.

import type net from "node:net";
/** An IPv4 address and port, as the engine's TcpEndpoint is (this adapter imports nothing of the engine). */
type TcpEndpoint = { host: string; port: number };
import { FwdError, fail, ok, type Result } from "../errors.ts";
import { loadLibc, socketFd, type Libc } from "./netlink.ts";

/** <linux/netfilter_ipv4.h>: SO_ORIGINAL_DST at level SOL_IP. */
const SOL_IP = 0;
const SO_ORIGINAL_DST = 80;

let getsockopt: Libc["getsockopt"] | undefined;

/** Loads libc (netlink.ts) once; an error that says why when this runtime or system has none. */
export async function loadOriginalDst(what: string): Promise<Result<void>> {
  if (getsockopt) return ok(undefined);
  if (process.platform !== "linux") return fail(new FwdError("E_CONFIG", `${what} works on Linux only (nftables and SO_ORIGINAL_DST)`, "use -D, a SOCKS proxy, on this system"));
  const c = await loadLibc();
  if (!c.ok) return fail(new FwdError("E_CONFIG", `${what}: cannot call getsockopt: ${c.error.message}`, "--route needs fwd on Bun (the fwd binary is) on Linux with glibc", { cause: c.error }));
  getsockopt = c.value.getsockopt;
  return ok(undefined);
}

/** The destination the connection had before nftables redirected it; undefined when it has none. */
export function originalDst(socket: net.Socket): TcpEndpoint | undefined {
  const fd = socketFd(socket);
  if (!getsockopt || fd === undefined) return undefined;
  const addr = new Uint8Array(16); // struct sockaddr_in
  const length = new Uint32Array([addr.length]);
  if (getsockopt(fd, SOL_IP, SO_ORIGINAL_DST, addr, length) !== 0) return undefined;
  const view = new DataView(addr.buffer);
  if (view.getUint16(0, true) !== 2) return undefined; // AF_INET
  return { host: `${addr[4]}.${addr[5]}.${addr[6]}.${addr[7]}`, port: view.getUint16(2, false) };
}
