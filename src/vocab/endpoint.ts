// Addresses as every layer names them: a TCP host and port or a unix socket path, how they print, and
// which of them only this machine can reach. Plain data, so the CLI, plugins, the engine and the
// status page all describe the same thing the same way.

import net from "node:net";

/** A TCP address. `host` is a name or an IP literal (IPv6 without brackets). */
export interface TcpEndpoint {
  host: string;
  port: number;
}

/** A unix-domain socket path (on whichever side the forward names). */
export interface UnixEndpoint {
  path: string;
}

export type Endpoint = TcpEndpoint | UnixEndpoint;

export const isUnix = (e: Endpoint): e is UnixEndpoint => "path" in e;

/** `host:port`, with IPv6 literals bracketed; a unix path as it is. */
export function formatEndpoint(e: Endpoint): string {
  if (isUnix(e)) return e.path;
  return e.host.includes(":") ? `[${e.host}]:${e.port}` : `${e.host}:${e.port}`;
}

/** The address this machine reaches a listener on: a wildcard bind (every address) on loopback. */
export const reachableHost = (host: string): string => (host === "0.0.0.0" || host === "::" || host === "" ? "127.0.0.1" : host);

/** Where a forwarded connection came from, as the SSH server is told (direct-tcpip originator). */
export interface Origin {
  host: string;
  port: number;
}

/** A loopback address or name: 127.0.0.0/8, ::1, an IPv4-mapped 127.x, or "localhost". */
export const isLoopbackAddress = (a: string): boolean =>
  a === "localhost" || a === "::1" || (net.isIPv4(a) && a.startsWith("127.")) || a.startsWith("::ffff:127.");

/** An endpoint only this machine can reach: a loopback address, or a unix socket. */
export const isLoopback = (e: Endpoint): boolean => isUnix(e) || isLoopbackAddress(e.host);
