// Client allow-lists as CIDRs (IPv4 and IPv6; IPv4-mapped IPv6 addresses match their IPv4 network).

import net from "node:net";
import { FwdError } from "../errors.ts";
import { isUnix, type Endpoint } from "./types.ts";

/** Builds a matcher; the CIDRs must have been validated (parseCidr) already. */
export function allowList(cidrs: string[]): (address: string) => boolean {
  const list = new net.BlockList();
  for (const c of cidrs) {
    const p = parseCidr(c);
    if (p) list.addSubnet(p.address, p.prefix, p.family);
  }
  return (address) => {
    const family = net.isIPv6(address) ? "ipv6" : "ipv4";
    return net.isIP(address) !== 0 && list.check(address, family);
  };
}

/** `10.0.0.0/8`, `192.168.1.7` (a /32), `fd00::/8`; undefined when it is not one. */
export function parseCidr(s: string): { address: string; prefix: number; family: "ipv4" | "ipv6" } | undefined {
  const [address = "", prefixText] = s.split("/");
  const kind = net.isIP(address);
  if (kind === 0) return undefined;
  const max = kind === 4 ? 32 : 128;
  const prefix = prefixText === undefined ? max : Number(prefixText);
  if (!/^\d+$/.test(prefixText ?? String(max)) || prefix > max) return undefined;
  return { address, prefix, family: kind === 4 ? "ipv4" : "ipv6" };
}

/** A loopback address or name: 127.0.0.0/8, ::1, an IPv4-mapped 127.x, or "localhost". */
export const isLoopbackAddress = (a: string): boolean =>
  a === "localhost" || a === "::1" || (net.isIPv4(a) && a.startsWith("127.")) || a.startsWith("::ffff:127.");

/** An endpoint only this machine can reach: a loopback address, or a unix socket. */
export const isLoopback = (e: Endpoint): boolean => isUnix(e) || isLoopbackAddress(e.host);

/** The refusal for a SOCKS proxy that anyone who can reach it could use. */
export const openProxy = (id: string, where: string, hint: string) =>
  new FwdError("E_CONFIG", `${id}: refusing to start an open SOCKS proxy ${where}: it binds beyond loopback with no allow-list and no password`, hint);
