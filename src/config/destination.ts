// The destination argument: `[user@]host[:port]`, `[user@][v6addr]:port`, or `ssh://user@host:port`.

import { FwdError, fail, ok, type Result } from "../errors.ts";

export interface Destination {
  user?: string;
  host: string;
  port?: number;
}

export function parseDestination(s: string): Result<Destination> {
  const bad = (why: string) =>
    fail<Destination>(new FwdError("E_CONFIG", `destination '${s}': ${why}`, "write it as [user@]host[:port], e.g. deploy@a.example.com:2222"));
  let rest = s.startsWith("ssh://") ? s.slice(6) : s;
  let user: string | undefined;
  const at = rest.lastIndexOf("@");
  if (at >= 0) {
    user = rest.slice(0, at);
    rest = rest.slice(at + 1);
    if (!user) return bad("empty user name");
  }
  let host = rest;
  let portText: string | undefined;
  const v6 = /^\[([^\]]+)\](?::(.*))?$/.exec(rest);
  if (v6) {
    host = v6[1]!;
    portText = v6[2];
  } else if (rest.split(":").length === 2) {
    [host, portText] = rest.split(":") as [string, string];
  }
  if (!host) return bad("empty host name");
  if (portText === undefined) return ok({ host, ...(user ? { user } : {}) });
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port < 1 || port > 65535) return bad(`port must be 1-65535, got '${portText}'`);
  return ok({ host, port, ...(user ? { user } : {}) });
}
