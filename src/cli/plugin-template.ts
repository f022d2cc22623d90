// The starting file `fwd plugin new` writes, and the type declarations that let an editor check a
// plugin file anywhere (the file imports only types, so it runs inside the standalone binary too).

import { PLUGIN_API_DTS } from "./plugin-api-dts.generated.ts";

export const pluginTemplate = (name: string) => `// ${name} — a fwd scenario plugin. It describes forwards; fwd opens every socket.
// Load it with \`fwd run ${name} --plugin ./${name}.ts\`, or keep it in ~/.config/fwd/plugins/.
import type { FwdApi } from "./fwd-plugin";

// The default export receives fwd's API, so this file needs no package installed.
export default ({ definePlugin, v, Hop, Listen, Target }: FwdApi) =>
  definePlugin({
    name: "${name}",
    summary: "a local port to a service that only the bastion reaches",
    // Options: one valibot object. Types, defaults and descriptions become --flags, validation and
    // \`fwd scenarios show ${name}\`.
    options: v.object({
      bastion: v.pipe(Hop, v.description("the SSH server: [user@]host[:port] or an ssh_config alias")),
      target: v.pipe(Target(80), v.description("the service as the bastion sees it: host[:port]")),
      listen: v.optional(v.pipe(Listen, v.description("where to listen here: [address:]port")), "127.0.0.1:0"),
    }),
    // The plan: named sessions (each a route of hops) and the forwards they carry.
    plan: (o) => ({
      sessions: { main: [o.bastion] },
      forwards: [{ kind: "local", name: "service", bind: o.listen, target: o.target }],
    }),
    // Optional: does the far end answer? \`connect()\` opens a connection through the tunnel.
    probe: async (_o, ctx) => {
      const s = await ctx.connect();
      s.destroy();
      return { ok: true, detail: "connected through the tunnel" };
    },
    // Optional: how to use it, once it listens.
    usage: (_o, bound) => bound.map((b) => \`\${b.name}: \${"port" in b.bound ? \`\${b.bound.host}:\${b.bound.port}\` : b.bound.path}\`),
  });
`;

/** What a plugin's `import type { FwdApi } from "./fwd-plugin"` resolves to: the generated declarations
 * of src/index.ts, in fwd-plugin-api.d.ts beside it (ambient "fwd/…" modules, valibot included). */
export const PLUGIN_DTS = `// Types for fwd plugin files, written by \`fwd plugin new\`. Regenerate with a newer fwd if needed.
/// <reference path="./fwd-plugin-api.d.ts" />
export * from "fwd/index";
`;

/** Generated from src/index.ts by scripts/plugin-dts.ts (run by the build), so the binary carries it. */
export { PLUGIN_API_DTS };
