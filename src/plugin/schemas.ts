// Option schemas plugin authors share: an SSH hop, a host:port target with a default port, and a
// listen address. Each takes the short string form a user types and yields structured data.

import * as v from "valibot";
import { parseHop, parseHostPort, parseListen, type Hop as HopValue } from "../vocab/address.ts";
import type { TcpEndpoint } from "../vocab/endpoint.ts";

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
