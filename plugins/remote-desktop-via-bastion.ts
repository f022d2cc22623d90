// remote-desktop-via-bastion — the seed's "Remote Desktop access: connecting to server A or B's RDP
// (3389/tcp) or VNC (5900/tcp and higher)": the desktop on a local port, through A.

import { definePlugin, Hop, Listen, parseHostPort, rdpConfirm, v, vncBanner, withIdentity } from "../src/index.ts";

export default definePlugin({
  name: "remote-desktop-via-bastion",
  summary: "an RDP or VNC desktop on A or behind it, on a local port",
  options: v.object({
    bastion: v.pipe(Hop, v.description("server A: [user@]host[:port] or an ssh_config alias")),
    identity: v.optional(v.pipe(v.string(), v.description("an identity file for A"))),
    desktop: v.pipe(v.string(), v.check((s) => parseHostPort(s, 1) !== undefined, "Expected host[:port]"), v.description("the desktop as A sees it: host[:port] (localhost for A itself)")),
    vnc: v.optional(v.pipe(v.boolean(), v.description("VNC (default port 5900) instead of RDP (3389)")), false),
    listen: v.optional(v.pipe(Listen, v.description("the local address; default 127.0.0.1 and the protocol's port, or a free one"))),
  }),
  plan: (o) => {
    const port = o.vnc ? 5900 : 3389;
    return {
      sessions: { bastion: [withIdentity(o.bastion, o.identity)] },
      forwards: [{ kind: "local", name: "desktop", bind: o.listen ?? { host: "127.0.0.1", port }, orFreePort: o.listen === undefined, target: parseHostPort(o.desktop, port)! }],
    };
  },
  probe: async (o, ctx) => (o.vnc ? vncBanner(await ctx.connect("desktop")) : rdpConfirm(await ctx.connect("desktop"))),
  usage: (o, bound) => {
    const b = bound[0]?.bound;
    return b && "port" in b ? [`point your ${o.vnc ? "VNC viewer" : "RDP client"} at ${b.host}:${b.port}`] : [];
  },
});
