// dev-db-to-cloud — the seed's "provide online DEV environment (with public IP addresses) access to
// your development MySQL/Postgres hosted on laptop": the laptop's database on a port of server A.

import { definePlugin, Hop, mysqlGreeting, parseHostPort, postgresSsl, v, withIdentity } from "../src/index.ts";

const PORTS = { mysql: 3306, postgres: 5432 } as const;

export default definePlugin({
  name: "dev-db-to-cloud",
  summary: "this laptop's MySQL/Postgres on a port of the DEV server A",
  options: v.object({
    server: v.pipe(Hop, v.description("the DEV server A: [user@]host[:port]")),
    identity: v.optional(v.pipe(v.string(), v.description("an identity file for A"))),
    flavor: v.optional(v.pipe(v.picklist(["mysql", "postgres"]), v.description("the database protocol")), "mysql"),
    db: v.optional(v.pipe(v.string(), v.check((s) => parseHostPort(s, 1) !== undefined, "Expected host[:port]"), v.description("the database here (default 127.0.0.1 and the flavor's port)"))),
    remote_port: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(65535), v.description("the port on A's loopback (default the flavor's port)"))),
  }),
  plan: (o) => ({
    sessions: { server: [withIdentity(o.server, o.identity)] },
    forwards: [{ kind: "remote", name: "db", bind: { host: "localhost", port: o.remote_port ?? PORTS[o.flavor] }, target: parseHostPort(o.db ?? "127.0.0.1", PORTS[o.flavor])! }],
  }),
  probe: async (o, ctx) => {
    const b = ctx.bound.find((x) => x.name === "db")?.bound;
    if (!b || !("port" in b)) return { ok: false, detail: "the remote forward is not up" };
    const ch = await ctx.openVia("server", { host: "localhost", port: b.port });
    return o.flavor === "postgres" ? postgresSsl(ch) : mysqlGreeting(ch);
  },
  usage: (o, bound) => {
    const b = bound.find((x) => x.name === "db")?.bound;
    if (!b || !("port" in b)) return [];
    return [`on A, the DEV environment reaches the database at 127.0.0.1:${b.port}`, o.flavor === "postgres" ? `  e.g. psql -h 127.0.0.1 -p ${b.port} -U <user>` : `  e.g. mysql -h 127.0.0.1 -P ${b.port} -u <user> -p`];
  },
});
