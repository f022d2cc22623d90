// The engine: sessions plus the forwards they carry, started and stopped as one. It knows nothing of
// argv, ssh2 or plugins: callers hand it a plan (named sessions with a connect function, forwards as
// data) and read its events and snapshots.

import { FwdError, fail, ok, type Result } from "../errors.ts";
import { DEFAULT_RECONNECT, type ReconnectPolicy } from "./backoff.ts";
import { connectionSlots, DEFAULT_MAX_CONNECTIONS, fitToOpenFileLimit } from "./connections.ts";
import { EventBus } from "./events.ts";
import type { Forwarder } from "./forwarder.ts";
import { createForwarder, validateForward } from "./kinds.ts";
import type { Connect, Link } from "./link.ts";
import { Session } from "./session.ts";
import type { EngineSnapshot } from "./snapshot.ts";
import type { ForwardSpec } from "../vocab/forward.ts";
import type { Endpoint } from "../vocab/endpoint.ts";

export type { EngineSnapshot, ForwardSnapshot, SessionSnapshot } from "./snapshot.ts";

export interface SessionPlan {
  name: string;
  host: string;
  connect: Connect;
  /** A failed first connection is retried instead of stopping the start (a pool's exits). */
  keepTrying?: boolean;
  /** This session's own policy (`fwd up`: each scenario file's [reconnect]); the engine's otherwise. */
  reconnect?: ReconnectPolicy;
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
  reconnect?: ReconnectPolicy;
  /** Forwarded connections the process carries at once (DEFAULT_MAX_CONNECTIONS when absent). */
  maxConnections?: number;
  /**
   * A session that gives up ends only itself, not the engine (`fwd up`: one scenario's server
   * refusing a key must not take the others down). Off, the first such session ends the engine.
   */
  keepRunning?: boolean;
}

export interface BoundForward {
  spec: ForwardSpec;
  bound: Endpoint;
}

export class Engine {
  readonly bus = new EventBus();
  private sessions = new Map<string, Session>();
  private forwarders: Forwarder[] = [];
  private stopping = false;
  private started = false;
  private endedResolve!: (e: FwdError | undefined) => void;
  /** Resolves when the engine can no longer do its work (a session ended), or after stop(). */
  readonly ended = new Promise<FwdError | undefined>((r) => (this.endedResolve = r));

  constructor(
    private readonly plan: EnginePlan,
    private readonly opts: EngineOptions,
  ) {
    for (const s of plan.sessions) this.makeSession(s);
  }

  private makeSession(s: SessionPlan): Session {
    const session = new Session({ ...s, bus: this.bus, reconnect: s.reconnect ?? this.opts.reconnect ?? DEFAULT_RECONNECT });
    this.sessions.set(s.name, session);
    session.onLink((link) => this.attachLink(session, link));
    void session.failed.then((e) => {
      if (!this.stopping && !this.opts.keepRunning && this.sessions.get(s.name) === session) this.endedResolve(e);
    });
    return session;
  }

  /** Connects every session, then sets up every forward. The first fatal problem is returned. */
  async start(): Promise<Result<BoundForward[]>> {
    // Every spec is checked before any session connects: a refused one (an open proxy) costs nothing.
    for (const spec of this.plan.forwards) {
      const bad = validateForward(spec);
      if (bad) return fail(bad);
    }
    const asked = this.opts.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
    const fit = fitToOpenFileLimit(asked);
    connectionSlots.limit = fit.limit;
    // The default quietly fits the descriptors there are; only a limit asked for is worth a warning.
    if (fit.limit < asked && this.opts.maxConnections !== undefined)
      this.bus.log("warn", `connection limit ${asked} is more than \`ulimit -n\` (${fit.openFiles} open files) allows: using ${fit.limit}`, "raise `ulimit -n` (e.g. ulimit -n 65536) to carry more at once");
    const links = new Map<string, Link>();
    for (const plan of this.plan.sessions) {
      const s = this.sessions.get(plan.name)!;
      const r = await s.start(plan.keepTrying);
      if (this.stopping) return fail(stoppedError());
      if (!r.ok) {
        if (!plan.keepTrying) return r;
        this.bus.log("warn", `${r.error.message} (will keep trying; the others carry on)`, r.error.hint);
        continue;
      }
      links.set(s.name, r.value);
    }
    const bound: BoundForward[] = [];
    for (const spec of this.plan.forwards) {
      const r = await this.openForward(spec, links);
      if (!r.ok) {
        if (this.opts.exitOnForwardFailure || r.error.code === "E_CONFIG" || this.stopping) return r;
        this.bus.log("warn", `${r.error.message} (continuing: ExitOnForwardFailure is off)`, r.error.hint);
        continue;
      }
      if (r.value) bound.push({ spec, bound: r.value });
    }
    this.started = true;
    return ok(bound);
  }

