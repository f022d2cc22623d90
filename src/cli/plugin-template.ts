// The starting file `fwd plugin new` writes, and the type declarations that let an editor check a
// plugin file anywhere (the file imports only types, so it runs inside the standalone binary too).

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
      forwards: [{ kind: "local", name: "service", listen: o.listen, target: o.target }],
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

/** A self-contained declaration of the API a plugin file receives (valibot's types stay loose). */
export const PLUGIN_DTS = `// Types for fwd plugin files, written by \`fwd plugin new\`. Regenerate with a newer fwd if needed.
import type { Socket } from "node:net";

type Endpoint = { host: string; port: number } | { path: string };
type Hop = { user?: string; host: string; port?: number; identity?: string };
type Schema<T = any> = { readonly "~types"?: { readonly output: T } } & Record<string, any>;
type Out<S> = S extends { readonly "~types"?: { readonly output: infer T } } ? T : any;
type Options<E extends Record<string, Schema>> = { [K in keyof E]: Out<E[K]> };

export type PlanForward =
  | { kind: "local"; name?: string; via?: string; listen: Endpoint; target: Endpoint; orFreePort?: boolean }
  | { kind: "remote"; name?: string; via?: string; listen: Endpoint; target?: Endpoint }
  | { kind: "dynamic"; name?: string; via?: string; listen: { host: string; port: number }; allow?: string[]; pac?: { domains: string[] } };
export interface Plan { sessions: Record<string, Hop[]>; forwards: PlanForward[] }
export interface BoundForward { name: string; kind: PlanForward["kind"]; bound: Endpoint }
export interface ProbeContext { bound: BoundForward[]; connect(name?: string): Promise<Socket> }
export interface ProbeResult { ok: boolean; detail: string }
export interface Plugin<E extends Record<string, Schema>> {
  name: string;
  summary: string;
  options: Schema & { entries: E };
  plan(o: Options<E>): Plan;
  probe?(o: Options<E>, ctx: ProbeContext): Promise<ProbeResult>;
  usage?(o: Options<E>, bound: BoundForward[]): string[];
}
export interface FwdApi {
  definePlugin<E extends Record<string, Schema>>(p: Plugin<E>): Plugin<E>;
  /** valibot (https://valibot.dev): v.object, v.string, v.number, v.boolean, v.optional, v.pipe, v.description, … */
  v: any;
  Hop: Schema<Hop>;
  Listen: Schema<{ host: string; port: number }>;
  Target(defaultPort: number): Schema<{ host: string; port: number }>;
}
`;
