// -L: every connection to a local listener becomes a channel from the SSH server to the target.

import net from "node:net";
import { FwdError, fail, isFwdError, ok, type Result } from "../errors.ts";
import { Carrier, type ForwardRuntime } from "./carrier.ts";
import type { Forwarder, ForwardKindModule } from "./forwarder.ts";
import { targetProblem } from "./open-proxy.ts";
import { snapshotOf, type ForwardSnapshot } from "./snapshot.ts";
import { connectionSlots } from "./connections.ts";
import { Listener, refuseNow } from "./listener.ts";
import type { Session } from "./session.ts";
import { FtpControl } from "./ftp.ts";
import { PeerChecks } from "./ftp-data-peer.ts";
import { formatEndpoint, isUnix, type Endpoint, type Origin, type TcpEndpoint } from "../vocab/endpoint.ts";
import type { LocalForward } from "../vocab/forward.ts";

/** How long a passive FTP data port waits for the client before it closes. */
const DATA_WAIT_MS = 30_000;

export const localKind: ForwardKindModule<LocalForward> = {
  // A plan is code: its targets need not have come through a parser.
  validate: (spec) => targetProblem(spec.id, spec.target),
  create: (spec, ctx) => ok(new LocalForwarder(spec, ctx.session, ctx.rt)),
};

export class LocalForwarder extends Carrier implements Forwarder {
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

  stop(): void {
    this.listener.close();
  }

  close(): void {
    this.stop();
  }

  snapshot(): ForwardSnapshot {
    return snapshotOf(this, this.spec, this.bound);
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
    // FTP: data ports live and die with their control connection, one pending at a time.
    const slot: DataSlot = { closed: false };
    const control = new FtpControl(channel.value, (port) => this.openDataPort(socket, { host: target.host, port }, origin, slot), this.id);
    control.once("error", (e) => isFwdError(e) && this.rt.bus.log("warn", e.message, e.hint));
    await this.carry(socket, control, source, formatEndpoint(target));
    slot.closed = true;
    slot.pending?.();
  }

  /**
   * A one-time port for an FTP data connection, carried through the tunnel to `target`. It listens
   * where the control client reached us and takes one connection, from that client's local user
   * (see PeerChecks). A newer passive reply closes the port an older one left waiting: a server
   * that sends replies nobody asked for gets one listener, not one each.
   */
  private async openDataPort(control: net.Socket, target: TcpEndpoint, origin: Origin, slot: DataSlot): Promise<Result<{ host: string; port: number }>> {
    slot.pending?.();
    const host = (control.localAddress ?? "127.0.0.1").replace(/^::ffff:/, "");
    const server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true });
    const port = await new Promise<number | undefined>((resolve) => {
      server.once("error", () => resolve(undefined));
      server.listen(0, host, () => resolve((server.address() as net.AddressInfo).port));
    });
    if (port === undefined) return fail(new FwdError("E_BIND", `${this.id}: no local port for FTP data`, "too many open ports?"));
    // Waiting until a connection is taken, or the deadline, a newer reply or the control's end closes it.
    let open = true;
    const done = () => {
      open = false;
      clearTimeout(timer);
      server.close();
      if (slot.pending === done) slot.pending = undefined;
    };
    const timer = setTimeout(done, DATA_WAIT_MS);
    timer.unref?.();
    slot.pending = done;
    // The control connection may have ended while the port was being opened.
    if (slot.closed) done();
    const checks = new PeerChecks(control, (m) => this.rt.bus.log("warn", `${this.id}: ${m}`));
    server.on("connection", (socket) => {
      socket.on("error", () => {});
      void checks.allowed(socket).then((allowed) => {
        // Another local user must not take over the download (or feed the upload): reset, keep waiting.
        if (!allowed || !open) return void socket.resetAndDestroy();
        done();
        if (!connectionSlots.take((m, hint) => this.rt.bus.log("warn", `${this.id}: ${m}`, hint))) return refuseNow(socket);
        socket.once("close", () => connectionSlots.release());
        socket.setNoDelay(true);
        void this.carryData(socket, target, origin);
      });
    });
    return ok({ host, port });
  }

  private async carryData(socket: net.Socket, target: TcpEndpoint, origin: Origin): Promise<void> {
    const link = await this.session.acquire(this.rt.acquireTimeoutMs);
    const ch = link.ok ? await link.value.open(target, origin) : link;
    if (!ch.ok) {
      this.refuse(ch.error);
      return void socket.destroy();
    }
    await this.carry(socket, ch.value, `${socket.remoteAddress}:${socket.remotePort} (ftp data)`, formatEndpoint(target));
  }
}

/** The FTP data port a control connection has waiting (its closer), if any. */
interface DataSlot {
  pending?: () => void;
  closed: boolean;
}
