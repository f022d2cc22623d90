// rdp-home — the seed's "allow RDP/VNC access to your home system": fwd runs at home and keeps a
// remote forward open on server A, so the home desktop is reachable through A from anywhere.

import { definePlugin, Hop, parseHostPort, rdpConfirm, v, vncBanner, withIdentity } from "../src/index.ts";

const LOOPBACK = new Set(["localhost", "127.0.0.1", "::1"]);

export default definePlugin({
  name: "rdp-home",
  summary: "keeps your home desktop (RDP or VNC) reachable through a server A, from anywhere",
  options: v.object({
    server: v.pipe(Hop, v.description("server A: [user@]host[:port] or an ssh_config alias")),
    identity: v.optional(v.pipe(v.string(), v.description("an identity file for A"))),
    vnc: v.optional(v.pipe(v.boolean(), v.description("the desktop speaks VNC (default port 5900) instead of RDP (3389)")), false),
    desktop: v.optional(
      v.pipe(v.string(), v.check((s) => parseHostPort(s, 1) !== undefined, "Expected host[:port]"), v.description("the desktop as seen from home; default 127.0.0.1 and the protocol's port")),
    ),
    remote_port: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(65535), v.description("the port on A; 0 lets A pick (printed); default the protocol's port"))),
    remote_bind: v.optional(v.pipe(v.string(), v.description("the address on A: loopback (reach it with fwd -L / ssh -L), or * for every address (needs GatewayPorts on A)")), "localhost"),
  }),
  plan: (o) => {
    const port = o.vnc ? 5900 : 3389;
    return {
      sessions: { server: [withIdentity(o.server, o.identity)] },
      forwards: [
        {
          kind: "remote",
          name: "desktop",
          bind: { host: o.remote_bind === "*" ? "" : o.remote_bind, port: o.remote_port ?? port },
          target: parseHostPort(o.desktop ?? "127.0.0.1", port)!,
        },
      ],
    };
  },
  // Through A's forwarded port, from A itself: exactly the way a client on the road comes in.
  probe: async (o, ctx) => {
    const b = ctx.bound.find((x) => x.name === "desktop")?.bound;
    if (!b || !("port" in b)) return { ok: false, detail: "the remote forward is not up" };
    const ch = await ctx.openVia("server", { host: LOOPBACK.has(b.host) || b.host === "" ? "localhost" : b.host, port: b.port });
    return o.vnc ? vncBanner(ch) : rdpConfirm(ch);
  },
  usage: (o, bound) => {
    const b = bound.find((x) => x.name === "desktop")?.bound;
    if (!b || !("port" in b)) return [];
    const a = `${o.server.user ? `${o.server.user}@` : ""}${o.server.host}${o.server.port ? ` -p ${o.server.port}` : ""}`;
    const client = o.vnc ? "your VNC viewer" : "your RDP client";
    const lines = [`at home (this machine): the desktop is reachable on A at ${b.host || "*"}:${b.port}; leave fwd running`];
    if (LOOPBACK.has(b.host))
      lines.push(`on the road: fwd -L ${b.port}:localhost:${b.port} ${a}   (or: ssh -N -L ${b.port}:localhost:${b.port} ${a})`, `  then point ${client} at localhost:${b.port}`);
    else lines.push(`on the road: point ${client} at ${o.server.host}:${b.port}`, `warning: the desktop is open to anyone who reaches A on port ${b.port}; keep its own login strong, or bind to localhost`);
    return lines;
  },
});
