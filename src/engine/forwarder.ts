// The contract every forward kind keeps with the engine, so the engine handles all of them alike:
// it checks a spec, builds the forwarder, starts it on its session's link, hands it what the server
// opens back, tells it about reconnects, stops it, and reads its snapshot. A kind is one file that
// exports a ForwardKindModule, plus its row in kinds.ts.

import type { FwdError, Result } from "../errors.ts";
import type { Endpoint } from "../vocab/endpoint.ts";
import type { ForwardSpec } from "../vocab/forward.ts";
import type { ReconnectPolicy } from "./backoff.ts";
import type { ForwardRuntime } from "./carrier.ts";
import type { Connections } from "./connections.ts";
import type { Incoming, Link } from "./link.ts";
import type { Session } from "./session.ts";
import type { ForwardSnapshot } from "./snapshot.ts";

export interface Forwarder {
  readonly spec: ForwardSpec;
  readonly connections: Connections;
  /** Where it listens now, here or on the server; undefined before start (or for a kind that does not). */
  readonly bound: Endpoint | undefined;
  /**
   * Starts it. `link` is its session's live link, or undefined while that session is still trying:
   * a kind that needs the server then (-R) waits for relink. Resolves to where it listens, if anywhere.
   */
  start(link: Link | undefined): Promise<Result<Endpoint | undefined>>;
  /** No new connections; the open ones carry on. */
  stop(): void;
  /** Stops it and gives back what it holds besides connections: listeners, nftables rules, timers, a server-side listen. */
  close(): void;
  snapshot(): ForwardSnapshot;
  /** A connection the server opened on its session's link; true when this forward takes it. */
  incoming?(c: Incoming): boolean;
  /** Its session connected again (after start): a kind that lives on the server asks again here. */
  relink?(link: Link): void;
}

/** What a kind gets from the engine to build a forwarder. */
export interface ForwardContext {
  rt: ForwardRuntime;
  /** The session the spec's `via` names (a pool's first), or the plan's first. */
  session: Session;
  /** Any session of the plan by name (a pool's members). */
  sessionNamed(name: string): Session | undefined;
  reconnect: ReconnectPolicy;
  /** True once the engine is stopping: retries give up. */
  stopping(): boolean;
}

export interface ForwardKindModule<S extends ForwardSpec> {
  /**
   * What is wrong with the spec, whoever built it (CLI, plugin, status page), before any session
   * connects: the open-proxy rule lives here, so no caller can start an open proxy by leaving it out.
   */
  validate(spec: S): FwdError | undefined;
  create(spec: S, ctx: ForwardContext): Result<Forwarder>;
}
