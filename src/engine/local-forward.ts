// -L: every connection to a local listener becomes a channel from the SSH server to the target.

import net from "node:net";
import { FwdError, fail, ok, type Result } from "../errors.ts";
import { Carrier, type ForwardRuntime } from "./carrier.ts";
import { connectionSlots } from "./connections.ts";
import { Listener, refuseNow } from "./listener.ts";
import type { Session } from "./session.ts";
import { FtpControl } from "./ftp.ts";
import { formatEndpoint, isUnix, type Endpoint, type LocalForward, type Origin, type TcpEndpoint } from "./types.ts";

/** How long a passive FTP data port waits for the client before it closes. */
const DATA_WAIT_MS = 30_000;

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
    const target = this.spec.target;
    if (!this.spec.ftp || isUnix(target)) {
      await this.carry(socket, channel.value, source, formatEndpoint(target));
      return;
    }
    // FTP: data ports live and die with their control connection.
    const dataPorts = new Set<net.Server>();
    const control = new FtpControl(channel.value, (port) => this.openDataPort(socket, { host: target.host, port }, origin, dataPorts));
    await this.carry(socket, control, source, formatEndpoint(target));
    for (const s of dataPorts) s.close();
  }

  /**
   * A one-time port for an FTP data connection, carried through the tunnel to `target`. It listens
   * where the control client reached us and takes one connection, from that client's address only.
   */
  private async openDataPort(control: net.Socket, target: TcpEndpoint, origin: Origin, open: Set<net.Server>): Promise<Result<{ host: string; port: number }>> {
    const host = (control.localAddress ?? "127.0.0.1").replace(/^::ffff:/, "");
    const server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true });
    const port = await new Promise<number | undefined>((resolve) => {
      server.once("error", () => resolve(undefined));
      server.listen(0, host, () => resolve((server.address() as net.AddressInfo).port));
    });
    if (port === undefined) return fail(new FwdError("E_BIND", `${this.id}: no local port for FTP data`, "too many open ports?"));
    open.add(server);
    const done = () => {
      clearTimeout(timer);
      server.close();
      open.delete(server);
    };
    const timer = setTimeout(done, DATA_WAIT_MS);
    timer.unref?.();
    const bare = (a: string | undefined) => a?.replace(/^::ffff:/, "");
    const client = bare(control.remoteAddress);
    server.on("connection", (socket) => {
      socket.on("error", () => {});
      // Another local process must not take over the download (or feed the upload).
      if (bare(socket.remoteAddress) !== client) return void socket.destroy();
      done();
      if (!connectionSlots.take((m, hint) => this.rt.bus.log("warn", `${this.id}: ${m}`, hint))) return refuseNow(socket);
      socket.once("close", () => connectionSlots.release());
      socket.setNoDelay(true);
      void (async () => {
        const link = await this.session.acquire(this.rt.acquireTimeoutMs);
        const ch = link.ok ? await link.value.open(target, origin) : link;
        if (!ch.ok) {
          this.refuse(ch.error);
          return void socket.destroy();
        }
        await this.carry(socket, ch.value, `${socket.remoteAddress}:${socket.remotePort} (ftp data)`, formatEndpoint(target));
      })();
    });
    return ok({ host, port });
  }
}
