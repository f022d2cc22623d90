// One SSH session as the engine sees it: a named route to a server that forwards borrow a live link
// from, kept up by reconnecting with backoff. Every state change is an event with the time since
// the last one; a session that cannot come back (auth, host key, retries spent) fails with the reason.

import { FwdError, fail, ok, type Result } from "../errors.ts";
import { backoffDelay, type ReconnectPolicy } from "./backoff.ts";
import type { EventBus, SessionState } from "./events.ts";
import type { Connect, Link, NegotiatedAlgorithms } from "./link.ts";

export interface SessionOptions {
  name: string;
  /** What logs and pages call it, e.g. `deploy@a.example.com:22`. */
  host: string;
  connect: Connect;
  bus: EventBus;
  reconnect: ReconnectPolicy;
}

export interface SessionChange {
  state: SessionState;
  at: number;
  reason?: string;
}

/** Errors that another attempt cannot fix: retrying them would only hide the reason. */
const PERMANENT = new Set(["E_AUTH", "E_HOSTKEY", "E_CONFIG"]);
const HISTORY = 50;

export class Session {
  state: SessionState = "connecting";
  lastError: FwdError | undefined;
  /** Reconnect attempts since the session was last stable. */
  attempt = 0;
  /** Successful reconnects since start. */
  reconnects = 0;
  /** When the current state began. */
  since = Date.now();
  nextAttemptAt: number | undefined;
  readonly history: SessionChange[] = [];
  private link: Link | undefined;
  private changedAt = Date.now();
  private lostAt: number | undefined;
  private waiters = new Set<(l: Result<Link>) => void>();
  private linkListeners = new Set<(l: Link) => void>();
  private wake: (() => void) | undefined;
  private stableTimer: ReturnType<typeof setTimeout> | undefined;
  private failedResolve!: (e: FwdError) => void;
  /** Aborts the connection attempt in flight, so a stop does not wait for ConnectTimeout. */
  private attemptAbort: AbortController | undefined;
  /** Resolves once the session has given up for good. */
  readonly failed = new Promise<FwdError>((r) => (this.failedResolve = r));

  constructor(private readonly opts: SessionOptions) {}

  get name(): string {
    return this.opts.name;
  }

  get host(): string {
    return this.opts.host;
  }

  /** Called with every new link, the first included (remote forwards are requested again on each). */
  onLink(fn: (l: Link) => void): void {
    this.linkListeners.add(fn);
  }

  /**
   * The first connection. A failure here is returned, not retried — the user is still watching —
   * unless `keepTrying` (one exit of a pool being down must not stop the others).
   */
  async start(keepTrying = false): Promise<Result<Link>> {
    this.setState("connecting");
    const r = await this.connectOnce();
    if (this.state === "closed") {
      if (r.ok) r.value.close();
      return fail(closedError(this.opts.host));
    }
    if (!r.ok) {
      this.lastError = r.error;
      if (keepTrying && !PERMANENT.has(r.error.code) && this.opts.reconnect.enabled) {
        this.lostAt = Date.now();
        void this.reconnect();
      } else this.giveUp(r.error);
      return r;
    }
    this.adopt(r.value);
    return r;
  }

  get rttMs(): number | undefined {
    return this.link?.rttMs;
  }

  get algorithms(): NegotiatedAlgorithms | undefined {
    return this.link?.algorithms;
  }

  /** The live link, or a wait of at most `timeoutMs` for one. */
  acquire(timeoutMs: number): Promise<Result<Link>> {
    if (this.link) return Promise.resolve(ok(this.link));
    if (this.state === "closed" || this.state === "failed") return Promise.resolve(fail(this.lastError ?? closedError(this.opts.host)));
    return new Promise((resolve) => {
      const done = (r: Result<Link>) => {
        clearTimeout(timer);
        this.waiters.delete(done);
        resolve(r);
      };
      const timer = setTimeout(() => done(fail(this.unavailable())), timeoutMs);
      this.waiters.add(done);
    });
  }

  /** SIGHUP: a waiting reconnect goes now; a live session is replaced by a fresh one. */
  retryNow(): void {
    if (this.wake) return this.wake();
    if (this.link) {
      this.attempt = 0;
      this.link.close();
    }
  }

