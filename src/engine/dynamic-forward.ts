// -D: a SOCKS proxy on this machine whose connections leave from the SSH server. Who may use it is
// decided before a byte of SOCKS is read (allow-list), and slow or broken clients cost little: a
// deadline per handshake and a cap on how many are in progress.

import net from "node:net";
import { FwdError, fail, type Result } from "../errors.ts";
import { serveSocks } from "../socks/server.ts";
import { pacFile } from "../socks/pac.ts";
import { Carrier, type ForwardRuntime } from "./carrier.ts";
import { allowList } from "./allow-list.ts";
import { Listener } from "./listener.ts";
import type { PickKey } from "./pick.ts";
import type { Session } from "./session.ts";
import { countFailure } from "./stats.ts";
import { formatEndpoint, type DynamicForward, type Endpoint, type TcpEndpoint } from "./types.ts";

export const SOCKS_HANDSHAKE_MS = 10_000;
export const MAX_HANDSHAKES = 256;

/** Per exit (session) of a pooled proxy: what it carried. */
export interface ExitStats {
  open: number;
  total: number;
  bytesUp: number;
  bytesDown: number;
}

/** Which session a new connection leaves through; undefined when none is up (a pool, all down). */
export type SessionChoice = (key: PickKey) => Session | undefined;

export class DynamicForwarder extends Carrier {
  private readonly listener: Listener;
  private readonly allowed: ((address: string) => boolean) | undefined;
  private handshakes = 0;
  readonly exits = new Map<string, ExitStats>();

  constructor(
    readonly spec: DynamicForward,
    private readonly choose: SessionChoice,
    rt: ForwardRuntime,
  ) {
    super(spec.id, rt);
    this.listener = new Listener(spec.id, spec.bind, rt.bus, (s) => void this.accept(s));
    this.allowed = spec.socks.allow.length ? allowList(spec.socks.allow) : undefined;
  }

  get bound(): Endpoint | undefined {
    return this.listener.bound;
  }

  async start(): Promise<Result<Endpoint>> {
    const r = await this.listener.listen();
    if (r.ok) this.rt.bus.emit({ type: "listening", forward: this.id, side: "local", bind: r.value, via: "socks" });
    return r;
  }

  stopAccepting(): void {
    this.listener.close();
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

  private async accept(socket: net.Socket): Promise<void> {
    const address = socket.remoteAddress ?? "";
    if (this.allowed && !this.allowed(address)) {
      this.refuse(new FwdError("E_CHANNEL", `${this.id}: ${address} is not in the allow-list`, "add its network with --allow CIDR", { reason: "not-allowed" }));
      socket.destroy();
      return;
    }
    if (this.handshakes >= MAX_HANDSHAKES) {
      countFailure(this.stats, "busy");
      socket.destroy();
      return;
    }
    this.handshakes++;
    const origin = { host: address || "127.0.0.1", port: socket.remotePort ?? 0 };
    let exit: Session | undefined;
    const outcome = await serveSocks(
      socket,
      {
        ...(this.spec.socks.auth ? { auth: this.spec.socks.auth } : {}),
        timeoutMs: SOCKS_HANDSHAKE_MS,
        // The PAC names the address the browser reached us on: a LAN client must not be sent to its own loopback.
        ...(this.spec.socks.pac ? { pac: () => pacFile({ host: socket.localAddress ?? "127.0.0.1", port: (this.listener.bound as TcpEndpoint).port }, this.spec.socks.pac!.domains) } : {}),
      },
      async (target) => {
        exit = this.choose({ client: address, host: target.host });
        if (!exit) return fail(new FwdError("E_CLOSED", `${this.id}: no exit is up`, "every SSH server of the pool is down; fwd keeps reconnecting", { reason: "no-session" }));
        // Counted from the choice on, so a burst of connections spreads under least-connections.
        const stats = this.exitStats(exit.name);
        stats.open++;
        const link = await exit.acquire(this.rt.acquireTimeoutMs);
        const r = link.ok ? await link.value.open(target, origin) : link;
        if (!r.ok) stats.open--;
        return r;
      },
    ).finally(() => this.handshakes--);
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
