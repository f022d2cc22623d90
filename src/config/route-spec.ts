// A route forward from its parts, checked the same way for --route and for a scenario's `route`
// forward: IPv4 networks only and the SSH server excluded (the engine refuses a LAN route with no
// allow-list, whoever built it: engine/route-forward.ts).

import net from "node:net";
import { routeBind, type RouteForward } from "../vocab/forward.ts";
import { FwdError, fail, ok, type Result } from "../errors.ts";
import { isIpv4Cidr, networkOf } from "../vocab/cidr.ts";

export interface RouteParts {
  networks: string[];
  exclude: string[];
  /** The first hop's host (a name or address): its SSH connection must not be redirected into itself. */
  server: string;
  via?: string;
  lan?: { allow: string[] };
  /** No server: the SSH server's own resolver (its /etc/resolv.conf). */
  dns?: { server?: string };
}

export function routeForward(id: string, p: RouteParts): Result<RouteForward> {
  if (p.networks.length === 0) return fail(new FwdError("E_CONFIG", `${id}: no network to route`, "give one or more --route CIDR, e.g. --route 10.0.0.0/8"));
  for (const [flag, list] of [["--route", p.networks], ["--exclude", p.exclude], ["--allow", p.lan?.allow ?? []]] as const)
    for (const c of list) if (!isIpv4Cidr(c)) return fail(new FwdError("E_CONFIG", `${id}: ${flag} '${c}': expected an IPv4 address or CIDR`, `e.g. ${flag} 10.0.0.0/8 (IPv6 networks are not routed yet)`));
  if (p.dns?.server !== undefined && !net.isIPv4(p.dns.server)) return fail(new FwdError("E_CONFIG", `${id}: --dns-server '${p.dns.server}': expected an IPv4 address`, "e.g. --dns-server 10.0.0.53"));
  return ok({
    kind: "route",
    id,
    ...(p.via ? { via: p.via } : {}),
    bind: routeBind(p),
    networks: p.networks.map(networkOf),
    exclude: [...p.exclude.map(networkOf), p.server],
    ...(p.lan ? { lan: { allow: p.lan.allow.map(networkOf) } } : {}),
    ...(p.dns ? { dns: p.dns } : {}),
  });
}
