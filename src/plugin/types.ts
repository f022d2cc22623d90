// The plugin contract: a plugin is data plus pure functions. It describes the sessions it needs and
// the forwards they carry; the engine opens every socket. Probes speak to the far end through the
// tunnel's own local port, so they test exactly what a user's program would use.

import type net from "node:net";
import type * as v from "valibot";
import type { Duplex } from "node:stream";
import type { DynamicForward, ForwardKind, LocalForward, RemoteForward, RouteForward } from "../vocab/forward.ts";
import type { Hop } from "../vocab/address.ts";
import type { Endpoint, TcpEndpoint } from "../vocab/endpoint.ts";

/** A route to the server that carries the forwards: one hop, or a jump chain ending at it. */
export type Route = Hop[];

/** A forward as a plan names it: the engine's own spec (vocab/forward.ts) with a name in place of the id. */
type Planned<F> = Omit<F, "id"> & {
  /** What probe, usage and the status page call it; the engine's id is `scenario/name`. */
  name?: string;
};

/**
 * -L (`local`), -R (`remote`; no target: reverse SOCKS), -D (`dynamic`, on one session or a pool)
 * and `route` (whole networks, Linux, root), as the engine carries them: no X11, which rides on a
 * command a scenario does not run.
 */
export type PlanForward = Planned<LocalForward> | Planned<RemoteForward> | Planned<DynamicForward> | Planned<RouteForward>;

export interface Plan {
  /** Named sessions; a forward's `via` picks one, the first is the default. */
  sessions: Record<string, Route>;
  forwards: PlanForward[];
}

/** Where each forward ended up listening, in plan order (a forward that failed is absent). */
export interface BoundForward {
  name: string;
  kind: ForwardKind;
  bound: Endpoint;
}

export interface ProbeContext {
  bound: BoundForward[];
  /** A TCP connection to a bound local forward (the first one by default): through the tunnel. */
  connect(name?: string): Promise<net.Socket>;
  /** A connection to `target` opened from the server of one session (e.g. to learn an exit's address). */
  openVia(session: string, target: Endpoint): Promise<Duplex>;
  /** A plain TCP connection from this machine, no tunnel: what the outside world would see. */
  dial(target: TcpEndpoint): Promise<Duplex>;
}

export interface ProbeResult {
  ok: boolean;
  /** One line: what answered ("MariaDB 10.11.6"), or what went wrong. */
  detail: string;
}

export type OptionsSchema = v.ObjectSchema<v.ObjectEntries, v.ErrorMessage<v.ObjectIssue> | undefined>;

export interface Plugin<S extends OptionsSchema = OptionsSchema> {
  /** kebab-case; what `fwd run NAME` takes. */
  name: string;
  /** One line for `fwd scenarios`. */
  summary: string;
  /** Options as a valibot object: types, defaults and descriptions (v.description) in one place. */
  options: S;
  plan(options: v.InferOutput<S>): Plan;
  /** Does the far end answer as it should? Run by `fwd check` and after `fwd run` starts. */
  probe?(options: v.InferOutput<S>, ctx: ProbeContext): Promise<ProbeResult>;
  /** Lines telling the user how to use what is now listening. */
  usage?(options: v.InferOutput<S>, bound: BoundForward[]): string[];
}