  /**
   * Builds one forward and starts it: listening here (-L, -D), or asking the server (-R). A -R
   * whose session has no live link yet is kept and requested when it connects (undefined then).
   */
  private async openForward(spec: ForwardSpec, links: Map<string, Link>): Promise<Result<Endpoint | undefined>> {
    const session = this.sessionFor(spec);
    if (!session.ok) return session;
    const f = createForwarder(spec, {
      rt: { bus: this.bus, acquireTimeoutMs: this.opts.acquireTimeoutMs },
      session: session.value,
      sessionNamed: (name) => this.sessions.get(name),
      reconnect: this.opts.reconnect ?? DEFAULT_RECONNECT,
      stopping: () => this.stopping,
    });
    if (!f.ok) return f;
    const r = await f.value.start(links.get(session.value.name));
    if (this.stopping) {
      f.value.close();
      return fail(stoppedError());
    }
    if (!r.ok) {
      f.value.close();
      return r;
    }
    this.forwarders.push(f.value);
    return r;
  }

  /**
   * Adds a session to a running engine (`fwd up`, a reload) and makes its first connection. A
   * failure another attempt may fix is retried in the background with `keepTrying`; the result says
   * how the first attempt went either way.
   */
  async addSession(plan: SessionPlan): Promise<Result<void>> {
    if (this.sessions.has(plan.name)) return fail(new FwdError("E_CONFIG", `session "${plan.name}" exists already`, "give each session its own name"));
    if (this.stopping) return fail(stoppedError());
    const r = await this.makeSession(plan).start(plan.keepTrying);
    return r.ok ? ok(undefined) : r;
  }

  /**
   * Closes a session and forgets it. Forwards still riding on it (a live one added beside a scenario
   * that has now stopped) go with it, their connections cut. False when there is no such session.
   */
  removeSession(name: string): boolean {
    const s = this.sessions.get(name);
    if (!s) return false;
    const on = (f: Forwarder) => (typeof f.spec.via === "object" ? f.spec.via.pool.includes(name) : (f.spec.via ?? this.firstSession) === name);
    for (const f of this.forwarders.filter(on)) this.removeForward(f.spec.id, { cut: true });
    this.sessions.delete(name);
    s.close();
    return true;
  }

  /** The names of the sessions the engine holds now. */
  sessionNames(): string[] {
    return [...this.sessions.keys()];
  }

  /**
   * Adds a forward to a running engine, as `ssh -O forward` does on a control master: the others
   * and their connections are untouched. Resolves to where it listens (undefined: a -R waiting for
   * its session to connect).
   */
  async addForward(spec: ForwardSpec): Promise<Result<Endpoint | undefined>> {
    if (this.forwarders.some((f) => f.spec.id === spec.id)) return fail(new FwdError("E_CONFIG", `${spec.id}: a forward with this id exists already`, "cancel it first, or give another spec"));
    if (this.stopping) return fail(stoppedError());
    const bad = validateForward(spec);
    if (bad) return fail(bad);
    const session = this.sessionFor(spec);
    if (!session.ok) return session;
    const links = new Map<string, Link>();
    // A kind that needs the server (-R) asks now if the session is up; otherwise when it connects.
    const live = await session.value.acquire(0);
    if (live.ok) links.set(session.value.name, live.value);
    return this.openForward(spec, links);
  }

  /**
   * Removes a forward, as `ssh -O cancel`: no new connections, the server asked to stop listening
   * for a -R. Open connections carry on unless `cut` (a scenario restarted or stopped). False when
   * there is no such forward.
   */
  removeForward(id: string, o: { cut?: boolean } = {}): boolean {
    const i = this.forwarders.findIndex((x) => x.spec.id === id);
    if (i < 0) return false;
    const f = this.forwarders[i]!;
    this.forwarders.splice(i, 1);
    f.close();
    if (o.cut) f.connections.destroyAll();
    this.bus.log("info", `${id}: removed`);
    return true;
  }

  /** The live link of a session (the first by default), waiting up to the acquire timeout. */
  link(name?: string): Promise<Result<Link>> {
    const s = this.sessions.get(name ?? this.firstSession ?? "");
    if (!s) return Promise.resolve(fail(new FwdError("E_CONFIG", `no session named "${name}"`, "name one of the plan's sessions")));
    return s.acquire(this.opts.acquireTimeoutMs);
  }

