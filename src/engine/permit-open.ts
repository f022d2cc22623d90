// ssh_config's PermitRemoteOpen: where a reverse SOCKS forward (-R port, no target) may connect to.
// Matched as OpenSSH's open_match() in channels.c does it: the host exactly as the SOCKS client named
// it (no lookups, no patterns) or `*`, and the port exactly or `*`.

import { isIPv6 } from "node:net";
import type { TcpEndpoint } from "../vocab/endpoint.ts";
import type { PermitOpen } from "../vocab/forward.ts";

export function permitsOpen(rules: PermitOpen, target: TcpEndpoint): boolean {
  if (rules === undefined) return true;
  const host = canonical(target.host);
  return rules.some((r) => (r.port === "*" || r.port === target.port) && (r.host === "*" || canonical(r.host) === host));
}

// OpenSSH compares the text inet_ntop made of a SOCKS5 IPv6 address (`::1`); fwd's SOCKS reader writes
// every group (`0:0:0:0:0:0:0:1`), so IPv6 literals on both sides are brought to the compressed form.
const canonical = (host: string): string => (isIPv6(host) ? new URL(`http://[${host}]/`).hostname.slice(1, -1) : host);

/** The rules as ssh_config writes them, for messages: `none`, or `host:port …`. */
export function formatPermitOpen(rules: PermitOpen): string {
  if (rules === undefined) return "any";
  if (rules.length === 0) return "none";
  return rules.map((r) => `${r.host.includes(":") ? `[${r.host}]` : r.host}:${r.port}`).join(" ");
}
