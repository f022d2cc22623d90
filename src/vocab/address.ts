// The short address forms a user types, parsed once for every layer: an SSH destination or hop
// (`[user@]host[:port]`, as on ssh's command line, in -J and in a scenario's route), a target
// (`host[:port]` with a default port) and a listen address (`[address:]port`).

import net from "node:net";
import { FwdError, fail, ok, type Result } from "../errors.ts";
import { hostNameProblem } from "./host-name.ts";
import type { TcpEndpoint } from "./endpoint.ts";

/** An SSH server as the user named it; ssh_config fills in the rest. */
export interface Destination {
  user?: string;
  host: string;
  port?: number;
}

/** One SSH server on a route, resolved through ssh_config like a destination on the command line. */
export interface Hop extends Destination {
  /** An identity file for this hop, in addition to ssh_config's. */
  identity?: string;
}

const validPort = (s: string) => /^\d{1,5}$/.test(s) && Number(s) >= 1 && Number(s) <= 65535;

/**
 * `[user@]host[:port]`, `[user@][v6addr][:port]`, a bare IPv6 address, or `ssh://user@host:port`;
 * the user is everything before the last '@'. The reason as text when it is not one.
 */
function splitDestination(s: string): Destination | { problem: string } {
  let rest = s.startsWith("ssh://") ? s.slice(6) : s;
  let user: string | undefined;
  const at = rest.lastIndexOf("@");
  if (at >= 0) {
    user = rest.slice(0, at);
    rest = rest.slice(at + 1);
    if (!user) return { problem: "empty user name" };
  }
  let host = rest;
  let portText: string | undefined;
  const v6 = /^\[([^\]]+)\](?::(.*))?$/.exec(rest);
  if (v6) [, host = "", portText] = v6;
  else if (rest.split(":").length === 2) [host = "", portText] = rest.split(":");
  else if (rest.includes(":") && !net.isIPv6(rest)) return { problem: "put an IPv6 address in [brackets] to give it a port" };
  if (!host) return { problem: "empty host name" };
  const bad = hostNameProblem(host);
  if (bad) return { problem: bad };
  if (portText !== undefined && !validPort(portText)) return { problem: `port must be 1-65535, got '${portText}'` };
  return { ...(user ? { user } : {}), host, ...(portText !== undefined ? { port: Number(portText) } : {}) };
}

/** The destination argument of the command line, and each host of -J. */
export function parseDestination(s: string): Result<Destination> {
  const d = splitDestination(s);
  if ("problem" in d) return fail(new FwdError("E_CONFIG", `destination '${s}': ${d.problem}`, "write it as [user@]host[:port], e.g. deploy@a.example.com:2222"));
  return ok(d);
}

/** A hop of a scenario's route: the same forms as a destination; undefined when it is not one. */
export function parseHop(s: string): Hop | undefined {
  const d = splitDestination(s);
  return "problem" in d ? undefined : d;
}

/** `host[:port]` (IPv6 in brackets), the port defaulting to `defaultPort`; undefined when it is not one. */
export function parseHostPort(s: string, defaultPort: number): TcpEndpoint | undefined {
  const hp = splitHostPort(s, defaultPort);
  return hp && hostNameProblem(hp.host) === undefined ? hp : undefined;
}

function splitHostPort(s: string, defaultPort: number): TcpEndpoint | undefined {
  const v6 = /^\[([0-9a-fA-F:.]+)\](?::(\d+))?$/.exec(s);
  if (v6) return v6[2] === undefined ? { host: v6[1]!, port: defaultPort } : validPort(v6[2]) ? { host: v6[1]!, port: Number(v6[2]) } : undefined;
  const parts = s.split(":");
  if (parts.length > 2 || !/^[A-Za-z0-9._-]+$/.test(parts[0] ?? "")) return undefined;
  if (parts.length === 1) return { host: parts[0]!, port: defaultPort };
  return validPort(parts[1]!) ? { host: parts[0]!, port: Number(parts[1]) } : undefined;
}

/** `[address:]port` to listen on; the address defaults to 127.0.0.1, `*` is every address, port 0 any free one. */
export function parseListen(s: string): TcpEndpoint | undefined {
  const m = /^(?:(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9._-]+|\*):)?(\d{1,5})$/.exec(s);
  if (!m || Number(m[2]) > 65535) return undefined;
  const host = m[1] === undefined ? "127.0.0.1" : m[1] === "*" ? "0.0.0.0" : m[1].replace(/^\[|\]$/g, "");
  return { host, port: Number(m[2]) };
}
