// Admission to a SOCKS handshake: at most `total` in progress, at most `perClient` of them from one
// client (an address, or a local user on loopback: see clientKey), so one client (or one target that never answers) cannot take every slot. Over a
// limit a connection waits briefly in a queue instead of being reset; the queue is bounded the same way.

import { ipv6Groups } from "../vocab/cidr.ts";

export interface GateLimits {
  /** Handshakes in progress at once, all clients together. */
  total: number;
  /** Handshakes in progress at once from one client address. */
  perClient: number;
  /** How long a connection over a limit waits for a slot before it is closed. */
  queueMs: number;
}

/** Frees the slot; calling it again does nothing. */
export type Release = () => void;

interface Waiter {
  key: string;
  grant: (r: Release | undefined) => void;
}

export class HandshakeGate {
  private active = 0;
  private readonly perKey = new Map<string, number>();
  private readonly queue: Waiter[] = [];
  private readonly queuedPerKey = new Map<string, number>();

  constructor(private readonly limits: GateLimits) {}

  /** Handshakes in progress, and waiting (for the status of a test or a log line). */
  get inProgress(): number {
    return this.active;
  }

  /**
   * A slot for a handshake from `key` (the client address): at once when there is room (the Release
   * itself, no promise to wait for), after a wait in the queue otherwise. Undefined when the queue is
   * full for this client or the wait ran out.
   */
  enter(key: string, onQueued?: () => void): Release | Promise<Release | undefined> | undefined {
    if (this.hasRoom(key)) return this.take(key);
    // The queue holds at most as many as may be in progress, per client and in all: waiting is bounded too.
    if (this.queue.length >= this.limits.total || (this.queuedPerKey.get(key) ?? 0) >= this.limits.perClient) return undefined;
    return new Promise((resolve) => {
      const w: Waiter = {
        key,
        grant: (r) => {
          clearTimeout(timer);
          this.unqueue(w);
          resolve(r);
        },
      };
      const timer = setTimeout(() => w.grant(undefined), this.limits.queueMs);
      this.queue.push(w);
      this.queuedPerKey.set(key, (this.queuedPerKey.get(key) ?? 0) + 1);
      onQueued?.();
    });
  }

  private hasRoom(key: string): boolean {
    return this.active < this.limits.total && (this.perKey.get(key) ?? 0) < this.limits.perClient;
  }

  private take(key: string): Release {
    this.active++;
    this.perKey.set(key, (this.perKey.get(key) ?? 0) + 1);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.active--;
      const n = this.perKey.get(key)! - 1;
      if (n === 0) this.perKey.delete(key);
      else this.perKey.set(key, n);
      this.wakeNext();
    };
  }

  /** The first waiter, in arrival order, whose client has room now: a busy client cannot hold up others. */
  private wakeNext(): void {
    const w = this.queue.find((q) => this.hasRoom(q.key));
    if (w) w.grant(this.take(w.key));
  }

  private unqueue(w: Waiter): void {
    const i = this.queue.indexOf(w);
    if (i < 0) return;
    this.queue.splice(i, 1);
    const n = this.queuedPerKey.get(w.key)! - 1;
    if (n === 0) this.queuedPerKey.delete(w.key);
    else this.queuedPerKey.set(w.key, n);
  }
}

/**
 * Whose quota a connection counts against: on loopback the local user who owns the client's socket
 * (`owner`, its uid) when that is known, since every address of 127.0.0.0/8 is this machine's and any
 * local user may take any of them; otherwise IPv4 (mapped or not) by address, IPv6 by /64, since one
 * host commonly holds a whole /64.
 */
export function clientKey(address: string, owner?: number): string {
  if (owner !== undefined) return `uid ${owner}`;
  const v4 = address.startsWith("::ffff:") ? address.slice(7) : address;
  if (!v4.includes(":")) return v4;
  const groups = ipv6Groups(address);
  if (!groups) return address;
  return `${groups.slice(0, 4).map((g) => g.toString(16)).join(":")}::/64`;
}
