// -R: the SSH server listens, and each connection it forwards back is carried to a target on this
// side — or, with no target, spoken to as SOCKS and connected from here (reverse dynamic forward).

import { FwdError, fail, ok, type Result } from "../errors.ts";
import { backoffDelay, type ReconnectPolicy } from "./backoff.ts";
import type { Forwarder, ForwardContext, ForwardKindModule } from "./forwarder.ts";
import { openProxy, targetProblem } from "./open-proxy.ts";
import { snapshotOf, type ForwardSnapshot } from "./snapshot.ts";
import { serveSocks } from "../socks/server.ts";
import { formatEndpoint, isLoopback, isLoopbackAddress, isUnix, type Endpoint, type TcpEndpoint } from "../vocab/endpoint.ts";
import { Carrier } from "./carrier.ts";
import { connectionSlots } from "./connections.ts";
import { dialLocal } from "./dial.ts";
import { SOCKS_LIMITS } from "./dynamic-forward.ts";
import type { Incoming, Link } from "./link.ts";
import { formatPermitOpen, permitsOpen } from "./permit-open.ts";
import { countFailure } from "./stats.ts";
import type { RemoteForward } from "../vocab/forward.ts";

export const remoteKind: ForwardKindModule<RemoteForward> = {
  // Reverse SOCKS beyond the server's loopback needs a password: sshd's GatewayPorts decides who reaches it.
  validate: (spec) =>
    spec.target
      ? targetProblem(spec.id, spec.target)
      : !isLoopback(spec.bind) && !spec.socks?.auth
        ? openProxy(spec.id, "on the server", "give it a password (--socks-user with --socks-password-file), or bind it to loopback on the server")
        : undefined,
  create: (spec, ctx) => ok(new RemoteForwarder(spec, ctx)),
};

export class RemoteForwarder extends Carrier implements Forwarder {
  /** What the server bound, as it reported it. */
  bound: Endpoint | undefined;
  /** Stopped by the user: the server may still listen, but its connections are refused. */
  private stopped = false;
  private closed = false;
  private readonly reconnect: ReconnectPolicy;

  constructor(
    readonly spec: RemoteForward,
    private readonly ctx: ForwardContext,
  ) {
    super(spec.id, ctx.rt);
    this.reconnect = ctx.reconnect;
  }

  /** Asks the server on `link` to listen; with no live link yet, when the session connects (relink). */
  async start(link: Link | undefined): Promise<Result<Endpoint | undefined>> {
    return link ? this.listen(link) : ok(undefined);
  }

  private async listen(link: Link): Promise<Result<Endpoint>> {
    const r = await link.listen(this.spec.bind);
    if (!r.ok) return r;
    this.bound = r.value;
    this.rt.bus.emit({
      type: "listening",
      forward: this.id,
      side: "server",
      bind: r.value,
      ...(this.spec.target ? { target: this.spec.target } : { via: "socks" as const }),
    });
    return r;
  }

  stop(): void {
    this.stopped = true;
  }

  /** Also asks the server to stop listening (cancel-tcpip-forward), as `ssh -O cancel`; best effort. */
  close(): void {
    this.stopped = this.closed = true;
    const bound = this.bound;
    if (bound)
      void this.ctx.session.acquire(0).then((l) => {
        if (l.ok) void l.value.unlisten?.(bound);
      });
  }

  snapshot(): ForwardSnapshot {
    return snapshotOf(this, this.spec, this.bound);
  }

  incoming(c: Incoming): boolean {
    if (c.x11 || !this.matches(c.bind)) return false;
    void this.handle(c);
    return true;
  }

  /** After a reconnect: the server is asked to listen again. */
  relink(link: Link): void {
    void this.relisten(link, 1);
  }

  /** A server that still holds the old port (a stale session) frees it eventually: retry until then. */
  private async relisten(link: Link, attempt: number): Promise<void> {
    let gone = false;
    void link.ended.then(() => (gone = true));
    const r = await this.listen(link);
    if (r.ok || gone || this.closed || this.ctx.stopping()) return;
    const delay = backoffDelay(attempt, this.reconnect);
    this.rt.bus.log("warn", `${r.error.message}; retrying in ${(delay / 1000).toFixed(1)}s (a stale session on the server may still hold it)`, r.error.hint);
    await new Promise((resolve) => setTimeout(resolve, delay));
    if (!gone && !this.closed && !this.ctx.stopping()) return this.relisten(link, attempt + 1);
  }

  /** Whether a forwarded connection arrived on this forward's server-side address. */
  private matches(at: Endpoint): boolean {
    const b = this.bound;
    if (!b) return false;
    if (isUnix(at) || isUnix(b)) return isUnix(at) && isUnix(b) && at.path === b.path;
    return at.port === b.port && at.host === b.host;
  }

  private async handle(c: Incoming): Promise<void> {
    if (this.stopped) return c.reject();
    if (!connectionSlots.take((m, hint) => this.rt.bus.log("warn", `${this.id}: ${m}`, hint))) return c.reject();
    try {
      await this.serve(c);
    } finally {
      connectionSlots.release();
    }
  }

  private async serve(c: Incoming): Promise<void> {
    const source = `${c.origin.host}:${c.origin.port} (on the server)`;
    const target = this.spec.target;
    if (target) {
      const local = await dialLocal(this.id, target);
      if (!local.ok) {
        c.reject();
        return this.refuse(local.error);
      }
      // The dial can take seconds; a channel accepted on a session that died meanwhile never closes.
      if (!c.isOpen()) return void local.value.destroy();
      await this.carry(c.accept(), local.value, source, formatEndpoint(target));
      return;
    }
    // Without a password, reverse SOCKS serves only clients on the server itself: sshd's GatewayPorts
    // can put the port on every address whatever was asked, and it must not become an open proxy.
    if (!this.spec.socks?.auth && !isLoopbackAddress(c.origin.host)) {
      c.reject();
      return this.refuse(new FwdError("E_CHANNEL", `${this.id}: ${c.origin.host} is not on the server's loopback`, "reverse SOCKS without --socks-user serves only clients on the server itself", { reason: "not-allowed" }));
    }
    const channel = c.accept();
    const outcome = await serveSocks(
      channel,
      { name: this.id, ...(this.spec.socks?.auth ? { auth: this.spec.socks.auth } : {}), timeoutMs: SOCKS_LIMITS.handshakeMs },
      (t) => (permitsOpen(this.spec.permitOpen, t) ? dialLocal(this.id, t) : Promise.resolve(fail(this.notPermitted(t)))),
    );
    if (outcome.kind === "connected") {
      await this.carry(channel, outcome.upstream, source, formatEndpoint(outcome.target));
      return;
    }
    if (outcome.kind === "failed") return this.refuse(outcome.error);
    countFailure(this.stats, "bad-request");
  }

  /** As ssh: a destination PermitRemoteOpen leaves out gets the SOCKS "not allowed by ruleset" reply. */
  private notPermitted(t: TcpEndpoint): FwdError {
    return new FwdError(
      "E_CHANNEL",
      `${this.id}: ${formatEndpoint(t)} is not allowed by PermitRemoteOpen ${formatPermitOpen(this.spec.permitOpen)}`,
      "PermitRemoteOpen (ssh_config or -o) lists where reverse SOCKS may connect",
      { reason: "not-allowed" },
    );
  }
}
