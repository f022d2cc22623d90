// -L: every connection to a local listener becomes a channel from the SSH server to the target.

import type net from "node:net";
import type { Result } from "../errors.ts";
import { Carrier, type ForwardRuntime } from "./carrier.ts";
import { Listener } from "./listener.ts";
import type { Session } from "./session.ts";
import { formatEndpoint, type Endpoint, type LocalForward } from "./types.ts";

export class LocalForwarder extends Carrier {
  private readonly listener: Listener;

  constructor(
    readonly spec: LocalForward,
    private readonly session: Session,
    rt: ForwardRuntime,
  ) {
    super(spec.id, rt);
    this.listener = new Listener(spec.id, spec.bind, rt.bus, (s) => void this.accept(s), spec.orFreePort);
  }

  get bound(): Endpoint | undefined {
    return this.listener.bound;
  }

  async start(): Promise<Result<Endpoint>> {
    const r = await this.listener.listen();
    if (r.ok) this.rt.bus.emit({ type: "listening", forward: this.id, side: "local", bind: r.value, target: this.spec.target });
    return r;
  }

  stopAccepting(): void {
    this.listener.close();
  }

  private async accept(socket: net.Socket): Promise<void> {
    const origin = { host: socket.remoteAddress ?? "127.0.0.1", port: socket.remotePort ?? 0 };
    const source = socket.remoteAddress ? `${socket.remoteAddress}:${socket.remotePort}` : "unix";
    const link = await this.session.acquire(this.rt.acquireTimeoutMs);
    const channel = link.ok ? await link.value.open(this.spec.target, origin) : link;
    if (!channel.ok) {
      this.refuse(channel.error);
      socket.destroy();
      return;
    }
    if (socket.destroyed) {
      channel.value.destroy();
      return;
    }
    await this.carry(socket, channel.value, source, formatEndpoint(this.spec.target));
  }
}
