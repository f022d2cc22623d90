// The engine: sessions plus the forwards they carry, started and stopped as one. It knows nothing of
// argv, ssh2 or plugins: callers hand it a plan (named sessions with a connect function, forwards as
// data) and read its events and snapshots.

import { FwdError, fail, ok, type Result } from "../errors.ts";
import { backoffDelay, DEFAULT_RECONNECT, type ReconnectPolicy } from "./backoff.ts";
import type { ForwardRuntime } from "./carrier.ts";
import { connectionSlots, DEFAULT_MAX_CONNECTIONS, fitToOpenFileLimit } from "./connections.ts";
import { DynamicForwarder } from "./dynamic-forward.ts";
import { makePicker, type Picker } from "./pick.ts";
import { EventBus } from "./events.ts";
import type { Connect, Link } from "./link.ts";
import { LocalForwarder } from "./local-forward.ts";
import { RemoteForwarder } from "./remote-forward.ts";
import { RouteForwarder } from "./route-forward.ts";
import { Session } from "./session.ts";
import { snapshotOf, type EngineSnapshot } from "./snapshot.ts";
import type { DynamicForward, ForwardSpec } from "../vocab/forward.ts";
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

type Forwarder = LocalForwarder | DynamicForwarder | RemoteForwarder | RouteForwarder;

export class Engine {
  readonly bus = new EventBus();
  private sessions = new Map<string, Session>();
  private forwarders: Forwarder[] = [];
  private stopping = false;
  private started = false;
  /** A pooled -D's picker, by forward id (its rotation timer stops with the forward). */
  private pickers = new Map<string, Picker>();
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
    const rt = { bus: this.bus, acquireTimeoutMs: this.opts.acquireTimeoutMs };
    const f =
      spec.kind === "local"
        ? new LocalForwarder(spec, session.value, rt)
        : spec.kind === "dynamic"
          ? this.dynamic(spec, session.value, rt)
          : spec.kind === "route"
            ? new RouteForwarder(spec, session.value, rt)
            : new RemoteForwarder(spec, rt);
    if (!f) return fail(new FwdError("E_CONFIG", `${spec.id}: its pool names a session the plan does not have`, "list only the plan's sessions in via.pool"));
    const link = links.get(session.value.name);
    if (f instanceof RemoteForwarder && !link) {
      // Its session is still trying: the listen is requested when it connects (attachLink).
      this.forwarders.push(f);
      return ok(undefined);
    }
    const r = f instanceof RemoteForwarder ? await f.start(link!) : await f.start();
    if (this.stopping) {
      if (!(f instanceof RemoteForwarder)) f.stopAccepting();
      return fail(stoppedError());
    }
    if (!r.ok) {
      this.pickers.get(spec.id)?.stop();
      this.pickers.delete(spec.id);
      return r;
    }
    this.forwarders.push(f);
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
    const session = this.sessionFor(spec);
    if (!session.ok) return session;
    const links = new Map<string, Link>();
    // A -R asks the server now if the session is up; otherwise when it connects.
    const live = spec.kind === "remote" ? await session.value.acquire(0) : undefined;
    if (live?.ok) links.set(session.value.name, live.value);
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
    this.pickers.get(id)?.stop();
    this.pickers.delete(id);
    if (f instanceof RemoteForwarder) {
      f.stopped = true;
      const s = this.sessions.get(typeof f.spec.via === "string" ? f.spec.via : (this.firstSession ?? ""));
      const bound = f.bound;
      if (bound && s)
        void s.acquire(0).then((l) => {
          if (l.ok) void l.value.unlisten?.(bound);
        });
    } else f.stopAccepting();
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
    if (f instanceof RemoteForwarder) f.stopped = true;
    else f.stopAccepting();
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
      const f = this.remotesOf(session).find((x) => x.matches(c.bind));
      if (f) void f.handle(c);
      else c.reject();
    });
    if (this.started) for (const f of this.remotesOf(session)) void this.relisten(f, link, 1);
  }

  /** A server that still holds the old port (a stale session) frees it eventually: retry until then. */
  private async relisten(f: RemoteForwarder, link: Link, attempt: number): Promise<void> {
    let gone = false;
    void link.ended.then(() => (gone = true));
    const r = await f.start(link);
    if (r.ok || gone || this.stopping) return;
    const delay = backoffDelay(attempt, this.opts.reconnect ?? DEFAULT_RECONNECT);
    this.bus.log("warn", `${r.error.message}; retrying in ${(delay / 1000).toFixed(1)}s (a stale session on the server may still hold it)`, r.error.hint);
    await sleep(delay);
    if (!gone && !this.stopping) return this.relisten(f, link, attempt + 1);
  }

  private remotesOf(session: Session): RemoteForwarder[] {
    return this.forwarders.filter((x): x is RemoteForwarder => x instanceof RemoteForwarder && (x.spec.via ?? this.firstSession) === session.name);
  }

  /** Stops accepting, gives open connections `graceMs` to finish, then cuts the rest and disconnects. */
  /** `why` names the reason in the log (a signal); a stop without one is silent. */
  async stop(graceMs: number, why?: string): Promise<void> {
    this.stopping = true;
    for (const f of this.forwarders) if (!(f instanceof RemoteForwarder)) f.stopAccepting();
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
    for (const p of this.pickers.values()) p.stop();
    // No redirect may outlive the engine: it would send the routed networks' traffic nowhere.
    for (const f of this.forwarders) if (f instanceof RouteForwarder) f.removeRules();
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
      forwards: this.forwarders.map((f) => ({
        ...snapshotOf(f, f.spec, f.bound),
        ...(f instanceof DynamicForwarder && typeof f.spec.via === "object" ? { exits: Object.fromEntries([...f.exits].map(([k, v]) => [k, { ...v }])) } : {}),
      })),
    };
  }

  private openConnections(): number {
    return this.forwarders.reduce((n, f) => n + f.connections.size, 0);
  }

  private get firstSession(): string | undefined {
    return this.plan.sessions[0]?.name;
  }

  /** A -D on one session, or on a pool of them with a picker choosing per connection. */
  private dynamic(spec: DynamicForward, first: Session, rt: ForwardRuntime): DynamicForwarder | undefined {
    const via = spec.via;
    if (via === undefined || typeof via === "string") return new DynamicForwarder(spec, () => first, rt);
    const members = via.pool.map((n) => this.sessions.get(n));
    if (members.some((m) => m === undefined)) return undefined;
    let forwarder: DynamicForwarder | undefined;
    const picker = makePicker(members as Session[], via, (name) => forwarder?.openOn(name) ?? 0);
    this.pickers.set(spec.id, picker);
    forwarder = new DynamicForwarder(spec, picker, rt);
    return forwarder;
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
