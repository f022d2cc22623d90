// One SSH session as the engine sees it: a named route to a server that forwards borrow a live link
// from. Connection attempts and their state changes are told on the event bus.

import { FwdError, fail, type Result } from "../errors.ts";
import type { EventBus, SessionState } from "./events.ts";
import type { Connect, Link } from "./link.ts";

export interface SessionOptions {
  name: string;
  /** What logs and pages call it, e.g. `deploy@a.example.com:22`. */
  host: string;
  connect: Connect;
  bus: EventBus;
}

export class Session {
  state: SessionState = "down";
  private link: Link | undefined;
  private changedAt = Date.now();
  private waiters = new Set<(l: Result<Link>) => void>();
  /** Set once the session went down for a reason other than close(). */
  lastError: FwdError | undefined;

  constructor(private readonly opts: SessionOptions) {}

  get name(): string {
    return this.opts.name;
  }

  /** Connects once; on success the link is live until it ends or close() is called. */
  async start(): Promise<Result<Link>> {
    this.setState("connecting");
    const r = await this.opts.connect();
    if (!r.ok) {
      this.lastError = r.error;
      this.setState("down", r.error.message);
      this.flush(r);
      return r;
    }
    const link = r.value;
    this.link = link;
    this.setState("up");
    this.flush(r);
    void link.ended.then((err) => {
      if (this.link !== link) return;
      this.link = undefined;
      if (err) this.lastError = err;
      this.setState(this.state === "closed" ? "closed" : "down", err?.message);
    });
    return r;
  }

  /** The live link, or a wait of at most `timeoutMs` for one. */
  acquire(timeoutMs: number): Promise<Result<Link>> {
    if (this.link) return Promise.resolve({ ok: true, value: this.link });
    if (this.state === "closed") return Promise.resolve(fail(closedError(this.opts.host)));
    return new Promise((resolve) => {
      const done = (r: Result<Link>) => {
        clearTimeout(timer);
        this.waiters.delete(done);
        resolve(r);
      };
      const timer = setTimeout(
        () => done(fail(this.lastError ?? closedError(this.opts.host))),
        timeoutMs,
      );
      this.waiters.add(done);
    });
  }

  close(): void {
    this.setState("closed");
    this.flush(fail(closedError(this.opts.host)));
    this.link?.close();
  }

  private flush(r: Result<Link>): void {
    for (const w of [...this.waiters]) w(r);
  }

  private setState(state: SessionState, reason?: string): void {
    const now = Date.now();
    const sinceMs = now - this.changedAt;
    this.changedAt = now;
    this.state = state;
    this.opts.bus.emit({
      type: "session",
      session: this.opts.name,
      state,
      host: this.opts.host,
      sinceMs,
      ...(reason ? { reason } : {}),
    });
  }
}

const closedError = (host: string) =>
  new FwdError("E_CLOSED", `${host}: session is not connected`, "check the log above for why it ended");
