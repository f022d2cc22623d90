// A plugin's plan, made concrete: each route's hop resolved through ssh_config into an SSH target,
// each planned forward into the engine's forward, and the same plan as an `ssh` command line.

import { formatEndpoint, isUnix, type Endpoint } from "../vocab/endpoint.ts";
import { validateForward } from "../engine/kinds.ts";
import { routeForward } from "../config/route-spec.ts";
import { resolveTarget, type ConfigContext } from "../config/target.ts";
import type { EnginePlan } from "../engine/engine.ts";
import type { ListeningForward, OpenRule } from "../vocab/forward.ts";
import { FwdError, fail, ok, type Result } from "../errors.ts";
import type { SshDeps, SshTarget } from "../ssh/connect.ts";
import { connectRoute, routeLabel } from "../ssh/route.ts";
import type { Plan, PlanForward } from "./types.ts";

export interface ConcretePlan {
  /** A plan's forwards all listen somewhere (no X11: that rides on a command fwd run does not have). */
  engine: EnginePlan & { forwards: ListeningForward[] };
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
  const forwards: ListeningForward[] = [];
  const pooled = new Set<string>();
  for (const [i, f] of plan.forwards.entries()) {
    const name = f.name ?? `${f.kind}${i + 1}`;
    const id = `${scenario}/${name}`;
    const vias = f.via === undefined ? [] : typeof f.via === "string" ? [f.via] : f.via.pool;
    for (const v of vias)
      if (!(v in plan.sessions)) return fail(new FwdError("E_CONFIG", `${id}: via "${v}" names no session`, `sessions: ${Object.keys(plan.sessions).join(", ")}`));
    if (typeof f.via === "object") for (const v of f.via.pool) pooled.add(v);
    const session = typeof f.via === "string" ? f.via : first;
    const spec = toForward(id, f, permits[session], targets[session]![0]!.host);
    if (!spec.ok) return spec;
    // The engine would refuse it at start; asked now, --dry-run and `fwd check` refuse it too.
    const bad = validateForward(spec.value);
    if (bad) return fail(bad);
    names.set(id, name);
    forwards.push(spec.value);
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

/** `server`: the first hop of the forward's session, which a route must never redirect. */
function toForward(id: string, f: PlanForward, permitOpen: readonly OpenRule[] | undefined, server: string): Result<ListeningForward> {
  switch (f.kind) {
    case "local":
      return ok({ kind: "local", id, ...(f.via ? { via: f.via } : {}), bind: f.listen, target: f.target, ...(f.orFreePort ? { orFreePort: true } : {}), ...(f.ftp ? { ftp: true } : {}) });
    case "remote":
      return ok({ kind: "remote", id, ...(f.via ? { via: f.via } : {}), bind: f.listen, ...(f.target ? { target: f.target } : { socks: { allow: [] }, ...(permitOpen ? { permitOpen } : {}) }) });
    case "dynamic":
      return ok({ kind: "dynamic", id, ...(f.via ? { via: f.via } : {}), bind: f.listen, socks: { allow: f.allow ?? [], ...(f.pac ? { pac: f.pac } : {}) } });
    case "route":
      return routeForward(id, { networks: f.networks, exclude: f.exclude ?? [], server, ...(f.via ? { via: f.via } : {}), ...(f.lan ? { lan: f.lan } : {}), ...(f.dns ? { dns: f.dns } : {}) });
  }
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
