// -L: a listener on this machine whose every connection becomes a channel from the SSH server to the
// target. The listener belongs to the forward, not to a connection, so it can outlive reconnects.

import net from "node:net";
import { FwdError, fail, ok, type Result } from "../errors.ts";
import { bindError } from "./bind.ts";
import type { EventBus } from "./events.ts";
import { pipeBoth } from "./pipe.ts";
import type { Session } from "./session.ts";
import { countFailure, emptyStats, type ForwardStats } from "./stats.ts";
import { formatEndpoint, isUnix, type Endpoint, type LocalForward } from "./types.ts";
import { Connections } from "./connections.ts";

export interface ForwardRuntime {
  bus: EventBus;
  /** How long a new connection may wait for a live session before it is refused. */
  acquireTimeoutMs: number;
}

export class LocalListener {
  readonly stats: ForwardStats = emptyStats();
  readonly connections = new Connections();
  private server: net.Server | undefined;
  bound: Endpoint | undefined;

  constructor(
    readonly spec: LocalForward,
    private readonly session: Session,
    private readonly rt: ForwardRuntime,
  ) {}

  async listen(): Promise<Result<Endpoint>> {
    const server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true }, (s) => void this.accept(s));
    const bind = this.spec.bind;
    const r = await new Promise<Result<Endpoint>>((resolve) => {
      server.once("error", (err) => resolve(fail(bindError(this.spec.id, bind, err))));
      const onListening = () => {
        const addr = server.address();
        resolve(ok(addr && typeof addr === "object" ? { host: addr.address, port: addr.port } : bind));
      };
      if (isUnix(bind)) server.listen(bind.path, onListening);
      else server.listen({ host: bind.host, port: bind.port, exclusive: true }, onListening);
    });
    if (!r.ok) return r;
    server.on("error", (err) => this.rt.bus.log("error", `${this.spec.id}: listener: ${err.message}`));
    this.server = server;
    this.bound = r.value;
    this.rt.bus.emit({ type: "listening", forward: this.spec.id, bind: r.value, target: this.spec.target });
    return r;
  }

  /** Stops accepting at once; open connections carry on until they end or are closed. */
  stopAccepting(): void {
    // close()'s callback waits for every open connection, so it is not awaited here.
    this.server?.close();
    this.server = undefined;
  }

  private async accept(socket: net.Socket): Promise<void> {
    socket.setNoDelay(true);
    socket.on("error", () => {}); // reported through pipeBoth or the close below
    const origin = { host: socket.remoteAddress ?? "127.0.0.1", port: socket.remotePort ?? 0 };
    const source = socket.remoteAddress ? `${socket.remoteAddress}:${socket.remotePort}` : "unix";
    const target = formatEndpoint(this.spec.target);
    const id = this.spec.id;

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
    const conn = this.connections.add(id, source, target, socket, channel.value);
    this.stats.open++;
    this.stats.total++;
    this.rt.bus.emit({ type: "connection-open", forward: id, conn: conn.id, source, target });
    socket.resume();
    const err = await pipeBoth(socket, channel.value, conn);
    this.stats.open--;
    this.stats.bytesUp += conn.up;
    this.stats.bytesDown += conn.down;
    this.connections.remove(conn.id);
    this.rt.bus.emit({
      type: "connection-close",
      forward: id,
      conn: conn.id,
      bytesUp: conn.up,
      bytesDown: conn.down,
      ageMs: Date.now() - conn.openedAt,
      ...(err ? { error: err.message } : {}),
    });
  }

  private refuse(error: FwdError): void {
    const reason = error.reason ?? error.code;
    countFailure(this.stats, reason);
    this.rt.bus.emit({
      type: "open-failed",
      forward: this.spec.id,
      reason,
      message: error.message,
      ...(error.hint ? { hint: error.hint } : {}),
    });
  }
}
