// The engine's vocabulary: endpoints and forwards as plain data, so that the CLI, scenario plugins and
// the status page all describe work the same way and the engine alone carries it out.

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

/** -L: listen on this machine, connect from the SSH server to the target. */
export interface LocalForward {
  kind: "local";
  /** A stable id for stats and the status page; the CLI makes one from the spec. */
  id: string;
  /** The session that carries it; the engine's first session when absent. */
  via?: string;
  bind: Endpoint;
  target: Endpoint;
}

export type ForwardSpec = LocalForward;
export type ForwardKind = ForwardSpec["kind"];

/** Where a forwarded connection came from, as the SSH server is told (direct-tcpip originator). */
export interface Origin {
  host: string;
  port: number;
}
