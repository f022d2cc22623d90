// browser-intranet — the seed's "configure one of your browsers to use SSH based SOCKS proxy for
// accessing remote (intranet) resources behind SSH server": a SOCKS proxy and a PAC file that sends
// only the intranet's names through it.

import { definePlugin, Hop, Listen, v, withIdentity } from "../src/index.ts";

export default definePlugin({
  name: "browser-intranet",
  summary: "a SOCKS proxy plus PAC file, so a browser reaches the intranet behind A by name",
  options: v.object({
    bastion: v.pipe(Hop, v.description("server A, on the intranet")),
    identity: v.optional(v.pipe(v.string(), v.description("an identity file for A"))),
    domains: v.pipe(v.array(v.string()), v.minLength(1, "Expected at least one name pattern, e.g. *.corp.example"), v.description("intranet names (shell patterns) sent through the tunnel; the rest goes direct")),
    listen: v.optional(v.pipe(Listen, v.description("the SOCKS and PAC port here")), "127.0.0.1:1080"),
  }),
  plan: (o) => ({
    sessions: { bastion: [withIdentity(o.bastion, o.identity)] },
    forwards: [{ kind: "dynamic", name: "socks", bind: o.listen, socks: { allow: [], pac: { domains: o.domains } } }],
  }),
  probe: async (_o, ctx) => {
    const s = await ctx.connect("socks");
    // The Host a browser sends: the PAC file is served only to requests naming the proxy itself.
    const host = s.remoteAddress?.includes(":") ? `[${s.remoteAddress}]` : s.remoteAddress;
    s.write(`GET /proxy.pac HTTP/1.1\r\nHost: ${host}:${s.remotePort}\r\n\r\n`);
    let text = "";
    await new Promise<void>((r) => {
      s.on("data", (d) => (text += d));
      s.on("close", () => r());
    });
    return /FindProxyForURL/.test(text) ? { ok: true, detail: "PAC file served" } : { ok: false, detail: "no PAC file" };
  },
  usage: (o, bound) => {
    const b = bound[0]?.bound;
    if (!b || !("port" in b)) return [];
    const pac = `http://${b.host}:${b.port}/proxy.pac`;
    return [`browser: automatic proxy configuration URL ${pac}`, `chromium --proxy-pac-url=${pac}`, `intranet names through the tunnel: ${o.domains.join(", ")}`];
  },
});
