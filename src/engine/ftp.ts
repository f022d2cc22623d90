// FTP through a single forward: the control connection rides the tunnel like any other, and every
// passive-mode answer (227 PASV, 229 EPSV) is rewritten to point at a one-time local port whose
// connection is carried through the same tunnel to the data address the server named. Without this,
// an FTP client would try to reach the server's data port directly — which is what a tunnel to a
// server C cannot reach must avoid.

import { Duplex } from "node:stream";
import type { Result } from "../errors.ts";
import type { TcpEndpoint } from "./types.ts";

/** Opens a one-time local listener carried to `target`; resolves to its local port. */
export type DataOpener = (target: TcpEndpoint) => Promise<Result<number>>;

const PASV = /^227 [^(]*\((\d+),(\d+),(\d+),(\d+),(\d+),(\d+)\)/;
const EPSV = /^229 [^(]*\((.)\1\1(\d+)\1\)/;

/** The server side of an FTP control connection, with passive replies pointing at local ports. */
export class FtpControl extends Duplex {
  private pending = "";
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly channel: Duplex,
    /** The server as the tunnel reaches it: EPSV replies name only a port on it. */
    private readonly server: TcpEndpoint,
    private readonly openData: DataOpener,
  ) {
    super({ allowHalfOpen: true });
    channel.on("data", (d: Buffer) => this.fromServer(d.toString("latin1")));
    channel.on("end", () => void this.queue.then(() => this.push(null)));
    channel.on("error", (e) => this.destroy(e));
    channel.on("close", () => void this.queue.then(() => this.destroy()));
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    this.channel.write(chunk, cb);
  }

  override _final(cb: (e?: Error | null) => void): void {
    this.channel.end();
    cb();
  }

  override _read(): void {
    this.channel.resume();
  }

  override _destroy(err: Error | null, cb: (e?: Error | null) => void): void {
    this.channel.destroy();
    cb(err);
  }

  private fromServer(text: string): void {
    this.pending += text;
    const lines = this.pending.split("\r\n");
    this.pending = lines.pop() ?? "";
    for (const line of lines) this.queue = this.queue.then(() => this.deliver(line));
  }

  /** Lines go out in order; a passive reply waits until its local port is listening. */
  private async deliver(line: string): Promise<void> {
    let out = line;
    const pasv = PASV.exec(line);
    const epsv = EPSV.exec(line);
    if (pasv) {
      const [h1, h2, h3, h4, p1, p2] = pasv.slice(1).map(Number) as [number, number, number, number, number, number];
      const local = await this.openData({ host: `${h1}.${h2}.${h3}.${h4}`, port: p1 * 256 + p2 });
      out = local.ok ? `227 Entering Passive Mode (127,0,0,1,${local.value >> 8},${local.value & 255}).` : "425 fwd: cannot open the data connection through the tunnel.";
    } else if (epsv) {
      const local = await this.openData({ host: this.server.host, port: Number(epsv[2]) });
      out = local.ok ? `229 Entering Extended Passive Mode (|||${local.value}|)` : "425 fwd: cannot open the data connection through the tunnel.";
    }
    if (!this.push(Buffer.from(out + "\r\n", "latin1"))) this.channel.pause();
  }
}
