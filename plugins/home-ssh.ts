// home-ssh — the seed's "provide remote SSH access to local servers": the home machine's SSH kept
// reachable through server A, for logging in from the road.

import { definePlugin, greeting, Hop, Target, v, withIdentity } from "../src/index.ts";

export default definePlugin({
  name: "home-ssh",
  summary: "this machine's SSH (or another's at home) reachable through server A, from the road",
  options: v.object({
    server: v.pipe(Hop, v.description("server A: [user@]host[:port]")),
    identity: v.optional(v.pipe(v.string(), v.description("an identity file for A"))),
    ssh: v.optional(v.pipe(Target(22), v.description("the SSH server at home: host[:port]")), "127.0.0.1:22"),
    remote_port: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(65535), v.description("the port on A's loopback (0: A picks)")), 2222),
    user: v.optional(v.pipe(v.string(), v.description("your user at home, for the printed command"))),
  }),
  plan: (o) => ({
    sessions: { server: [withIdentity(o.server, o.identity)] },
    forwards: [{ kind: "remote", name: "ssh", bind: { host: "localhost", port: o.remote_port }, target: o.ssh }],
  }),
  probe: async (_o, ctx) => {
    const b = ctx.bound.find((x) => x.name === "ssh")?.bound;
    if (!b || !("port" in b)) return { ok: false, detail: "the remote forward is not up" };
    return greeting(await ctx.openVia("server", { host: "localhost", port: b.port }), "SSH", /^SSH-2\.0-/);
  },
  usage: (o, bound) => {
    const b = bound.find((x) => x.name === "ssh")?.bound;
    if (!b || !("port" in b)) return [];
    const a = `${o.server.user ? `${o.server.user}@` : ""}${o.server.host}${o.server.port ? `:${o.server.port}` : ""}`;
    return [`from the road: ssh -J ${a} -p ${b.port} ${o.user ? `${o.user}@` : ""}localhost`];
  },
});
