// -L: every connection to a local listener becomes a channel from the SSH server to the target.

import net from "node:net";
import { FwdError, fail, ok, type Result } from "../errors.ts";
import { Carrier, type ForwardRuntime } from "./carrier.ts";
import { Listener } from "./listener.ts";
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
    const far = this.spec.ftp && !isUnix(target) ? new FtpControl(channel.value, target, (t) => this.openDataPort(t, origin)) : channel.value;
    await this.carry(socket, far, source, formatEndpoint(target));
  }

  /**
   * A one-time local port for an FTP data connection, carried through the tunnel to `target`. It
   * takes one connection (the client's, which follows the PASV reply at once) and then closes.
   */
  private async openDataPort(target: TcpEndpoint, origin: Origin): Promise<Result<number>> {
    const server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true });
    const port = await new Promise<number | undefined>((resolve) => {
      server.once("error", () => resolve(undefined));
      server.listen(0, "127.0.0.1", () => resolve((server.address() as net.AddressInfo).port));
    });
    if (port === undefined) return fail(new FwdError("E_BIND", `${this.id}: no local port for FTP data`, "too many open ports?"));
    const timer = setTimeout(() => server.close(), DATA_WAIT_MS);
    server.once("connection", (socket) => {
      clearTimeout(timer);
      server.close();
      socket.setNoDelay(true);
      socket.on("error", () => {});
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
    return ok(port);
  }
}