  /** Reconnects one session now (the status page's action); false when there is no such session. */
  reconnectSession(name: string): boolean {
    const s = this.sessions.get(name);
    s?.retryNow();
    return s !== undefined;
  }

  /** Cuts one open connection; false when it is not open (any more). */
  closeConnection(id: number): boolean {
    for (const f of this.forwarders) {
      const c = f.connections.list().find((x) => x.id === id);
      if (c) {
        for (const end of c.ends) end.destroy();
        return true;
      }
    }
    return false;
  }

  /** Stops one forward: no new connections (open ones carry on); false when there is none. */
  stopForward(id: string): boolean {
    const f = this.forwarders.find((x) => x.spec.id === id);
    if (!f) return false;
    f.stop();
    this.bus.log("info", `${id}: stopped`);
    return true;
  }

  /** SIGHUP: every session reconnects now (a waiting retry goes at once, a live one is renewed). */
  reconnectNow(): void {
    for (const s of this.sessions.values()) s.retryNow();
  }

  /**
   * Each new link takes the server's incoming connections for this session's remote forwards, and
   * after a reconnect asks the server to listen again for each of them.
   */
  private attachLink(session: Session, link: Link): void {
    link.onIncoming((c) => {
      if (this.stopping) return c.reject();
      if (!this.forwardersOn(session).some((f) => f.incoming?.(c))) c.reject();
    });
    if (this.started) for (const f of this.forwardersOn(session)) f.relink?.(link);
  }

  /** The forwards whose own session this is (a pool's counts by its first member). */
  private forwardersOn(session: Session): Forwarder[] {
    return this.forwarders.filter((f) => {
      const s = this.sessionFor(f.spec);
      return s.ok && s.value === session;
    });
  }

  /** Stops accepting, gives open connections `graceMs` to finish, then cuts the rest and disconnects. */
  /** `why` names the reason in the log (a signal); a stop without one is silent. */
  async stop(graceMs: number, why?: string): Promise<void> {
    this.stopping = true;
    for (const f of this.forwarders) f.stop();
    const open = this.openConnections();
    const wait = open && graceMs ? ` (up to ${graceMs / 1000}s for ${open} open connection${open > 1 ? "s" : ""}; again to force)` : "";
    if (why) this.bus.log("info", `${why}: no new connections${wait}`);
    const deadline = Date.now() + graceMs;
    while (Date.now() < deadline && this.openConnections() > 0) await sleep(50);
    this.kill();
  }

  /** Cuts everything now (the end of a graceful stop, or a start that failed). */
  kill(): void {
    this.stopping = true;
    // Nothing a forward holds may outlive the engine: a route's redirect would send traffic nowhere.
    for (const f of this.forwarders) f.close();
    for (const f of this.forwarders) f.connections.destroyAll();
    for (const s of this.sessions.values()) s.close();
    this.endedResolve(undefined);
  }

  snapshot(): EngineSnapshot {
    return {
      sessions: [...this.sessions.values()].map((s) => ({
        name: s.name,
        host: s.host,
        state: s.state,
        since: s.since,
        reconnects: s.reconnects,
        ...(s.rttMs !== undefined ? { rttMs: s.rttMs } : {}),
        ...(s.algorithms ? { cipher: s.algorithms.cipher, compression: s.algorithms.compression } : {}),
        attempt: s.attempt,
        history: [...s.history],
        ...(s.nextAttemptAt ? { nextAttemptAt: s.nextAttemptAt } : {}),
        ...(s.lastError ? { lastError: s.lastError.message } : {}),
      })),
      forwards: this.forwarders.map((f) => f.snapshot()),
    };
  }

  private openConnections(): number {
    return this.forwarders.reduce((n, f) => n + f.connections.size, 0);
  }

  private get firstSession(): string | undefined {
    return this.plan.sessions[0]?.name;
  }

  private sessionFor(spec: ForwardSpec): Result<Session> {
    const name = typeof spec.via === "object" ? spec.via.pool[0] : (spec.via ?? this.firstSession);
    const s = name === undefined ? undefined : this.sessions.get(name);
    if (!s) return fail(new FwdError("E_CONFIG", `${spec.id}: no session named "${name}"`, "name one of the plan's sessions in `via`"));
    return ok(s);
  }
}

const stoppedError = () => new FwdError("E_CLOSED", "stopped while starting", "a signal arrived before every forward was up");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
