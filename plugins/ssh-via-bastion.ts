// ssh-via-bastion — the seed's "access another server's SSH via existing SSH connection": B's SSH
// on a local port through A, plus the ssh config block that does the same with fwd -W.

import { definePlugin, greeting, Hop, Listen, Target, v, withIdentity } from "../src/index.ts";

export default definePlugin({
  name: "ssh-via-bastion",
  summary: "server B's SSH on a local port, through bastion A (and the ssh config block for it)",
  options: v.object({
    bastion: v.pipe(Hop, v.description("server A: [user@]host[:port] or an ssh_config alias")),
    identity: v.optional(v.pipe(v.string(), v.description("an identity file for A"))),
    host: v.pipe(Target(22), v.description("server B's SSH as A sees it: host[:port]")),
    user: v.optional(v.pipe(v.string(), v.description("your user on B, for the printed commands"))),
    listen: v.optional(v.pipe(Listen, v.description("the local port for B's SSH")), "127.0.0.1:2222"),
  }),
  plan: (o) => ({
    sessions: { bastion: [withIdentity(o.bastion, o.identity)] },
    forwards: [{ kind: "local", name: "ssh", bind: o.listen, target: o.host, orFreePort: true }],
  }),
  probe: async (_o, ctx) => greeting(await ctx.connect("ssh"), "SSH", /^SSH-2\.0-/),
  usage: (o, bound) => {
    const b = bound[0]?.bound;
    if (!b || !("port" in b)) return [];
    const who = o.user ? `${o.user}@` : "";
    const a = `${o.bastion.user ? `${o.bastion.user}@` : ""}${o.bastion.host}${o.bastion.port ? `:${o.bastion.port}` : ""}`;
    return [
      `ssh -p ${b.port} -o HostKeyAlias=${o.host.host} ${who}localhost`,
      "or, without fwd running, this ssh config block (uses fwd as the ProxyCommand):",
      `  Host ${o.host.host}`,
      ...(o.user ? [`    User ${o.user}`] : []),
      `    Port ${o.host.port}`,
      `    ProxyCommand fwd -W %h:%p ${a}`,
    ];
  },
});
