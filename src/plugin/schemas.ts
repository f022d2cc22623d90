// Option schemas plugin authors share: an SSH hop, a host:port target with a default port, and a
// listen address. Each takes the short string form a user types and yields structured data.

import * as v from "valibot";
import { hostNameProblem } from "../engine/host-name.ts";
import type { TcpEndpoint } from "../engine/types.ts";
import type { Hop as HopValue } from "./types.ts";

const PORT = /^\d{1,5}$/;
const validPort = (s: string) => PORT.test(s) && Number(s) >= 1 && Number(s) <= 65535;

/** `[user@]host[:port]` (IPv6 in brackets), e.g. `deploy@bastion.example.com:2222`. */
export const Hop = v.pipe(
  v.string(),
  v.check((s) => parseHop(s) !== undefined, (i) => `Expected [user@]host[:port] but received ${i.received}`),
  v.transform((s): HopValue => parseHop(s)!),
);

/** `host[:port]`, the port defaulting to `defaultPort`: `db.internal` or `db.internal:3307`. */
export const Target = (defaultPort: number) =>
  v.pipe(
    v.string(),
    v.check((s) => parseHostPort(s, defaultPort) !== undefined, (i) => `Expected host[:port] but received ${i.received}`),
    v.transform((s): TcpEndpoint => parseHostPort(s, defaultPort)!),
  );

/** `[address:]port` to listen on; the address defaults to 127.0.0.1, port 0 picks a free one. */
export const Listen = v.pipe(
  v.string(),
  v.check((s) => parseListen(s) !== undefined, (i) => `Expected [address:]port (0-65535) but received ${i.received}`),
  v.transform((s): TcpEndpoint => parseListen(s)!),
);

export function parseHop(s: string): HopValue | undefined {
  const at = s.lastIndexOf("@");
  const user = at >= 0 ? s.slice(0, at) : undefined;
  if (user === "") return undefined;
  const hp = parseHostPort(s.slice(at + 1), 0);
  if (!hp) return undefined;
  return { ...(user ? { user } : {}), host: hp.host, ...(hp.port ? { port: hp.port } : {}) };
}

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

export function parseListen(s: string): TcpEndpoint | undefined {
  const m = /^(?:(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9._-]+|\*):)?(\d{1,5})$/.exec(s);
  if (!m || Number(m[2]) > 65535) return undefined;
  const host = m[1] === undefined ? "127.0.0.1" : m[1] === "*" ? "0.0.0.0" : m[1].replace(/^\[|\]$/g, "");
  return { host, port: Number(m[2]) };
}

/**
 * A plain-HTTP URL, `http://host[:port][/path]`, into its parts (port 80 by default); with
 * `schemeOptional`, a bare `host[:port][/path]` too.
 */
export function parseHttpUrl(s: string, opts: { schemeOptional?: boolean } = {}): { host: string; port: number; path: string } | undefined {
  const m = (opts.schemeOptional ? /^(?:http:\/\/)?([^/]+)(\/.*)?$/ : /^http:\/\/([^/]+)(\/.*)?$/).exec(s);
  const hp = m ? parseHostPort(m[1]!, 80) : undefined;
  return hp ? { ...hp, path: m![2] ?? "/" } : undefined;
}

/** A hop with an extra identity file, when one was given (the common `bastion` + `identity` options). */
export const withIdentity = (hop: HopValue, identity: string | undefined): HopValue => (identity ? { ...hop, identity } : hop);
