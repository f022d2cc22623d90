// A TCP connection on Bun's own sockets (Bun.connect) dressed as the part of node:net's Socket that
// ssh2 and fwd use, for the SSH connection itself: every byte of every forward goes through it.
//
// Why not node:net: under Bun its write path copies each byte twice in user space — the Writable
// queue concatenates what waits (Buffer.concat) and the native write copies whatever the kernel did
// not take into a buffer of its own — and JavaScriptCore copies byte by byte between buffers that are
// not equally aligned, which SSH packets (4 + 16n + 16 bytes) never are. Bun's socket write takes
// what the kernel takes and says how much; the rest waits here as views of the caller's buffers, so a
// packet is handed to the kernel straight from where it was encrypted. Small writes of one turn of
// the event loop (a window adjust, a channel open, EOF and close) still go out as one send.

import { EventEmitter } from "node:events";
import { lookup } from "node:dns";
import { isIP } from "node:net";

interface BunSocket {
  write(data: Uint8Array): number;
  end(): void;
  terminate(): void;
  pause(): void;
  resume(): void;
  setNoDelay(on: boolean): boolean;
  setKeepAlive(on: boolean, delayMs: number): boolean;
  remoteAddress: string;
  remotePort: number;
  localAddress: string;
  localPort: number;
}
interface BunHandlers {
  open(s: BunSocket): void;
  data(s: BunSocket, d: Buffer): void;
  drain(s: BunSocket): void;
  end(s: BunSocket): void;
  close(s: BunSocket, err?: Error): void;
  error(s: BunSocket, err: Error): void;
  connectError(s: BunSocket, err: Error): void;
}
declare const Bun: { connect(o: { hostname: string; port: number; allowHalfOpen: boolean; socket: BunHandlers }): Promise<BunSocket> };

/** Writes smaller than this, made in one turn of the event loop, are joined into one send. */
const SMALL_WRITE = 4096;
/** What write() reports as "over the high-water mark" (node:net's default). */
const HIGH_WATER = 16 * 1024;

type WriteCb = (err?: Error | null) => void;
interface Queued {
  buf: Uint8Array;
  cb: WriteCb | undefined;
}

export class BunTcpSocket extends EventEmitter {
  connecting = true;
  destroyed = false;
  readable = true;
  writable = true;
  remoteAddress: string | undefined;
  remotePort: number | undefined;
  localAddress: string | undefined;
  localPort: number | undefined;

  private s: BunSocket | undefined;
  private readonly queue: Queued[] = [];
  private queued = 0;
  private small: Buffer[] = [];
  private smallBytes = 0;
  private smallCbs: WriteCb[] = [];
  private flushScheduled = false;
  private needDrain = false;
  private ending = false;
  private paused = false;
  private held: Buffer[] = [];
  private closeEmitted = false;
  private noDelay = false;

  /** Looks `host` up (emitting 'lookup' as node:net does), then connects; 'connect' or 'error' follows. */
  static connect(host: string, port: number): BunTcpSocket {
    const sock = new BunTcpSocket();
    const dial = (address: string) => {
      if (sock.destroyed) return;
      Bun.connect({ hostname: address, port, allowHalfOpen: true, socket: sock.handlers() }).catch(() => {
        // connectError has said it already.
      });
    };
    if (isIP(host)) queueMicrotask(() => dial(host));
    else
      lookup(host, (err, address, family) => {
        sock.emit("lookup", err, address, family, host);
        if (err) return sock.fail(err);
        dial(address);
      });
    return sock;
  }

  /** ssh2 writes only while this says the peer has not ended (its isWritable, after node's). */
  readonly _readableState = { ended: false };

  get writableLength(): number {
    return this.queued + this.smallBytes;
  }

