// Admission to a SOCKS handshake: at most `total` in progress, at most `perClient` of them from one
// client (an address, or a local user: see clientKey), so one client (or one target that never
// answers) cannot take every slot. Over a limit a connection waits briefly in a queue instead of
// being reset; the queue is bounded the same way.

import { ipv6Groups } from "../vocab/cidr.ts";

export interface GateLimits {
  /** Handshakes in progress at once, all clients together. */
  total: number;
  /** Handshakes in progress at once from one client (an address, or a local user). */
  perClient: number;
  /** How long a connection over a limit waits for a slot before it is closed. */
  queueMs: number;
}

/** Frees the slot; calling it again does nothing. */
export type Release = () => void;

/**
 * A client's key, or how to find it (for a local client a sock_diag request, ~8 % of a SOCKS5
 * connection's CPU): found only once the gate is busy enough for keys to matter, see enter().
 */
export type ClientKey = string | (() => string);

/** A handshake in progress: its client's key, or (taken before it was needed) how to find it. */
interface Slot {
  key?: string;
  find?: () => string;
}

interface Waiter {
  key: string;
  grant: (r: Release | undefined) => void;
}

/**
 * The key of every client whose own cannot be found (a local client whose owner the kernel does not
 * name, or a finder that throws, which none should): one shared quota, never a fresh one.
 */
export const UNKNOWN_CLIENT = "client not known";

function findKey(find: () => string): string {
  try {
    return find();
  } catch {
    return UNKNOWN_CLIENT;
  }
}

export class HandshakeGate {
  private active = 0;
  private readonly perKey = new Map<string, number>();
  private readonly queue: Waiter[] = [];
  private readonly queuedPerKey = new Map<string, number>();
  /** Slots in progress whose key is not known yet (each counted in `active`, none in `perKey`). */
  private readonly unkeyed = new Set<Slot>();

  constructor(private readonly limits: GateLimits) {}

  /** Handshakes in progress, and waiting (for the status of a test or a log line). */
  get inProgress(): number {
    return this.active;
  }

  /**
   * A slot for a handshake from `clientKey` (see clientKey(), or a function that finds it): at once
   * when there is room (the Release itself, no promise to wait for), after a wait in the queue
   * otherwise. Undefined when the queue is full for this client or the wait ran out.
   */
  enter(clientKey: ClientKey, onQueued?: () => void): Release | Promise<Release | undefined> | undefined {
    // With fewer than perClient - 1 in progress and nobody waiting, this one cannot bring any client
    // to its quota, whoever it is: its key is not needed yet. Once that many are in progress, every
    // key is found (keyed()) before anything is decided, so the quotas count exactly as if all had been.
    if (typeof clientKey === "function" && this.active < this.limits.perClient - 1 && this.active < this.limits.total && this.queue.length === 0) {
      return this.takeUnkeyed(clientKey);
    }
    this.keyed();
    const key = typeof clientKey === "function" ? findKey(clientKey) : clientKey;
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
    this.perKey.set(key, (this.perKey.get(key) ?? 0) + 1);
    return this.hold({ key });
  }

  private takeUnkeyed(find: () => string): Release {
    const slot: Slot = { find };
    this.unkeyed.add(slot);
    return this.hold(slot);
  }

  private hold(slot: Slot): Release {
    this.active++;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.active--;
      if (slot.key === undefined) this.unkeyed.delete(slot);
      else {
        const n = this.perKey.get(slot.key)! - 1;
        if (n === 0) this.perKey.delete(slot.key);
        else this.perKey.set(slot.key, n);
      }
      this.wakeNext();
    };
  }

  /** Finds the key of every slot taken without one, and counts each under it from now on. */
  private keyed(): void {
    for (const slot of this.unkeyed) {
      // Out of the set first: whatever find() does, the slot is counted once, under one key.
      this.unkeyed.delete(slot);
      slot.key = findKey(slot.find!);
      this.perKey.set(slot.key, (this.perKey.get(slot.key) ?? 0) + 1);
    }
  }

  /** The first waiter, in arrival order, whose client has room now: a busy client cannot hold up others. */
  private wakeNext(): void {
    if (this.queue.length === 0) return;
    this.keyed();
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
 * Whose quota a connection counts against: for a local client (from loopback or this machine's own
 * addresses) the local user who owns the client's socket (`owner`, its uid) when that is known, since
 * any local user may take any of those addresses; otherwise IPv4 (mapped or not) by address, IPv6 by
 * /64, since one host commonly holds a whole /64.
 */
export function clientKey(address: string, owner?: number): string {
  if (owner !== undefined) return `uid ${owner}`;
  const v4 = address.startsWith("::ffff:") ? address.slice(7) : address;
  if (!v4.includes(":")) return v4;
  const groups = ipv6Groups(address);
  if (!groups) return address;
  return `${groups.slice(0, 4).map((g) => g.toString(16)).join(":")}::/64`;
}
