// mysql-via-bastion — the seed's "connect to MySQL/Postgres server via SSH server A": a local port
// to a database that only the bastion reaches, on the bastion itself or on a server behind it.

import { definePlugin, Hop, Listen, mysqlGreeting, parseHostPort, postgresSsl, v, withIdentity } from "../src/index.ts";

const PORTS = { mysql: 3306, postgres: 5432 } as const;

export default definePlugin({
  name: "mysql-via-bastion",
  summary: "a local port to a MySQL/MariaDB (or Postgres) server that only the bastion reaches",
  options: v.object({
    bastion: v.pipe(Hop, v.description("the SSH server that reaches the database: [user@]host[:port] or an ssh_config alias")),
    identity: v.optional(v.pipe(v.string(), v.description("an identity file for the bastion, in addition to ssh_config's"))),
    jump: v.optional(v.pipe(v.array(Hop), v.description("jump hosts before the bastion, in order (as ssh -J)")), []),
    db: v.pipe(
      v.string(),
      v.check((s) => parseHostPort(s, 1) !== undefined, (i) => `Expected host[:port] but received ${i.received}`),
      v.description("the database as the bastion sees it: host[:port] (localhost for the bastion itself)"),
    ),
    flavor: v.optional(v.pipe(v.picklist(["mysql", "postgres"]), v.description("the database protocol, for the default port and the probe")), "mysql"),
    listen: v.optional(v.pipe(Listen, v.description("the local address to listen on; defaults to 127.0.0.1 and the flavor's port, or a free port when that is taken"))),
  }),
  plan: (o) => ({
    sessions: { bastion: [...o.jump, withIdentity(o.bastion, o.identity)] },
    forwards: [
      {
        kind: "local",
        name: "db",
        bind: o.listen ?? { host: "127.0.0.1", port: PORTS[o.flavor] },
        orFreePort: o.listen === undefined,
        target: parseHostPort(o.db, PORTS[o.flavor])!,
      },
    ],
  }),
  probe: async (o, ctx) => (o.flavor === "postgres" ? postgresSsl(await ctx.connect()) : mysqlGreeting(await ctx.connect())),
  usage: (o, bound) => {
    const b = bound[0]?.bound;
    if (!b || !("port" in b)) return [];
    return o.flavor === "postgres"
      ? [`psql -h ${b.host} -p ${b.port} -U <user> <database>`, `postgres://<user>@${b.host}:${b.port}/<database>`]
      : [`mysql -h ${b.host} -P ${b.port} -u <user> -p`, `mysql://<user>@${b.host}:${b.port}/<database>`];
  },
});
