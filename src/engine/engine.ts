// The engine: sessions plus the forwards they carry, started and stopped as one. It knows nothing of
// argv, ssh2 or plugins: callers hand it a plan (named sessions with a connect function, forwards as
// data) and read its events and snapshots.

import { FwdError, fail, ok, type Result } from "../errors.ts";
import { EventBus } from "./events.ts";
import type { Connect } from "./link.ts";
import { LocalListener } from "./local-forward.ts";
import { Session } from "./session.ts";
import { copyStats, type ForwardStats } from "./stats.ts";
import type { Endpoint, ForwardSpec } from "./types.ts";

export interface SessionPlan {
  name: string;
  host: string;
  connect: Connect;
}

export interface EnginePlan {
  sessions: SessionPlan[];
  forwards: ForwardSpec[];
}

export interface EngineOptions {
  /** A failed listen stops the start (OpenSSH's ExitOnForwardFailure). */
  exitOnForwardFailure: boolean;
  /** How long a new connection waits for a live session before it is refused. */
  acquireTimeoutMs: number;
}

export interface BoundForward {
  spec: ForwardSpec;
  bound: Endpoint;
}

export interface ForwardSnapshot {
  spec: ForwardSpec;
  bound?: Endpoint;
  stats: ForwardStats;
  connections: { id: number; source: string; target: string; openedAt: number; up: number; down: number }[];
}

export interface EngineSnapshot {
  sessions: { name: string; state: string; lastError?: string }[];
  forwards: ForwardSnapshot[];
}

export class Engine {
  readonly bus = new EventBus();
  private sessions = new Map<string, Session>();
  private listeners: LocalListener[] = [];
  private stopping = false;
  private endedResolve!: (e: FwdError | undefined) => void;
  /** Resolves when the engine can no longer do its work (a session ended), or after stop(). */
  readonly ended = new Promise<FwdError | undefined>((r) => (this.endedResolve = r));

  constructor(
    private readonly plan: EnginePlan,
    private readonly opts: EngineOptions,
  ) {
    for (const s of plan.sessions) this.sessions.set(s.name, new Session({ ...s, bus: this.bus }));
  }

  /** Connects every session, then binds every forward. The first fatal problem is returned. */
  async start(): Promise<Result<BoundForward[]>> {
    for (const s of this.sessions.values()) {
      const r = await s.start();
      if (this.stopping) return fail(stoppedError());
      if (!r.ok) return r;
      void r.value.ended.then((err) => {
        if (!this.stopping) this.endedResolve(err ?? new FwdError("E_CLOSED", `${s.name}: connection closed`));
      });
    }
    const bound: BoundForward[] = [];
    for (const spec of this.plan.forwards) {
      const session = this.sessionFor(spec);
      if (!session.ok) return session;
      const l = new LocalListener(spec, session.value, { bus: this.bus, acquireTimeoutMs: this.opts.acquireTimeoutMs });
      const r = await l.listen();
      if (this.stopping) {
        l.stopAccepting();
        return fail(stoppedError());
      }
      if (!r.ok) {
        if (this.opts.exitOnForwardFailure) return r;
        this.bus.log("warn", `${r.error.message} (continuing: ExitOnForwardFailure is off)`, r.error.hint);
        continue;
      }
      this.listeners.push(l);
      bound.push({ spec, bound: r.value });
    }
    return ok(bound);
  }

  /** Stops accepting, gives open connections `graceMs` to finish, then cuts the rest and disconnects. */
  async stop(graceMs: number, why = "stopping"): Promise<void> {
    this.stopping = true;
    for (const l of this.listeners) l.stopAccepting();
    const open = this.listeners.reduce((n, l) => n + l.connections.size, 0);
    const wait = open && graceMs ? ` (up to ${graceMs / 1000}s for ${open} open connection${open > 1 ? "s" : ""}; again to force)` : "";
    this.bus.log("info", `${why}: no new connections${wait}`);
    const deadline = Date.now() + graceMs;
    while (Date.now() < deadline && this.listeners.some((l) => l.connections.size > 0)) await sleep(50);
    for (const l of this.listeners) l.connections.destroyAll();
    for (const s of this.sessions.values()) s.close();
    this.endedResolve(undefined);
  }

  /** Cuts everything now (a second signal). */
  kill(): void {
    this.stopping = true;
    for (const l of this.listeners) l.connections.destroyAll();
    for (const s of this.sessions.values()) s.close();
    this.endedResolve(undefined);
  }

  snapshot(): EngineSnapshot {
    return {
      sessions: [...this.sessions.values()].map((s) => ({
        name: s.name,
        state: s.state,
        ...(s.lastError ? { lastError: s.lastError.message } : {}),
      })),
      forwards: this.listeners.map((l) => {
        const open = l.connections.list();
        const stats = copyStats(l.stats);
        for (const c of open) {
          stats.bytesUp += c.up;
          stats.bytesDown += c.down;
        }
        return {
          spec: l.spec,
          ...(l.bound ? { bound: l.bound } : {}),
          stats,
          connections: open.map(({ id, source, target, openedAt, up, down }) => ({ id, source, target, openedAt, up, down })),
        };
      }),
    };
  }

  private sessionFor(spec: ForwardSpec): Result<Session> {
    const name = spec.via ?? this.plan.sessions[0]?.name;
    const s = name === undefined ? undefined : this.sessions.get(name);
    if (!s) return fail(new FwdError("E_CONFIG", `${spec.id}: no session named "${name}"`, "name one of the plan's sessions in `via`"));
    return ok(s);
  }
}

const stoppedError = () => new FwdError("E_CLOSED", "stopped while starting", "a signal arrived before every forward was up");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