  write(data: Uint8Array | string, encoding?: BufferEncoding | WriteCb, cb?: WriteCb): boolean {
    if (typeof encoding === "function") {
      cb = encoding;
      encoding = undefined;
    }
    const buf = typeof data === "string" ? Buffer.from(data, encoding) : data;
    if (this.destroyed || this.ending) {
      const err = Object.assign(new Error(this.destroyed ? "write after the socket was destroyed" : "write after end"), { code: this.destroyed ? "ERR_STREAM_DESTROYED" : "ERR_STREAM_WRITE_AFTER_END" });
      if (cb) process.nextTick(cb, err);
      return false;
    }
    if (buf.length < SMALL_WRITE) {
      this.small.push(buf as Buffer);
      this.smallBytes += buf.length;
      if (cb) this.smallCbs.push(cb);
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        process.nextTick(() => {
          this.flushScheduled = false;
          this.stageSmall();
          this.pump();
        });
      }
    } else {
      this.stageSmall();
      this.queue.push({ buf, cb });
      this.queued += buf.length;
      this.pump();
    }
    const under = this.writableLength < HIGH_WATER;
    if (!under) this.needDrain = true;
    return under;
  }

  end(data?: Uint8Array | string | WriteCb, encoding?: BufferEncoding | WriteCb, cb?: WriteCb): this {
    if (typeof data === "function") cb = data;
    else if (data !== undefined) this.write(data, encoding as BufferEncoding);
    if (typeof encoding === "function") cb = encoding;
    if (this.ending || this.destroyed) return this;
    this.ending = true;
    this.writable = false;
    if (cb) this.once("finish", cb);
    this.stageSmall();
    this.pump();
    return this;
  }

  destroy(err?: Error): this {
    if (this.destroyed) return this;
    this.destroyed = true;
    this.readable = false;
    this.writable = false;
    this.s?.terminate();
    const dropped = this.queue.splice(0).map((q) => q.cb);
    dropped.push(...this.smallCbs.splice(0));
    this.small = [];
    this.queued = this.smallBytes = 0;
    process.nextTick(() => {
      const gone = Object.assign(new Error("the socket was destroyed"), { code: "ERR_STREAM_DESTROYED" });
      for (const cb of dropped) cb?.(gone);
      if (err) this.emit("error", err);
      this.emitClose(err !== undefined);
    });
    return this;
  }

  resetAndDestroy(): this {
    return this.destroy();
  }

  pause(): this {
    this.paused = true;
    this.s?.pause();
    return this;
  }

  resume(): this {
    this.paused = false;
    this.s?.resume();
    while (!this.paused && this.held.length > 0) this.emit("data", this.held.shift());
    return this;
  }

  setNoDelay(on = true): this {
    this.noDelay = on;
    this.s?.setNoDelay(on);
    return this;
  }

  setKeepAlive(on = false, delayMs = 0): this {
    this.s?.setKeepAlive(on, delayMs);
    return this;
  }

  /** ssh2 sets no idle timeout on a socket it is given; only "none" is supported. */
  setTimeout(ms: number, cb?: () => void): this {
    if (ms !== 0) throw new Error("BunTcpSocket: idle timeouts are not supported");
    if (cb) this.off("timeout", cb);
    return this;
  }

  private handlers(): BunHandlers {
    return {
      open: (s) => {
        if (this.destroyed) return s.terminate();
        this.s = s;
        this.connecting = false;
        this.remoteAddress = s.remoteAddress;
        this.remotePort = s.remotePort;
        this.localAddress = s.localAddress;
        this.localPort = s.localPort;
        if (this.noDelay) s.setNoDelay(true);
        if (this.paused) s.pause();
        this.emit("connect");
        this.emit("ready");
        this.pump();
      },
      data: (_s, d) => {
        if (this.destroyed) return;
        if (this.paused) this.held.push(d);
        else this.emit("data", d);
      },
      drain: () => this.pump(),
      end: () => {
        this.readable = false;
        this._readableState.ended = true;
        this.emit("end");
        // node:net without allowHalfOpen: the peer's end ends this side too once its writes are out.
        this.end();
      },
      error: (_s, err) => this.fail(err),
      connectError: (_s, err) => this.fail(err),
      close: (_s, err) => {
        // A reset arrives here, not at error(): said as node:net says it, an 'error' then 'close'.
        if (err && !this.destroyed) return this.fail(err);
        this.destroyed = true;
        this.readable = this.writable = false;
        this.emitClose(false);
      },
    };
  }

  private fail(err: Error): void {
    if (this.destroyed) return;
    this.destroy(err);
  }

  private emitClose(hadError: boolean): void {
    if (this.closeEmitted) return;
    this.closeEmitted = true;
    this.emit("close", hadError);
  }

  /** Turns this turn's small writes into one queued buffer (one copy of a few small packets). */
  private stageSmall(): void {
    if (this.small.length === 0) return;
    const buf = this.small.length === 1 ? this.small[0]! : Buffer.concat(this.small, this.smallBytes);
    const cbs = this.smallCbs;
    this.queue.push({ buf, cb: cbs.length === 0 ? undefined : cbs.length === 1 ? cbs[0] : (err) => cbs.forEach((c) => c(err)) });
    this.queued += this.smallBytes;
    this.small = [];
    this.smallBytes = 0;
    this.smallCbs = [];
  }

  /** Hands the kernel what it takes, in order; what it does not take waits for Bun's drain. */
  private pump(): void {
    const s = this.s;
    if (!s || this.destroyed) return;
    while (this.queue.length > 0) {
      const head = this.queue[0]!;
      const n = s.write(head.buf);
      if (n < 0) return this.fail(Object.assign(new Error("write to a closed socket"), { code: "EPIPE" }));
      this.queued -= n;
      if (n < head.buf.length) {
        head.buf = head.buf.subarray(n);
        return;
      }
      this.queue.shift();
      if (head.cb) process.nextTick(head.cb);
    }
    if (this.smallBytes > 0) return; // a flush is scheduled for them
    if (this.needDrain) {
      this.needDrain = false;
      this.emit("drain");
    }
    if (this.ending && !this.finished) {
      this.finished = true;
      s.end();
      this.emit("finish");
    }
  }
  private finished = false;
}
