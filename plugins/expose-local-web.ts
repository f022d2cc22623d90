// expose-local-web — the seed's "serve local web server traffic" / "present to the Internet your
// network services": a local web server on server A's public address. A must allow public binds
// (GatewayPorts); the probe checks from outside, as a visitor would, and says so when A does not.

import { definePlugin, Hop, httpTitle, Target, v, withIdentity } from "../src/index.ts";

export default definePlugin({
  name: "expose-local-web",
  summary: "a local web server, served on server A's public address",
  options: v.object({
    server: v.pipe(Hop, v.description("server A, with a public address: [user@]host[:port]")),
    identity: v.optional(v.pipe(v.string(), v.description("an identity file for A"))),
    local: v.optional(v.pipe(Target(80), v.description("the web server here: host[:port]")), "127.0.0.1:8080"),
    remote_port: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(65535), v.description("the public port on A")), 8080),
    public_host: v.optional(v.pipe(v.string(), v.description("the name or address visitors use for A (default: the server's host)"))),
  }),
  plan: (o) => ({
    sessions: { server: [withIdentity(o.server, o.identity)] },
    forwards: [{ kind: "remote", name: "web", bind: { host: "", port: o.remote_port }, target: o.local }],
  }),
  // From here, straight to A's public port, no tunnel: exactly what a visitor sees.
  probe: async (o, ctx) => {
    const host = o.public_host ?? o.server.host;
    try {
      const r = await httpTitle(await ctx.dial({ host, port: o.remote_port }), host, "/");
      return r.ok ? { ...r, detail: `public: ${r.detail}` } : r;
    } catch (e) {
      return { ok: false, detail: `A does not serve it publicly (${(e as Error).message}): its sshd must have GatewayPorts yes or clientspecified` };
    }
  },
  usage: (o) => [`http://${o.public_host ?? o.server.host}:${o.remote_port}/  (public only where A's sshd has GatewayPorts yes or clientspecified)`],
});
