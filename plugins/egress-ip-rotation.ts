// egress-ip-rotation — the seed's "different public IP addresses … via different remote SSH
// servers" and "access third parties that have access lists": one local SOCKS port in front of
// several SSH servers; each new connection leaves from one of them, as the strategy picks.

import { definePlugin, Hop, httpLine, Listen, parseCidr, parseHttpUrl, v, withIdentity } from "../src/index.ts";

const Server = v.union([Hop, v.object({ server: Hop, identity: v.optional(v.string()), label: v.optional(v.pipe(v.string(), v.regex(/^[\w.-]+$/))) })]);

/** Each server's label: its own, or exit1, exit2, … by position. */
const labelsOf = (servers: v.InferOutput<typeof Server>[]) => servers.map((s, i) => ("server" in s && s.label) || `exit${i + 1}`);


export default definePlugin({
  name: "egress-ip-rotation",
  summary: "one local SOCKS port in front of several SSH servers: each connection leaves from one of them",
  options: v.object({
    servers: v.pipe(
      v.array(Server),
      v.minLength(1, "Expected at least one server"),
      v.check((list) => new Set(labelsOf(list)).size === list.length, "Expected each server to have its own label"),
      v.description('the exits: "[user@]host[:port]" each, or { server, identity, label } tables'),
    ),
    listen: v.optional(v.pipe(Listen, v.description("the SOCKS port here; beyond loopback it needs allow")), "127.0.0.1:1080"),
    allow: v.optional(
      v.pipe(v.array(v.pipe(v.string(), v.check((c) => parseCidr(c) !== undefined, "Expected an address or CIDR"))), v.description("client networks that may use the proxy (for a LAN)")),
      [],
    ),
    strategy: v.optional(
      v.pipe(v.picklist(["round-robin", "random", "sticky", "per-client", "least-connections"]), v.description("which exit a new connection leaves from (sticky: by destination host; per-client: by client address)")),
      "round-robin",
    ),
    // The cap is what a timer can hold (2^31 ms); beyond it Node fires at once.
    rotate_every: v.optional(v.pipe(v.number(), v.minValue(1), v.maxValue(2_147_483), v.description("seconds: one exit at a time, moving to the next on this timer"))),
    ip_echo_url: v.optional(
      v.pipe(v.string(), v.check((s) => parseHttpUrl(s) !== undefined, "Expected http://host[:port][/path]"), v.description("a plain-HTTP service that answers with the caller's address, fetched through each exit")),
    ),
  }),
  plan: (o) => {
    const labels = labelsOf(o.servers);
    const exits = o.servers.map((s, i) => ({ label: labels[i]!, hop: "server" in s ? withIdentity(s.server, s.identity) : s }));
    return {
      sessions: Object.fromEntries(exits.map((e) => [e.label, [e.hop]])),
      forwards: [
        {
          kind: "dynamic",
          name: "socks",
          bind: o.listen,
          socks: { allow: o.allow },
          via: { pool: exits.map((e) => e.label), pick: o.strategy, ...(o.rotate_every ? { rotateEveryMs: o.rotate_every * 1000 } : {}) },
        },
      ],
    };
  },
  probe: async (o, ctx) => {
    const url = o.ip_echo_url ? parseHttpUrl(o.ip_echo_url) : undefined;
    const labels = labelsOf(o.servers);
    if (!url) return { ok: true, detail: `${labels.length} exits (set ip_echo_url to learn their addresses)` };
    const seen = await Promise.all(
      labels.map(async (label) => {
        try {
          const ch = await ctx.openVia(label, { host: url.host, port: url.port });
          return `${label} ${(await httpLine(ch, url.host, url.path)) ?? "no answer"}`;
        } catch (e) {
          return `${label} down (${(e as Error).message})`;
        }
      }),
    );
    return { ok: seen.every((s) => !/ (no answer|down)/.test(s)), detail: `exit addresses: ${seen.join(", ")}` };
  },
  usage: (o, bound) => {
    const b = bound[0]?.bound;
    if (!b || !("port" in b)) return [];
    const host = b.host === "0.0.0.0" ? "<this machine's address>" : b.host;
    return [`SOCKS5 proxy ${host}:${b.port} (${o.strategy}${o.rotate_every ? `, rotating every ${o.rotate_every}s` : ""}, ${o.servers.length} exits)`, `curl --socks5-hostname ${host}:${b.port} http://…`];
  },
});
