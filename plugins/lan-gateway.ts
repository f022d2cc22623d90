// lan-gateway — the seed's "other systems on your LAN", without proxy settings: this machine becomes
// the LAN's gateway to the server's networks. TCP from the allowed LAN machines to those networks is
// redirected by nftables (a `route` forward with `lan`) and leaves from server A. Linux, root, nft.
// Nothing is carried by default: the networks are named, and so are the LAN machines (no open relay).

import net from "node:net";
import { networkInterfaces } from "node:os";
import type { Duplex } from "node:stream";
import type { ProbeContext, ProbeResult } from "../src/index.ts";
import { allowList, definePlugin, Hop, httpTitle, isIpv4Cidr, networkOf, parseHttpUrl, v, withIdentity } from "../src/index.ts";

/** The probe's own connection is made locally (redirected at once), so a few seconds is plenty. */
const DIAL_MS = 5_000;

const cidrs = (what: string, empty: string) =>
  v.pipe(v.array(v.pipe(v.string(), v.check(isIpv4Cidr, "Expected an IPv4 address or CIDR, e.g. 10.0.0.0/8"))), v.minLength(1, empty), v.description(what));

/** Whether a connection to `host` is carried: in the networks, and neither excluded nor on the LAN. */
const carried = (o: { networks: string[]; exclude: string[]; allow: string[] }) => {
  const inNetworks = allowList(o.networks);
  const kept = allowList([...o.exclude, ...o.allow]);
  return (host: string) => inNetworks(host) && !kept(host);
};

/** Two CIDRs overlap when one holds the other's network address. */
const overlaps = (a: string, b: string) => allowList([a])(networkOf(b).split("/")[0]!) || allowList([b])(networkOf(a).split("/")[0]!);

/** This machine's IPv4 addresses on the subnets the allowed LAN machines are on: their gateway. */
function lanAddresses(allow: string[]): string[] {
  const found = Object.values(networkInterfaces()).flatMap((list) => list ?? []);
  return found.filter((i) => i.family === "IPv4" && !i.internal && i.cidr && allow.some((c) => overlaps(c, i.cidr!))).map((i) => i.address);
}

/** ctx.dial with a deadline: a check URL outside the redirect could otherwise wait out TCP's own. */
async function dialWithin(ctx: ProbeContext, host: string, port: number): Promise<Duplex | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const pending = ctx.dial({ host, port });
  const late = new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), DIAL_MS)));
  try {
    const s = await Promise.race([pending, late]);
    // One that connects after the deadline is closed as it arrives.
    if (!s) pending.then((x) => x.destroy(), () => {});
    return s;
  } finally {
    clearTimeout(timer);
  }
}

export default definePlugin({
  name: "lan-gateway",
  summary: "this machine as the LAN's gateway to server A's networks: TCP (and DNS) through the tunnel, no proxy settings",
  options: v.object({
    server: v.pipe(Hop, v.description("server A, whose networks the LAN will reach (its own address is never redirected)")),
    identity: v.optional(v.pipe(v.string(), v.description("an identity file for A"))),
    networks: cidrs("the IPv4 networks whose TCP goes through A, e.g. 10.0.0.0/8 (0.0.0.0/0 for all of it)", "Expected at least one network to carry, e.g. 10.0.0.0/8: nothing is routed by default"),
    allow: cidrs("the LAN networks whose machines may use this one as their gateway, e.g. 192.168.1.0/24", "Expected at least one network: a gateway without an allow-list would carry anyone's traffic"),
    exclude: v.optional(v.pipe(v.array(v.pipe(v.string(), v.check(isIpv4Cidr, "Expected an IPv4 address or CIDR"))), v.description("networks inside those that stay direct (the LAN's own are never carried)")), []),
    dns: v.optional(v.pipe(v.boolean(), v.description("answer DNS through the tunnel, by A's resolver: intranet names resolve, nothing leaks to the LAN's")), false),
    dns_server: v.optional(v.pipe(v.string(), v.check((s) => net.isIPv4(s), "Expected an IPv4 address"), v.description("with dns, the resolver to ask as A sees it (default: A's own)"))),
    lan_address: v.optional(v.pipe(v.string(), v.description("this machine's address on the LAN, for the printed settings (default: found from its interfaces)"))),
    check: v.optional(
      v.pipe(
        v.string(),
        v.check((s) => parseHttpUrl(s) !== undefined, (i) => `Expected http://host[:port][/path] but received ${i.received}`),
        v.description("a web page in the networks that the probe fetches through the redirect, as a LAN machine would"),
      ),
    ),
  }),
  plan: (o) => ({
    sessions: { server: [withIdentity(o.server, o.identity)] },
    forwards: [
      {
        kind: "route",
        name: "gateway",
        networks: o.networks,
        // Traffic within the LAN stays on it, and this machine's own to the LAN too (0.0.0.0/0 holds both).
        exclude: [...o.exclude, ...o.allow],
        lan: { allow: o.allow },
        ...(o.dns ? { dns: o.dns_server ? { server: o.dns_server } : {} } : {}),
      },
    ],
  }),
  // The engine has connected and written the rules when this runs; without a page to fetch there is
  // nothing further to ask. With one, it is fetched from this machine through the same redirect.
  probe: async (o, ctx): Promise<ProbeResult> => {
    const url = o.check === undefined ? undefined : parseHttpUrl(o.check);
    if (!url) return { ok: true, detail: `the rules are in; nothing fetched (give check = "http://host/" in ${o.networks.join(", ")} to test a page through the tunnel)` };
    if (net.isIPv4(url.host) && !carried(o)(url.host)) return { ok: false, detail: `${url.host} is not carried (outside the networks, or excluded): the check would not go through the tunnel` };
    const s = await dialWithin(ctx, url.host, url.port);
    if (!s) return { ok: false, detail: `${url.host}:${url.port}: no connection within ${DIAL_MS / 1000}s` };
    return httpTitle(s, url.port === 80 ? url.host : `${url.host}:${url.port}`, url.path);
  },
  usage: (o) => {
    const found = o.lan_address ? [o.lan_address] : lanAddresses(o.allow);
    const gateway = found.length > 0 ? found.join(" or ") : "<this machine's LAN address>";
    const except = o.exclude.length > 0 ? ` except ${o.exclude.join(", ")}` : "";
    return [
      `LAN machines in ${o.allow.join(", ")}: default gateway ${gateway}${o.dns ? `, DNS server ${gateway}` : ""}`,
      `  (or keep their own default route: ${o.networks.map((n) => `ip route add ${networkOf(n)} via ${found[0] ?? "<this machine>"}`).join("; ")})`,
      `carried:  TCP to ${o.networks.join(", ")}${except}, connecting from ${o.server.host}`,
      o.dns
        ? `DNS:      answered through the tunnel by ${o.dns_server ?? `${o.server.host}'s resolver`}`
        : "DNS:      not carried: names resolve as before on the LAN (dns = true for names only the server knows)",
      "the rest (UDP, other networks) this machine routes as it would without fwd, not through the tunnel",
    ];
  },
});