  close(): void {
    this.setState("closed");
    this.attemptAbort?.abort();
    clearTimeout(this.stableTimer);
    this.wake?.();
    this.flush(fail(closedError(this.opts.host)));
    const link = this.link;
    this.link = undefined;
    link?.close();
  }

  private adopt(link: Link): void {
    this.link = link;
    this.nextAttemptAt = undefined;
    if (this.lostAt) this.reconnects++;
    this.setState("up", undefined, this.lostAt ? { downMs: Date.now() - this.lostAt } : {});
    this.lostAt = undefined;
    this.stableTimer = setTimeout(() => (this.attempt = 0), this.opts.reconnect.stableAfterMs);
    this.stableTimer.unref?.();
    this.flush(ok(link));
    for (const fn of this.linkListeners) fn(link);
    void link.ended.then((err) => {
      if (this.link !== link) return;
      this.link = undefined;
      clearTimeout(this.stableTimer);
      if (this.state === "closed") return;
      this.lostAt = Date.now();
      this.lastError = err ?? new FwdError("E_CLOSED", `${this.opts.host}: connection closed`, "it will be reopened");
      if (!this.opts.reconnect.enabled) return this.giveUp(this.lastError);
      void this.reconnect();
    });
  }

  private async reconnect(): Promise<void> {
    const p = this.opts.reconnect;
    for (;;) {
      this.attempt++;
      if (this.attempt > p.maxRetries) {
        const e = this.lastError!;
        return this.giveUp(new FwdError(e.code, `${e.message} (gave up after ${p.maxRetries} attempt${p.maxRetries === 1 ? "" : "s"})`, e.hint, { cause: e, ...(e.reason ? { reason: e.reason } : {}) }));
      }
      const delay = backoffDelay(this.attempt, p);
      this.nextAttemptAt = Date.now() + delay;
      this.setState("reconnecting", this.lastError?.message, { attempt: this.attempt, nextInMs: delay });
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => this.wake?.(), delay);
        this.wake = () => {
          clearTimeout(timer);
          this.wake = undefined;
          resolve();
        };
      });
      if (this.closed) return;
      const r = await this.connectOnce();
      if (this.closed) {
        if (r.ok) r.value.close();
        return;
      }
      if (r.ok) return this.adopt(r.value);
      this.lastError = r.error;
      if (PERMANENT.has(r.error.code)) return this.giveUp(r.error);
    }
  }

  /** One connection attempt that close() can abort. */
  private async connectOnce(): Promise<Result<Link>> {
    const ac = new AbortController();
    this.attemptAbort = ac;
    try {
      return await this.opts.connect(ac.signal);
    } finally {
      if (this.attemptAbort === ac) this.attemptAbort = undefined;
    }
  }

  /** A getter, so TypeScript does not narrow it away across awaits. */
  private get closed(): boolean {
    return this.state === "closed";
  }

  private giveUp(e: FwdError): void {
    this.lastError = e;
    this.setState("failed", e.message);
    this.flush(fail(e));
    this.failedResolve(e);
  }

  private unavailable(): FwdError {
    const why = this.lastError ? ` (${this.lastError.message})` : "";
    return new FwdError("E_CLOSED", `${this.opts.host}: no live session${why}`, "fwd is reconnecting; try again shortly", { reason: "no-session" });
  }

  private flush(r: Result<Link>): void {
    for (const w of [...this.waiters]) w(r);
  }

  private setState(state: SessionState, reason?: string, extra: { attempt?: number; nextInMs?: number; downMs?: number } = {}): void {
    const now = Date.now();
    const sinceMs = now - this.changedAt;
    this.changedAt = now;
    this.since = now;
    this.state = state;
    this.history.push({ state, at: now, ...(reason ? { reason } : {}) });
    if (this.history.length > HISTORY) this.history.shift();
    this.opts.bus.emit({
      type: "session",
      session: this.opts.name,
      state,
      host: this.opts.host,
      sinceMs,
      ...(reason ? { reason } : {}),
      ...extra,
    });
  }
}

const closedError = (host: string) =>
  new FwdError("E_CLOSED", `${host}: session is closed`, "fwd is stopping", { reason: "no-session" });
