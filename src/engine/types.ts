// The engine's vocabulary: endpoints and forwards as plain data, so that the CLI, scenario plugins and
// the status page all describe work the same way and the engine alone carries it out.

import type { OpenRule } from "./permit-open.ts";
import type { Pool } from "./pick.ts";

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

/** -L: listen on this machine, connect from the SSH server to the target. */
export interface LocalForward {
  kind: "local";
  /** A stable id for stats and the status page; the CLI makes one from the spec. */
  id: string;
  /** The session that carries it; the engine's first session when absent. */
  via?: string;
  bind: Endpoint;
  target: Endpoint;
  /** When the bind port is taken, listen on a free one instead (and say so) rather than fail. */
  orFreePort?: boolean;
  /** The target speaks FTP: passive data connections are carried through the tunnel too. */
  ftp?: boolean;
}

/** -R: the SSH server listens; its connections come back here and go to the target from this side. */
export interface RemoteForward {
  kind: "remote";
  id: string;
  via?: string;
  /** On the server. Host "" means every address (subject to the server's GatewayPorts). */
  bind: Endpoint;
  /** On this side; absent for a reverse dynamic forward (the remote port speaks SOCKS). */
  target?: Endpoint;
  socks?: SocksPolicy;
  /** Reverse SOCKS only: where it may connect (ssh_config's PermitRemoteOpen); absent means anywhere. */
  permitOpen?: readonly OpenRule[];
}

/** -D: a SOCKS proxy here whose connections leave from the SSH server. */
export interface DynamicForward {
  kind: "dynamic";
  id: string;
  /** One session, or a pool of them: each connection leaves through one the strategy picks. */
  via?: string | Pool;
  bind: TcpEndpoint;
  socks: SocksPolicy;
}

export interface SocksPolicy {
  /** Username/password (RFC 1929) the clients must give; none means no authentication. */
  auth?: { user: string; password: string };
  /** Client networks allowed in, as CIDRs; empty means any client that can reach the port. */
  allow: string[];
  /** Serve a PAC file at http://<bind>/proxy.pac; with domains, only those go through the proxy. */
  pac?: { domains: string[] };
}

/**
 * --route: TCP from this machine to whole networks, redirected by nftables to a listener here, leaves
 * from the SSH server to where it was going (no proxy settings in the programs). Linux, root.
 */
export interface RouteForward {
  kind: "route";
  id: string;
  via?: string;
  /** Where redirected connections arrive: loopback (beyond it with `lan`), port 0 for any free one. */
  bind: TcpEndpoint;
  /** IPv4 CIDRs whose TCP is carried. */
  networks: string[];
  /** Never redirected (the SSH server's own address belongs here, or its connection would loop). */
  exclude: string[];
  /** Also connections routed through this machine (it is their gateway), from these networks only. */
  lan?: { allow: string[] };
  /**
   * DNS from this machine (and the LAN) answered through the tunnel as DNS over TCP, by `server` or
   * else by the SSH server's own resolver (the first nameserver of its /etc/resolv.conf).
   */
  dns?: { server?: string };
}

export type ForwardSpec = LocalForward | RemoteForward | DynamicForward | RouteForward;
export type ForwardKind = ForwardSpec["kind"];

/** Where a forwarded connection came from, as the SSH server is told (direct-tcpip originator). */
export interface Origin {
  host: string;
  port: number;
}
