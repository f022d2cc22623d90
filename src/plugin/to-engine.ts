// A plugin's plan, made concrete: each route's hop resolved through ssh_config into an SSH target,
// each planned forward into the engine's forward, and the same plan as an `ssh` command line.

import { formatEndpoint, isUnix, type Endpoint } from "../vocab/endpoint.ts";
import { validateForward } from "../engine/kinds.ts";
import { resolveTarget, type ConfigContext } from "../config/target.ts";
import type { EnginePlan } from "../engine/engine.ts";
import { routeBind, type ListeningForward, type OpenRule } from "../vocab/forward.ts";
import { FwdError, fail, ok, type Result } from "../errors.ts";
import type { SshDeps, SshTarget } from "../ssh/connect.ts";
import { connectRoute, routeLabel } from "../ssh/route.ts";
import type { Plan, PlanForward } from "./types.ts";

/** A plan's forwards all listen somewhere (no X11: that rides on a command fwd run does not have). */
export type ConcreteForward = ListeningForward & { bind: Endpoint };

export interface ConcretePlan {
  engine: EnginePlan & { forwards: ConcreteForward[] };
  /** Each session's route: jump hosts first, the server that carries its forwards last. */
  targets: Record<string, SshTarget[]>;
  /** Each engine forward id → the plan's forward name. */
  names: Map<string, string>;
}

export function concretePlan(scenario: string, plan: Plan, ctx: ConfigContext, overrides: string[], deps: SshDeps): Result<ConcretePlan> {
  const targets: Record<string, SshTarget[]> = {};
  // PermitRemoteOpen of each session's last hop: the server whose reverse SOCKS ports it limits.
  const permits: Record<string, readonly OpenRule[] | undefined> = {};
  for (const [name, route] of Object.entries(plan.sessions)) {
    if (route.length === 0) return fail(new FwdError("E_CONFIG", `${scenario}: session "${name}" has no hop`, "a route is a list of [user@]host[:port] hops"));
    const hops: SshTarget[] = [];
    for (const hop of route) {
      // fwd run's -o/-i apply to every hop of a scenario: its hops are all named in one place.
      const r = resolveTarget(ctx, hop, [...(hop.identity ? [`IdentityFile=${hop.identity}`] : []), ...overrides]);
      if (!r.ok) return r;
      hops.push(r.value.target);
      permits[name] = r.value.host.permitRemoteOpen;
    }
    targets[name] = hops;
  }
  const first = Object.keys(plan.sessions)[0];
  if (first === undefined) return fail(new FwdError("E_CONFIG", `${scenario}: the plan names no session`, "a plugin's plan needs sessions: { name: [hop] }"));
  const names = new Map<string, string>();
  const forwards: ConcreteForward[] = [];
  const pooled = new Set<string>();
  for (const [i, planned] of plan.forwards.entries()) {
    const f = upgradeLegacy(planned, (m) => deps.log("warn", `${scenario}: ${m}`));
    const name = f.name ?? `${f.kind}${i + 1}`;
    const id = `${scenario}/${name}`;
    const vias = f.via === undefined ? [] : typeof f.via === "string" ? [f.via] : f.via.pool;
    for (const v of vias)
      if (!(v in plan.sessions)) return fail(new FwdError("E_CONFIG", `${id}: via "${v}" names no session`, `sessions: ${Object.keys(plan.sessions).join(", ")}`));
    if (typeof f.via === "object") for (const v of f.via.pool) pooled.add(v);
    const session = typeof f.via === "string" ? f.via : first;
    const spec = toForward(id, f, permits[session], targets[session]![0]!.host);
    // The engine would refuse it at start; asked now, --dry-run and `fwd check` refuse it too.
    const bad = validateForward(spec);
    if (bad) return fail(bad);
    names.set(id, name);
    forwards.push(spec);
  }
  return ok({
    targets,
    names,
    engine: {
      // A pool's exits start independently: one that is down at start is retried, not fatal.
      sessions: Object.entries(targets).map(([name, hops]) => ({ name, host: routeLabel(hops), connect: (signal) => connectRoute(hops, deps, signal), ...(pooled.has(name) ? { keepTrying: true } : {}) })),
      forwards,
    },
  });
}

/**
 * A planned forward is the engine's spec with a name: it gets its id, its route's server excluded
 * (`server`, the session's first hop, whose connection must never be redirected into itself) and a
 * place to listen, and reverse SOCKS the session's PermitRemoteOpen (ssh_config wins, as in ssh).
 */
function toForward(id: string, f: PlanForward, permitOpen: readonly OpenRule[] | undefined, server: string): ConcreteForward {
  const { name: _, ...spec } = f;
  if (spec.kind === "route") return { ...spec, id, bind: routeBind(spec), exclude: [...(spec.exclude ?? []), server] };
  if (spec.kind === "remote" && !spec.target && permitOpen) return { ...spec, id, permitOpen };
  return { ...spec, id };
}

/** The same tunnels as OpenSSH command lines, one per session. */
export function sshCommandLines(c: ConcretePlan): string[] {
  const first = Object.keys(c.targets)[0];
  return Object.entries(c.targets).map(([name, hops]) => {
    const t = hops.at(-1)!;
    const args = ["ssh", "-N"];
    if (hops.length > 1) args.push("-J", hops.slice(0, -1).map((h) => `${h.user}@${h.host}${h.port === 22 ? "" : `:${h.port}`}`).join(","));
    if (t.port !== 22) args.push("-p", String(t.port));
    for (const f of c.engine.forwards.filter((f) => (typeof f.via === "object" ? f.via.pool.includes(name) : (f.via ?? first) === name))) {
      if (f.kind === "local") args.push("-L", `${spec(f.bind)}:${spec(f.target)}`);
      else if (f.kind === "remote") args.push("-R", f.target ? `${spec(f.bind)}:${spec(f.target)}` : spec(f.bind));
      else if (f.kind === "dynamic") args.push("-D", spec(f.bind));
    }
    args.push(`${t.user}@${t.host}`);
    return args.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a}'`)).join(" ");
  });
}

/** An endpoint as a forward spec field: `host:port` (IPv6 bracketed) or a socket path. */
const spec = (e: Endpoint) => (isUnix(e) ? e.path : formatEndpoint(e));

/**
 * Plans written before forwards became the engine's spec plus a name said `listen` for `bind`, and a
 * -D's `allow`/`pac` beside it instead of in `socks`. Such a plugin keeps working, with a warning that
 * says what to rename; the new names win where both are given.
 */
export function upgradeLegacy(f: PlanForward, warn: (m: string) => void): PlanForward {
  const old = f as PlanForward & { listen?: unknown; allow?: string[]; pac?: { domains: string[] } };
  if (old.listen === undefined && (f.kind !== "dynamic" || (old.allow === undefined && old.pac === undefined))) return f;
  const { listen, allow, pac, ...rest } = old;
  const up = { ...rest } as Record<string, unknown>;
  const renamed: string[] = [];
  if (listen !== undefined) {
    renamed.push("listen → bind");
    up.bind ??= listen;
  }
  if (f.kind === "dynamic") {
    if (allow !== undefined || pac !== undefined) renamed.push("allow/pac → socks: { allow, pac }");
    const socks = (up.socks ?? {}) as Record<string, unknown>;
    up.socks = { ...socks, allow: socks.allow ?? allow ?? [], ...((socks.pac ?? pac) ? { pac: socks.pac ?? pac } : {}) };
  }
  warn(`forward ${f.name ?? f.kind} uses the old names (${renamed.join(", ")}); rename them in the plugin's plan`);
  return up as PlanForward;
}
