// lan-egress — the seed's "allow your SSH client and other systems on your LAN to access Internet
// using your remote SSH server's public IP": a SOCKS proxy for the LAN, leaving through A. It
// cannot start without an allow-list: it is never an open proxy.

import { allowList, definePlugin, Hop, Listen, parseCidr, reachableHost, socks5Hello, v, withIdentity } from "../src/index.ts";

export default definePlugin({
  name: "lan-egress",
  summary: "a SOCKS proxy for the LAN whose connections leave from server A's address",
  options: v.object({
    server: v.pipe(Hop, v.description("server A, whose public address the LAN will use")),
    identity: v.optional(v.pipe(v.string(), v.description("an identity file for A"))),
    allow: v.pipe(
      v.array(v.pipe(v.string(), v.check((c) => parseCidr(c) !== undefined, "Expected an address or CIDR"))),
      v.minLength(1, "Expected at least one network: a LAN proxy without an allow-list would be an open proxy"),
      v.description("the LAN networks that may use it, e.g. 192.168.1.0/24"),
    ),
    listen: v.optional(v.pipe(Listen, v.description("where the LAN reaches it")), "*:1080"),
    lan_address: v.optional(v.pipe(v.string(), v.description("this machine's address on the LAN, for the printed settings"))),
  }),
  plan: (o) => ({
    sessions: { server: [withIdentity(o.server, o.identity)] },
    forwards: [{ kind: "dynamic", name: "socks", bind: o.listen, socks: { allow: o.allow } }],
  }),
  // The probe connects from this machine, to the address the proxy listens on (loopback for a
  // wildcard), which is then also its source: when the allow-list leaves that address out (a
  // LAN-only list, the usual case) the proxy rightly refuses the probe, so there is nothing to ask.
  probe: async (o, ctx) => {
    const b = ctx.bound.find((x) => x.name === "socks")?.bound;
    const from = b && "host" in b ? reachableHost(b.host) : "127.0.0.1";
    if (!allowList(o.allow)(from))
      return { ok: true, detail: `SOCKS5 not checked: ${from} is outside the allow-list (${o.allow.join(", ")}), so this machine may not use the proxy itself` };
    return socks5Hello(await ctx.connect("socks"));
  },
  usage: (o, bound) => {
    const b = bound[0]?.bound;
    if (!b || !("port" in b)) return [];
    const at = `${o.lan_address ?? (b.host === "0.0.0.0" ? "<this machine's LAN address>" : b.host)}:${b.port}`;
    return [
      `browsers: SOCKS v5 proxy ${at}, with "proxy DNS through SOCKS" on`,
      `curl:     curl --socks5-hostname ${at} https://example.com/   (or ALL_PROXY=socks5h://${at})`,
      `git:      git config --global http.proxy socks5h://${at}`,
      `npm:      npm speaks only HTTP proxies; use a browser or curl/git, or an HTTP proxy in front`,
      `allowed:  ${o.allow.join(", ")}`,
    ];
  },
});
