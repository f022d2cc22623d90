// Forwards as plain data: what the CLI parses from -L/-R/-D/--route, what a plugin's plan names, what
// the engine carries out and the status page shows. The engine's kind table (engine/kinds.ts) has a
// row for each kind here.

import type { Endpoint, TcpEndpoint } from "./endpoint.ts";

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
  /** Where redirected connections arrive; absent: routeBind's default (loopback, every address with `lan`). */
  bind?: TcpEndpoint;
  /** IPv4 CIDRs whose TCP is carried. */
  networks: string[];
  /** Never redirected: CIDRs or host names (the SSH server's own address belongs here, or its connection would loop). */
  exclude?: string[];
  /** Also connections routed through this machine (it is their gateway), from these networks only. */
  lan?: { allow: string[] };
  /**
   * DNS from this machine (and the LAN) answered through the tunnel as DNS over TCP, by `server` or
   * else by the SSH server's own resolver (the first nameserver of its /etc/resolv.conf).
   */
  dns?: { server?: string };
}

/**
 * -X/-Y: the X11 connections the SSH server opens back (for a command run with X11 forwarding) go to
 * the local display, the fake cookie the server was given swapped for the real one, so the real
 * cookie never leaves this machine.
 */
export interface X11Forward {
  kind: "x11";
  id: string;
  via?: string;
  /** The local X server: its unix socket, or host:6000+N. */
  target: Endpoint;
  /** The authorization protocol both cookies belong to: MIT-MAGIC-COOKIE-1. */
  protocol: string;
  /** Hex. What the server was given (the X client must present it), and what the display wants. */
  fakeCookie: string;
  realCookie: string;
}

/**
 * Where a route listens: as given, or a free port on loopback — on every address with `lan`, because
 * redirected LAN traffic arrives on the LAN side's own address.
 */
export const routeBind = (f: Pick<RouteForward, "bind" | "lan">): TcpEndpoint => f.bind ?? { host: f.lan ? "0.0.0.0" : "127.0.0.1", port: 0 };

export type ForwardSpec = LocalForward | RemoteForward | DynamicForward | RouteForward | X11Forward;
export type ForwardKind = ForwardSpec["kind"];
/** Every kind but X11, which listens nowhere (it rides on a command's session): what -L/-R/-D/--route and plans make. */
export type ListeningForward = Exclude<ForwardSpec, X11Forward>;

export type PickStrategy = "round-robin" | "random" | "sticky" | "per-client" | "least-connections";

/** Several sessions behind one forward (egress rotation): each connection leaves through one. */
export interface Pool {
  /** Session names, in the order the plan gave them. */
  pool: string[];
  pick: PickStrategy;
  /** Keep one exit active and move to the next on this timer (overrides `pick`). */
  rotateEveryMs?: number;
}

/** One destination PermitRemoteOpen allows; "*" for any host or any port. */
export interface OpenRule {
  host: string;
  port: number | "*";
}

/** Undefined: any destination (PermitRemoteOpen any, the default). An empty list: none. */
export type PermitOpen = readonly OpenRule[] | undefined;
