// -D: a SOCKS proxy on this machine whose connections leave from the SSH server. Who may use it is
// decided before a byte of SOCKS is read (allow-list), and slow or broken clients cost little: a
// deadline per handshake (the channel's opening included) and a cap on how many are in progress, in
// all and per client (per local user from loopback or this machine's own addresses), with a short
// queue in front.

import net from "node:net";
import { FwdError, fail, ok, type Result } from "../errors.ts";
import { serveSocks } from "../socks/server.ts";
import { pacFile, pacHostOk } from "../socks/pac.ts";
import { Carrier, type ForwardRuntime } from "./carrier.ts";
import type { Forwarder, ForwardKindModule } from "./forwarder.ts";
import { openProxy } from "./open-proxy.ts";
import { snapshotOf, type ForwardSnapshot } from "./snapshot.ts";
import { allowList, cidrProblem } from "../vocab/cidr.ts";
import { clientKey, HandshakeGate, UNKNOWN_CLIENT, type ClientKey, type GateLimits } from "./handshake-gate.ts";
import { Listener } from "./listener.ts";
import { makePicker, type PickKey } from "./pick.ts";
import type { Session } from "./session.ts";
import { countFailure } from "./stats.ts";
import { formatEndpoint, isLoopback, type Endpoint, type TcpEndpoint } from "../vocab/endpoint.ts";
import { clientOrigin } from "../route/local-client.ts";
import { CLIENT_GONE, prepareSocketOwner } from "../route/socket-owner.ts";
import type { DynamicForward } from "../vocab/forward.ts";

export interface SocksLimits extends GateLimits {
  /** From a client's first byte to the SOCKS reply, the channel's opening included. */
  handshakeMs: number;
}

/**
 * 64 per client: twice what Chromium opens to one proxy at most, so a browser is never queued by
 * itself, nor a tool with 50 connections at a time (at 32 such a load was queued: lab, 5,000 SOCKS5
 * connections 50 at a time, 5,900–7,650 → 6,370–8,070 connections/s and ~6 CPU µs less each, three
 * rounds), while one client still holds at most a quarter of the 256.
 * FWD_TEST_SOCKS_LIMITS ("handshakeMs=2000,perClient=2") lowers them for the test suite only: it is
 * not a user setting and is not documented as one.
 */
export const SOCKS_LIMITS: SocksLimits = limitsFrom(process.env.FWD_TEST_SOCKS_LIMITS, { handshakeMs: 10_000, total: 256, perClient: 64, queueMs: 3_000 });

function limitsFrom(spec: string | undefined, defaults: SocksLimits): SocksLimits {
  const out = { ...defaults };
  for (const part of spec ? spec.split(",") : []) {
    const [k, v] = part.split("=");
    if (k && k in out && /^\d+$/.test(v ?? "") && Number(v) > 0) out[k as keyof SocksLimits] = Number(v);
  }
  return out;
}

/** Per exit (session) of a pooled proxy: what it carried. */
export interface ExitStats {
  open: number;
  total: number;
  bytesUp: number;
  bytesDown: number;
}

/** Which session a new connection leaves through; undefined when none is up (a pool, all down). */
export type SessionChoice = (key: PickKey) => Session | undefined;

export const dynamicKind: ForwardKindModule<DynamicForward> = {
  validate: (spec) => {
    // A plan is code: its allow-list need not have come through the CLI's check. An entry the
    // matcher cannot read would be dropped without a word, and one with a zone would admit its
    // prefix on every link.
    for (const c of spec.socks.allow) {
      const problem = cidrProblem(c);
      if (problem) return new FwdError("E_CONFIG", `${spec.id}: allow '${c}': ${problem}`, "e.g. 192.168.1.0/24, 10.0.0.7, fd00::/8");
    }
    return !isLoopback(spec.bind) && !spec.socks.auth && spec.socks.allow.length === 0
      ? openProxy(spec.id, "here", "give it an allow-list of the machines that may use it (--allow CIDR, or socks.allow in a plan), or a password (--socks-user with --socks-password-file)")
      : undefined;
  },
  /** On one session, or on a pool of them with a picker choosing per connection. */
  create: (spec, ctx) => {
    const via = spec.via;
    if (via === undefined || typeof via === "string") return ok(new DynamicForwarder(spec, () => ctx.session, ctx.rt));
    const members = via.pool.map((n) => ctx.sessionNamed(n));
    if (members.some((m) => m === undefined)) return fail(new FwdError("E_CONFIG", `${spec.id}: its pool names a session the plan does not have`, "list only the plan's sessions in via.pool"));
    let forwarder: DynamicForwarder | undefined;
    const picker = makePicker(members as Session[], via, (name) => forwarder?.openOn(name) ?? 0);
    forwarder = new DynamicForwarder(spec, picker, ctx.rt, () => picker.stop());
    return ok(forwarder);
  },
};

