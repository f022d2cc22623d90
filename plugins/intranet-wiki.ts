// intranet-wiki — the seed's "access intranet web server/wiki via SSH server A": the wiki on a local
// port, and optionally a SOCKS proxy with a PAC file so a browser reaches the whole intranet by name.

import { definePlugin, Hop, httpTitle, Listen, parseHttpUrl, reachableHost, v, withIdentity } from "../src/index.ts";

/** `http://wiki.intranet:8080/start` or `wiki.intranet[:port]` → host, port, path. */
const parseWiki = (s: string) => parseHttpUrl(s, { schemeOptional: true });

/** The intranet's names: `*.corp.example` for `wiki.corp.example`, the name itself for a bare one. */
const domainsOf = (host: string) => (host.includes(".") && !/^[\d.]+$/.test(host) ? [host, `*.${host.split(".").slice(1).join(".")}`] : [host]);

export default definePlugin({
  name: "intranet-wiki",
  summary: "an intranet web server or wiki behind the bastion, on a local port (and optionally a SOCKS proxy + PAC for the whole intranet)",
  options: v.object({
    bastion: v.pipe(Hop, v.description("the SSH server on the intranet: [user@]host[:port] or an ssh_config alias")),
    identity: v.optional(v.pipe(v.string(), v.description("an identity file for the bastion, in addition to ssh_config's"))),
    url: v.pipe(
      v.string(),
      v.check((s) => parseWiki(s) !== undefined, (i) => `Expected http://host[:port][/path] or host[:port] but received ${i.received}`),
      v.description("the wiki as the bastion sees it: http://host[:port][/path] (plain HTTP; for HTTPS use socks)"),
    ),
    listen: v.optional(v.pipe(Listen, v.description("the local address for the wiki; defaults to 127.0.0.1:8080, or a free port when that is taken"))),
    socks: v.optional(v.pipe(v.boolean(), v.description("also open a SOCKS proxy with a PAC file, so a browser reaches intranet names directly")), false),
    socks_listen: v.optional(v.pipe(Listen, v.description("the SOCKS proxy's local address")), "127.0.0.1:1080"),
    pac_domains: v.optional(v.pipe(v.array(v.string()), v.description("names the PAC file sends through the proxy; defaults to the wiki's host and domain"))),
  }),
  plan: (o) => {
    const wiki = parseWiki(o.url)!;
    return {
      sessions: { bastion: [withIdentity(o.bastion, o.identity)] },
      forwards: [
        { kind: "local", name: "wiki", bind: o.listen ?? { host: "127.0.0.1", port: 8080 }, orFreePort: o.listen === undefined, target: { host: wiki.host, port: wiki.port } },
        ...(o.socks ? [{ kind: "dynamic" as const, name: "socks", bind: o.socks_listen, socks: { allow: [], pac: { domains: o.pac_domains ?? domainsOf(wiki.host) } } }] : []),
      ],
    };
  },
  probe: async (o, ctx) => {
    const wiki = parseWiki(o.url)!;
    return httpTitle(await ctx.connect("wiki"), wiki.port === 80 ? wiki.host : `${wiki.host}:${wiki.port}`, wiki.path);
  },
  usage: (o, bound) => {
    const wiki = parseWiki(o.url)!;
    const lines: string[] = [];
    for (const b of bound) {
      if (!("port" in b.bound)) continue;
      if (b.name === "wiki") lines.push(`open http://${b.bound.host}:${b.bound.port}${wiki.path}`);
      if (b.name === "socks")
        lines.push(
          `or set the browser's automatic proxy configuration URL to http://${reachableHost(b.bound.host)}:${b.bound.port}/proxy.pac`,
          `  and open http://${wiki.host}${wiki.port === 80 ? "" : `:${wiki.port}`}${wiki.path} (names resolve on the bastion)`,
        );
    }
    return lines;
  },
});
