// secure-legacy — the seed's "secure and encrypt your access to remote protocols that are otherwise
// insecure": FTP, telnet/rsh, IMAP/POP3 and plain HTTP ride the tunnel. For FTP, passive-mode data
// connections are carried through the tunnel too, so a real FTP client works end to end.

import { definePlugin, greeting, Hop, httpTitle, Listen, parseHostPort, v, withIdentity } from "../src/index.ts";

const PROTOCOLS = {
  ftp: { port: 21, greet: /^220[ -]/, client: (h: string, p: number) => `curl ftp://${h}:${p}/  (passive mode; data goes through the tunnel too)` },
  telnet: { port: 23, greet: /^[\s\S]/, client: (h: string, p: number) => `telnet ${h} ${p}` },
  rsh: { port: 514, greet: undefined, client: (h: string, p: number) => `rsh-style clients: connect to ${h}:${p}` },
  imap: { port: 143, greet: /^\* OK/, client: (h: string, p: number) => `mail client: IMAP server ${h}, port ${p}, no TLS (the tunnel encrypts)` },
  pop3: { port: 110, greet: /^\+OK/, client: (h: string, p: number) => `mail client: POP3 server ${h}, port ${p}, no TLS (the tunnel encrypts)` },
  http: { port: 80, greet: undefined, client: (h: string, p: number) => `open http://${h}:${p}/` },
} as const;

export default definePlugin({
  name: "secure-legacy",
  summary: "FTP (with passive data), telnet/rsh, IMAP/POP3 or plain HTTP, carried inside SSH",
  options: v.object({
    bastion: v.pipe(Hop, v.description("server A: [user@]host[:port] or an ssh_config alias")),
    identity: v.optional(v.pipe(v.string(), v.description("an identity file for A"))),
    protocol: v.pipe(v.picklist(["ftp", "telnet", "rsh", "imap", "pop3", "http"]), v.description("what the service speaks")),
    target: v.pipe(v.string(), v.check((s) => parseHostPort(s, 1) !== undefined, "Expected host[:port]"), v.description("the service as A sees it: host[:port] (default port per protocol; localhost for A itself)")),
    listen: v.optional(v.pipe(Listen, v.description("the local address; default 127.0.0.1 and 10000 + the protocol's port, or a free one"))),
  }),
  plan: (o) => {
    const p = PROTOCOLS[o.protocol];
    return {
      sessions: { bastion: [withIdentity(o.bastion, o.identity)] },
      forwards: [
        {
          kind: "local",
          name: o.protocol,
          bind: o.listen ?? { host: "127.0.0.1", port: 10000 + p.port },
          orFreePort: o.listen === undefined,
          target: parseHostPort(o.target, p.port)!,
          ...(o.protocol === "ftp" ? { ftp: true } : {}),
        },
      ],
    };
  },
  probe: async (o, ctx) => {
    const p = PROTOCOLS[o.protocol];
    const s = await ctx.connect(o.protocol);
    if (o.protocol === "http") return httpTitle(s, parseHostPort(o.target, 80)!.host, "/");
    if (!p.greet) {
      s.destroy();
      return { ok: true, detail: "connected through the tunnel (the protocol waits for the client)" };
    }
    return greeting(s, o.protocol.toUpperCase(), p.greet);
  },
  usage: (o, bound) => {
    const b = bound[0]?.bound;
    return b && "port" in b ? [PROTOCOLS[o.protocol].client(b.host, b.port)] : [];
  },
});
