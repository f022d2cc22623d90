// -R: the SSH server listens, and each connection it forwards back is carried to a target on this
// side — or, with no target, spoken to as SOCKS and connected from here (reverse dynamic forward).

import { FwdError, fail, type Result } from "../errors.ts";
import { serveSocks } from "../socks/server.ts";
import { isLoopbackAddress, formatEndpoint, isUnix, type Endpoint, type TcpEndpoint } from "../vocab/endpoint.ts";
import { Carrier, type ForwardRuntime } from "./carrier.ts";
import { connectionSlots } from "./connections.ts";
import { dialLocal } from "./dial.ts";
import { SOCKS_LIMITS } from "./dynamic-forward.ts";
import type { Incoming, Link } from "./link.ts";
import { formatPermitOpen, permitsOpen } from "./permit-open.ts";
import { countFailure } from "./stats.ts";
import type { RemoteForward } from "../vocab/forward.ts";

export class RemoteForwarder extends Carrier {
  /** What the server bound, as it reported it. */
  bound: Endpoint | undefined;
  /** Stopped by the user: the server may still listen, but its connections are refused. */
  stopped = false;

  constructor(
    readonly spec: RemoteForward,
    rt: ForwardRuntime,
  ) {
    super(spec.id, rt);
  }

  /** Asks the server on `link` to listen. */
  async start(link: Link): Promise<Result<Endpoint>> {
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

  /** Whether a forwarded connection arrived on this forward's server-side address. */
  matches(at: Endpoint): boolean {
    const b = this.bound;
    if (!b) return false;
    if (isUnix(at) || isUnix(b)) return isUnix(at) && isUnix(b) && at.path === b.path;
    return at.port === b.port && at.host === b.host;
  }

  async handle(c: Incoming): Promise<void> {
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
