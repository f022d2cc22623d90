// Where a redirected connection was going: SO_ORIGINAL_DST, read from the kernel's connection tracking
// with getsockopt(2) through Bun's FFI (node:net has no such call). Linux and Bun only; loaded on
// first use, so nothing else pays for the FFI or breaks where it is absent.

import type net from "node:net";
/** An IPv4 address and port, as the engine's TcpEndpoint is (this adapter imports nothing of the engine). */
type TcpEndpoint = { host: string; port: number };
import { FwdError, fail, ok, type Result } from "../errors.ts";
import { socketFd } from "./netlink.ts";

/** <linux/netfilter_ipv4.h>: SO_ORIGINAL_DST at level SOL_IP. */
const SOL_IP = 0;
const SO_ORIGINAL_DST = 80;

type GetSockOpt = (fd: number, level: number, name: number, value: Uint8Array, length: Uint32Array) => number;
let getsockopt: GetSockOpt | undefined;

/** Loads libc's getsockopt once; an error that says why when this runtime or system has none. */
export async function loadOriginalDst(what: string): Promise<Result<void>> {
  if (getsockopt) return ok(undefined);
  if (process.platform !== "linux") return fail(new FwdError("E_CONFIG", `${what} works on Linux only (nftables and SO_ORIGINAL_DST)`, "use -D, a SOCKS proxy, on this system"));
  try {
    const { dlopen, FFIType } = await import("bun:ffi");
    const libc = dlopen("libc.so.6", { getsockopt: { args: [FFIType.i32, FFIType.i32, FFIType.i32, FFIType.ptr, FFIType.ptr], returns: FFIType.i32 } });
    getsockopt = libc.symbols.getsockopt as unknown as GetSockOpt;
    return ok(undefined);
  } catch (e) {
    return fail(new FwdError("E_CONFIG", `${what}: cannot call getsockopt: ${(e as Error).message}`, "--route needs fwd on Bun (the fwd binary is) on Linux with glibc", { cause: e }));
  }
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
