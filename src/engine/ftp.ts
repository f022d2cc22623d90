// FTP through a single forward: the control connection rides the tunnel like any other, and every
// passive-mode answer (227 PASV, 229 EPSV) is rewritten to point at a one-time local port whose
// connection is carried through the same tunnel to the server's data port. Without this, an FTP
// client would try to reach the server's data port directly — which a server that C cannot reach
// must never need. The data connection always goes to the host the forward targets (as curl's
// --ftp-skip-pasv-ip does): the address inside a 227 reply is not trusted, so a server cannot make
// the SSH server connect anywhere else.

import { Duplex } from "node:stream";
import { FwdError, type Result } from "../errors.ts";

/** Opens a one-time local listener carried to the server's `port`; resolves to where it listens. */
export type DataOpener = (port: number) => Promise<Result<{ host: string; port: number }>>;

/** FTP replies are short lines (RFC 959); a longer one comes from a broken or hostile server. */
export const MAX_LINE = 8 * 1024;

/** A final (not continued) 227 reply carrying six numbers, with or without parentheses. */
const PASV = /^227 \D*(\d{1,3}),(\d{1,3}),(\d{1,3}),(\d{1,3}),(\d{1,3}),(\d{1,3})/;
const EPSV = /^229 [^(]*\((.)\1\1(\d{1,5})\1\)/;
const UNAVAILABLE = "425 fwd: cannot open the data connection through the tunnel.";

/**
 * The server side of an FTP control connection, with passive replies pointing at local ports.
 * Each byte from the server is scanned once; a line is held only until its newline (at most
 * MAX_LINE bytes); the channel is paused while the client is not reading and while a passive
 * reply waits for its port, so nothing queues up without bound.
 */
export class FtpControl extends Duplex {
  /** The line not yet ended, as the chunks it came in. */
  private partial: Buffer[] = [];
  private partialLength = 0;
  /** Chunks from the server not yet looked at: while a passive reply waits, the rest waits behind it. */
  private inbox: Buffer[] = [];
  private waiting = false;
  /** The client has not taken what was pushed: the channel stays paused until it asks for more. */
  private full = false;
  private serverEnded = false;
  private pushedEnd = false;
  /** The code of a multi-line reply in progress ("220-…" until "220 …"): its lines are not replies. */
  private continued: string | undefined;
  /** After "234" (AUTH TLS) the bytes are TLS: pass everything through untouched. */
  private raw = false;

  constructor(
    private readonly channel: Duplex,
    private readonly openData: DataOpener,
    /** The forward's name, for the error that closes a connection. */
    private readonly id = "ftp",
  ) {
    super({ allowHalfOpen: true });
    channel.on("data", (d: Buffer) => {
      this.inbox.push(d);
      this.work();
    });
    channel.on("end", () => {
      this.serverEnded = true;
      this.work();
    });
    channel.on("error", (e) => this.destroy(e));
    // What was pushed before the channel closed still goes to the client, then this closes too.
    channel.on("close", () => (this.readableEnded || !this.serverEnded ? this.destroy() : this.once("end", () => this.destroy())));
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    this.channel.write(chunk, cb);
  }

  override _final(cb: (e?: Error | null) => void): void {
    this.channel.end();
    cb();
  }

  override _read(): void {
    this.full = false;
    if (!this.waiting) this.channel.resume();
  }

  override _destroy(err: Error | null, cb: (e?: Error | null) => void): void {
    this.inbox = [];
    this.partial = [];
    this.channel.destroy();
    cb(err);
  }

  /** Takes inbox chunks in order until they are done or a passive reply has to wait for its port. */
  private work(): void {
    while (!this.waiting && !this.destroyed) {
      const d = this.inbox.shift();
      if (!d) break;
      const rest = this.consume(d);
      if (rest?.length) this.inbox.unshift(rest);
    }
    if (this.waiting || this.destroyed || this.inbox.length) return;
    if (this.serverEnded) {
      if (this.pushedEnd) return;
      this.pushedEnd = true;
      // A last line without a newline is passed on as it came.
      if (this.partialLength) this.emitOut(Buffer.concat(this.partial));
      this.partial = [];
      this.partialLength = 0;
      this.push(null);
    } else if (!this.full) this.channel.resume();
  }

  /** Lines out of one chunk; returns what is left of it when a passive reply must wait first. */
  private consume(d: Buffer): Buffer | undefined {
    let start = 0;
    while (start < d.length) {
      if (this.raw) return void this.emitOut(d.subarray(start));
      const nl = d.indexOf(0x0a, start);
      const end = nl < 0 ? d.length : nl + 1;
      if (this.partialLength + end - start > MAX_LINE) return void this.tooLong();
      this.partial.push(d.subarray(start, end));
      this.partialLength += end - start;
      start = end;
      if (nl < 0) return undefined;
      const line = Buffer.concat(this.partial, this.partialLength).toString("latin1");
      this.partial = [];
      this.partialLength = 0;
      const passive = this.deliver(line);
      if (passive) {
        this.waiting = true;
        this.channel.pause();
        // Go on in a later turn of the event loop: under Bun a chain of listen callbacks never
        // lets timers run (measured: 23,000 listens in 2 s, a 50 ms interval fired 0 times), so a
        // server sending passive replies without end would starve every deadline, the stop's too.
        void passive.then(() =>
          setImmediate(() => {
            this.waiting = false;
            this.work();
          }),
        );
        return d.subarray(start);
      }
    }
    return undefined;
  }

  private tooLong(): void {
    this.destroy(new FwdError("E_PROTOCOL", `${this.id}: the FTP server sent a reply line longer than ${MAX_LINE} bytes; control connection closed`, "FTP replies are short lines: the server is broken or hostile"));
  }

  /** Passes one line on; a passive reply is rewritten once its local port listens (the promise). */
  private deliver(line: string): Promise<void> | undefined {
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
    if (pasv) {
      const n = pasv.slice(1).map(Number);
      if (n.some((x) => x > 255)) return this.out(UNAVAILABLE + eol);
      return this.openData(n[4]! * 256 + n[5]!).then((local) => {
        if (!local.ok || !/^\d+\.\d+\.\d+\.\d+$/.test(local.value.host)) return this.out(UNAVAILABLE + eol);
        const [h1, h2, h3, h4] = local.value.host.split(".");
        this.out(`227 Entering Passive Mode (${h1},${h2},${h3},${h4},${local.value.port >> 8},${local.value.port & 255}).${eol}`);
      });
    }
    const epsv = EPSV.exec(text);
    if (epsv) {
      const port = Number(epsv[2]);
      if (port < 1 || port > 65535) return this.out(UNAVAILABLE + eol);
      return this.openData(port).then((local) => this.out(local.ok ? `229 Entering Extended Passive Mode (|||${local.value.port}|)${eol}` : UNAVAILABLE + eol));
    }
    return this.out(line);
  }

  private out(text: string): undefined {
    this.emitOut(Buffer.from(text, "latin1"));
    return undefined;
  }

  private emitOut(b: Buffer): void {
    if (this.destroyed) return;
    if (!this.push(b)) {
      this.full = true;
      this.channel.pause();
    }
  }
}