export class DynamicForwarder extends Carrier implements Forwarder {
  private readonly listener: Listener;
  private readonly allowed: ((address: string) => boolean) | undefined;
  private readonly gate = new HandshakeGate(SOCKS_LIMITS);
  private saidNoOwner = false;
  private saidNoRoute = false;
  readonly exits = new Map<string, ExitStats>();

  constructor(
    readonly spec: DynamicForward,
    private readonly choose: SessionChoice,
    rt: ForwardRuntime,
    /** A pool's picker stops here (its rotation timer). */
    private readonly release: () => void = () => {},
  ) {
    super(spec.id, rt);
    this.listener = new Listener(spec.id, spec.bind, rt.bus, (s) => void this.accept(s));
    this.allowed = spec.socks.allow.length ? allowList(spec.socks.allow) : undefined;
  }

  get bound(): Endpoint | undefined {
    return this.listener.bound;
  }

  async start(): Promise<Result<Endpoint>> {
    // Before the first client: the gate's owner lookups cannot wait for libc to load (quotaKey).
    const lookups = await prepareSocketOwner();
    if (!lookups.ok) this.noOwner(lookups.error);
    const r = await this.listener.listen();
    if (r.ok) this.rt.bus.emit({ type: "listening", forward: this.id, side: "local", bind: r.value, via: "socks" });
    return r;
  }

  stop(): void {
    this.listener.close();
  }

  close(): void {
    this.stop();
    this.release();
  }

  snapshot(): ForwardSnapshot {
    const pooled = typeof this.spec.via === "object";
    return { ...snapshotOf(this, this.spec, this.bound), ...(pooled ? { exits: Object.fromEntries([...this.exits].map(([k, v]) => [k, { ...v }])) } : {}) };
  }

  /** Open connections through one exit, for least-connections. */
  openOn(session: string): number {
    return this.exits.get(session)?.open ?? 0;
  }

  private exitStats(session: string): ExitStats {
    let s = this.exits.get(session);
    if (!s) this.exits.set(session, (s = { open: 0, total: 0, bytesUp: 0, bytesDown: 0 }));
    return s;
  }

  /**
   * A local client counts against its local user's quota (route/local-client.ts): by address, another
   * local user on 127.0.0.2, 127.0.0.3, … would be as many clients, and every user on 127.0.0.1 one.
   * Local means from loopback or from any other address the kernel delivers here: with a proxy bound
   * beyond loopback and an allow-list that takes in the machine's own addresses, those are anyone's
   * to bind too. Where the owner cannot be found (not Linux, not Bun, the client already gone, or the
   * kernel's answer late) all such clients share one quota (ownerKey); where the routing cannot be
   * asked (not Linux, not Bun), only loopback clients are known to be local. Any other client is
   * counted by its address. A function: the gate asks only once enough handshakes are in progress
   * for the quota to matter (handshake-gate.ts), so a lightly used proxy makes no request at all.
   */
  private quotaKey(socket: net.Socket, address: string): ClientKey {
    return () => {
      const origin = clientOrigin(socket, address);
      if (!origin.ok) this.noRoute(origin.error);
      if (!origin.ok || !origin.value.local) return clientKey(address);
      const owner = origin.value.owner;
      if (owner.ok) return clientKey(address, owner.value);
      // Its process has closed the client's socket (a FIN the paused reader has not seen yet), or the
      // kernel has no such socket: nobody will read a reply. Ended now rather than held to the
      // handshake's deadline on a shared quota — else closing sockets would be a way to more slots.
      if (owner.error.reason === CLIENT_GONE) socket.destroy();
      return this.ownerKey(owner);
    };
  }

  /**
   * A local client whose owner is not found shares one quota with every other such client, not
   * its address's: the gate may look the owner up well after the accept, and a client that has made
   * its socket unfindable by then (closed by its process, a FIN still unread) must not get a fresh
   * quota per loopback or own address — 127.0.0.2, 127.0.0.3, … are anyone's to take.
   */
  private ownerKey(owner: Result<number> & { ok: false }): string {
    this.noOwner(owner.error);
    return UNKNOWN_CLIENT;
  }

  /** Without the kernel's routing, a client from one of this machine's own addresses is counted by that address. */
  private noRoute(e: FwdError): void {
    if (this.saidNoRoute) return;
    this.saidNoRoute = true;
    this.rt.bus.log("debug", `${this.id}: clients from this machine's own addresses are counted by address (said once): ${e.message}`);
  }

