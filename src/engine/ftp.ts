// FTP through a single forward: the control connection rides the tunnel like any other, and every
// passive-mode answer (227 PASV, 229 EPSV) is rewritten to point at a one-time local port whose
// connection is carried through the same tunnel to the server's data port. Without this, an FTP
// client would try to reach the server's data port directly — which a server that C cannot reach
// must never need. The data connection always goes to the host the forward targets (as curl's
// --ftp-skip-pasv-ip does): the address inside a 227 reply is not trusted, so a server cannot make
// the SSH server connect anywhere else.

import { Duplex } from "node:stream";
import type { Result } from "../errors.ts";

/** Opens a one-time local listener carried to the server's `port`; resolves to where it listens. */
export type DataOpener = (port: number) => Promise<Result<{ host: string; port: number }>>;

/** A final (not continued) 227 reply carrying six numbers, with or without parentheses. */
const PASV = /^227 \D*(\d{1,3}),(\d{1,3}),(\d{1,3}),(\d{1,3}),(\d{1,3}),(\d{1,3})/;
const EPSV = /^229 [^(]*\((.)\1\1(\d{1,5})\1\)/;
const UNAVAILABLE = "425 fwd: cannot open the data connection through the tunnel.";

/** The server side of an FTP control connection, with passive replies pointing at local ports. */
export class FtpControl extends Duplex {
  private pending = "";
  private queue: Promise<void> = Promise.resolve();
  /** The code of a multi-line reply in progress ("220-…" until "220 …"): its lines are not replies. */
  private continued: string | undefined;
  /** After "234" (AUTH TLS) the bytes are TLS: pass everything through untouched. */
  private raw = false;

  constructor(
    private readonly channel: Duplex,
    private readonly openData: DataOpener,
  ) {
    super({ allowHalfOpen: true });
    channel.on("data", (d: Buffer) => this.fromServer(d));
    channel.on("end", () => {
      this.queue = this.queue.then(() => {
        if (this.pending) this.out(this.pending);
        this.pending = "";
        this.push(null);
      });
    });
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

  private fromServer(d: Buffer): void {
    if (this.raw) {
      this.queue = this.queue.then(() => this.emitOut(d));
      return;
    }
    this.pending += d.toString("latin1");
    // Lines end in CRLF, or a bare LF from a lax server; each keeps its own ending.
    for (let at = this.pending.indexOf("\n"); at >= 0; at = this.pending.indexOf("\n")) {
      const line = this.pending.slice(0, at + 1);
      this.pending = this.pending.slice(at + 1);
      this.queue = this.queue.then(() => this.deliver(line));
    }
  }

  /** Lines go out in order; a passive reply waits until its local port is listening. */
  private async deliver(line: string): Promise<void> {
    const text = line.replace(/\r?\n$/, "");
    const eol = line.slice(text.length);
    const code = /^(\d{3})([ -])/.exec(text);
    if (this.continued !== undefined) {
      if (code && code[1] === this.continued && code[2] === " ") this.continued = undefined;
      return this.out(line);
    }
    if (code?.[2] === "-") {
      this.continued = code[1];
      return this.out(line);
    }
    if (code?.[1] === "234") this.raw = true;
    const pasv = PASV.exec(text);
    const epsv = EPSV.exec(text);
    if (pasv) {
      const n = pasv.slice(1).map(Number);
      if (n.some((x) => x > 255)) return this.out(UNAVAILABLE + eol);
      const local = await this.openData(n[4]! * 256 + n[5]!);
      if (!local.ok || !/^\d+\.\d+\.\d+\.\d+$/.test(local.value.host)) return this.out(UNAVAILABLE + eol);
      const [h1, h2, h3, h4] = local.value.host.split(".");
      return this.out(`227 Entering Passive Mode (${h1},${h2},${h3},${h4},${local.value.port >> 8},${local.value.port & 255}).${eol}`);
    }
    if (epsv) {
      const port = Number(epsv[2]);
      const local = port >= 1 && port <= 65535 ? await this.openData(port) : undefined;
      return this.out(local?.ok ? `229 Entering Extended Passive Mode (|||${local.value.port}|)${eol}` : UNAVAILABLE + eol);
    }
    this.out(line);
  }

  private out(text: string): void {
    this.emitOut(Buffer.from(text, "latin1"));
  }

  private emitOut(b: Buffer): void {
    if (!this.push(b)) this.channel.pause();
  }
}