  private noOwner(e: FwdError): void {
    if (this.saidNoOwner) return;
    this.saidNoOwner = true;
    this.rt.bus.log("debug", `${this.id}: local clients whose user is not found share one quota (said once): ${e.message}`);
  }

  private async accept(socket: net.Socket): Promise<void> {
    const address = socket.remoteAddress ?? "";
    if (this.allowed && !this.allowed(address)) {
      this.refuse(new FwdError("E_CHANNEL", `${this.id}: ${address} is not in the allow-list`, "add its network with --allow CIDR", { reason: "not-allowed" }));
      socket.destroy();
      return;
    }
    const where = `${address}:${socket.remotePort}`;
    // A queued socket is not read, so a client hanging up there is seen once it has a slot (and then at
    // once); the queue's wait is short and its length bounded, so such a ghost costs little.
    // Neither the owner nor a free slot is a promise on the common path: each await is a turn of the microtask queue.
    const entered = this.gate.enter(this.quotaKey(socket, address), () =>
      this.rt.bus.log("debug", `${this.id}: ${where}: waiting for a handshake slot (at most ${SOCKS_LIMITS.perClient} per client, ${SOCKS_LIMITS.total} in all)`),
    );
    const release = entered instanceof Promise ? await entered : entered;
    // Gone while it waited for the slot (reset, or ended by the owner lookup as gone): the slot goes
    // straight to the next in line, not held to a handshake that can never happen.
    if (release && socket.destroyed) return release();
    if (!release) {
      countFailure(this.stats, "busy");
      this.rt.bus.log("debug", `${this.id}: ${where}: no handshake slot free (the queue is full, or ${SOCKS_LIMITS.queueMs / 1000} s passed); closed`);
      // Read what the client sent before closing: unread bytes would make the close a reset.
      socket.resume();
      socket.once("finish", () => socket.destroy());
      socket.end();
      return;
    }
    const origin = { host: address || "127.0.0.1", port: socket.remotePort ?? 0 };
    const port = (this.listener.bound as TcpEndpoint).port;
    let exit: Session | undefined;
    const outcome = await serveSocks(
      socket,
      {
        name: this.id,
        ...(this.spec.socks.auth ? { auth: this.spec.socks.auth } : {}),
        timeoutMs: SOCKS_LIMITS.handshakeMs,
        // The PAC names the address the browser reached us on: a LAN client must not be sent to its own loopback.
        ...(this.spec.socks.pac
          ? {
              pac: {
                body: () => pacFile({ host: socket.localAddress ?? "127.0.0.1", port }, this.spec.socks.pac!.domains),
                hostOk: (host: string) => pacHostOk(host, { local: socket.localAddress, bind: this.spec.bind.host, port }),
              },
            }
          : {}),
      },
      async (target, signal) => {
        // Made only when needed: an Error's stack is captured as it is made, for every connection otherwise.
        const givenUp = () => fail(new FwdError("E_CHANNEL", `${this.id}: open ${formatEndpoint(target)}: given up`, "the client left, or the handshake's deadline passed", { reason: "timeout" }));
        exit = this.choose({ client: address, host: target.host });
        if (!exit) return fail(new FwdError("E_CLOSED", `${this.id}: no exit is up`, "every SSH server of the pool is down; fwd keeps reconnecting", { reason: "no-session" }));
        // Counted from the choice on, so a burst of connections spreads under least-connections.
        const stats = this.exitStats(exit.name);
        stats.open++;
        const link = await exit.acquire(this.rt.acquireTimeoutMs);
        const r = !link.ok ? link : signal.aborted ? givenUp() : await link.value.open(target, origin);
        // Given up on (deadline, or the client left): a channel that opened late is closed, not counted.
        if (r.ok && signal.aborted) r.value.destroy();
        if (!r.ok || signal.aborted) stats.open--;
        return signal.aborted ? givenUp() : r;
      },
    ).finally(release);
    switch (outcome.kind) {
      case "connected": {
        if (socket.destroyed) {
          this.exitStats(exit!.name).open--;
          return void outcome.upstream.destroy();
        }
        const stats = this.exitStats(exit!.name);
        stats.total++;
        const moved = await this.carry(socket, outcome.upstream, `${address}:${socket.remotePort}`, formatEndpoint(outcome.target));
        stats.open--;
        stats.bytesUp += moved.up;
        stats.bytesDown += moved.down;
        return;
      }
      case "failed":
        return this.refuse(outcome.error);
      case "rejected":
        countFailure(this.stats, "bad-request");
        this.rt.bus.log("debug", `${this.id}: ${address}:${socket.remotePort}: ${outcome.why}`);
        return;
      case "pac":
        return;
    }
  }
}
