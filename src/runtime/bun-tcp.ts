// TCP connections on Bun's own sockets (Bun.connect, Bun.listen) dressed as the part of node:net's
// Socket that ssh2 and fwd's engine use: the SSH connection itself (every byte of every forward goes
// through it) and, under Bun, the local ends of -L, -D and --route and the TCP connections -R makes.
//
// Why not node:net: under Bun its write path copies each byte twice in user space — the Writable
// queue concatenates what waits (Buffer.concat) and the native write copies whatever the kernel did
// not take into a buffer of its own — and JavaScriptCore copies byte by byte between buffers that are
// not equally aligned, which SSH packets (4 + 16n + 16 bytes) never are. Bun's socket write takes
// what the kernel takes and says how much; the rest waits here as views of the caller's buffers, so a
// packet is handed to the kernel straight from where it was encrypted. Small writes (a window adjust,
// a channel open, EOF and close) are joined: for a forward's socket those of one callback, for the SSH
// transport those of a whole turn of the event loop, where many connections' packets meet.

import { EventEmitter } from "node:events";
import { lookup } from "node:dns";
import { isIP } from "node:net";
import { givePacket } from "./packet-pool.ts";
import { loadWritev, MAX_BUFFERS, writeMany, writevReady } from "./writev.ts";

interface BunSocket {
  write(data: Uint8Array): number;
  end(): void;
  shutdown(halfClose?: boolean): void;
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
interface BunSocketData {
  data: BunTcpSocket | undefined;
}
interface BunListener {
  port: number;
  hostname: string;
  stop(closeActiveConnections?: boolean): void;
}
declare const Bun: {
  connect(o: { hostname: string; port: number; allowHalfOpen: boolean; socket: BunHandlers }): Promise<BunSocket>;
  listen(o: ({ hostname: string; port: number } | { unix: string }) & { allowHalfOpen: boolean; socket: BunHandlers }): BunListener;
};

/** Writes smaller than this, made in one turn of the event loop, are joined into one send. */
const SMALL_WRITE = 4096;
/** What a paused socket holds in user space before Bun's socket itself stops reading. */
const HOLD_BYTES = 64 * 1024;
/** What write() reports as "over the high-water mark" (node:net's default). */
const HIGH_WATER = 16 * 1024;

type WriteCb = (err?: Error | null) => void;

/**
 * Buffers Bun read and handed to 'data' as they were (each its own memory), not yet given to
 * anyone else (unshift) and not yet recycled. Bun makes a new buffer for every read; freed only by
 * the collector, a download's kept some 40 MiB more in RSS than was ever in flight.
 */
const fresh = new WeakSet<Uint8Array>();
/** Smaller reads (a connection's requests and replies) are cheap for the collector: not worth the bookkeeping. */
const RECYCLE_BYTES = 16 * 1024;
/** ArrayBuffer.prototype.transfer (ES2024; Bun has it): frees the memory at once, leaving it empty. */
const detach = (ArrayBuffer.prototype as { transfer?: (n: number) => ArrayBuffer }).transfer;
const recycled = { transports: 0, others: 0 };
/** For tests: how many read buffers recycle() has freed in this process, SSH transports' (joinPerTurn) and others'. */
export const recycledReads = (): Readonly<typeof recycled> => ({ ...recycled });
interface Queued {
  buf: Uint8Array;
  cb: WriteCb | undefined;
}

export class BunTcpSocket extends EventEmitter {
  /** Once a write's callback has run, this socket holds nothing of what was written (see recycle()). */
  readonly releasesWritten = true;
  connecting = true;
  destroyed = false;
  readable = true;
  writable = true;

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
  /** Bun's socket itself is paused (not only this wrapper): past HOLD_BYTES held, or asked by a writer's backpressure. */
  private hardPaused = false;
  private heldBytes = 0;
  private addresses: { remoteAddress?: string; remotePort?: number; localAddress?: string; localPort?: number } = {};
  private held: Buffer[] = [];
  private closeEmitted = false;
  private noDelay = true;
  private finished = false;
  private peerEnded = false;
  private endEmitted = false;
  /** Bun's socket has closed while this one still held bytes to read (see onClose). */
  private bunClosed = false;

  /**
   * `allowHalfOpen` as in node:net: false for the SSH transport (the peer's end ends this side too,
   * as ssh2 expects of a client socket), true for a forward's local end (the end is passed on).
   */
  private constructor(
    private readonly allowHalfOpen: boolean,
    private readonly joinPerTurn = false,
  ) {
    super();
  }

  /**
   * Looks `host` up (emitting 'lookup' as node:net does), then connects; 'connect' or 'error' follows.
   * `halfOpen` for a forward's far end (-R's target: the peer's end is passed on); the SSH
   * transport ends its side with the peer's, as a node:net client socket does.
   * `joinPerTurn` for a socket that carries many connections (the SSH transport): small writes wait
   * for the end of the event loop's turn (setImmediate) rather than of the callback (nextTick), so the
   * channel opens, data and closes of a burst of connections become one send, not one send each —
   * on loopback a send also runs the receiver's TCP input, so each one saved is several microseconds.
   */
  static connect(host: string, port: number, o: { halfOpen?: boolean; joinPerTurn?: boolean } = {}): BunTcpSocket {
    loadWritev();
    const sock = new BunTcpSocket(o.halfOpen === true, o.joinPerTurn === true);
    const dial = (address: string) => {
      if (sock.destroyed) return;
      Bun.connect({ hostname: address, port, allowHalfOpen: true, socket: sock.connectHandlers() }).catch(() => {
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

  /**
   * Listens on `bind`; each connection is handed to `onSocket` paused (as node:net's pauseOnConnect),
   * half-open allowed. Throws what Bun throws for a bind that fails (with node's codes: EADDRINUSE…).
   */
  static listen(bind: { host: string; port: number } | { path: string }, onSocket: (s: BunTcpSocket) => void): BunListener {
    loadWritev();
    const of = (s: BunSocket) => (s as unknown as BunSocketData).data;
    const handlers: BunHandlers = {
      open: (s) => {
        const sock = new BunTcpSocket(true);
        (s as unknown as BunSocketData).data = sock;
        sock.paused = true;
        sock.attach(s);
        onSocket(sock);
      },
      data: (s, d) => of(s)?.onData(d),
      drain: (s) => of(s)?.pump(),
      end: (s) => of(s)?.onEnd(),
      error: (s, err) => of(s)?.fail(err),
      connectError: () => {},
      close: (s, err) => of(s)?.onClose(err),
    };
    const where = "path" in bind ? { unix: bind.path } : { hostname: bind.host, port: bind.port };
    return Bun.listen({ ...where, allowHalfOpen: true, socket: handlers });
  }

  /** ssh2 writes only while this says the peer has not ended (its isWritable, after node's). */
  readonly _readableState = { ended: false };

  get writableLength(): number {
    return this.queued + this.smallBytes;
  }

  // Each of these is a getpeername/getsockname call in Bun: read once, when first asked.
  get remoteAddress(): string | undefined {
    return this.address_("remoteAddress");
  }
  get remotePort(): number | undefined {
    return this.address_("remotePort");
  }
  get localAddress(): string | undefined {
    return this.address_("localAddress");
  }
  get localPort(): number | undefined {
    return this.address_("localPort");
  }
  private address_<K extends keyof BunTcpSocket["addresses"]>(k: K): BunTcpSocket["addresses"][K] {
    if (!(k in this.addresses) && this.s) this.addresses[k] = this.s[k] as never;
    return this.addresses[k];
  }

  /** node:net's readyState, which the engine's pipe reads to choose between a reset and a close. */
  get readyState(): "opening" | "open" | "readOnly" | "writeOnly" | "closed" {
    if (this.destroyed) return "closed";
    if (this.connecting) return "opening";
    const r = !this.peerEnded;
    const w = !this.ending;
    return r && w ? "open" : r ? "readOnly" : w ? "writeOnly" : "closed";
  }

  get closed(): boolean {
    return this.closeEmitted;
  }

  get writableFinished(): boolean {
    return this.finished;
  }

  get writableEnded(): boolean {
    return this.ending;
  }

  /** The descriptor (for getsockopt through FFI, as SO_ORIGINAL_DST needs). */
  get fd(): number | undefined {
    return (this.s as unknown as { fd?: number } | undefined)?.fd;
  }

  address(): { address: string; port: number; family: string } | Record<string, never> {
    if (!this.localAddress) return {};
    return { address: this.localAddress, port: this.localPort ?? 0, family: this.localAddress.includes(":") ? "IPv6" : "IPv4" };
  }

  /** Gives bytes back to the front of what is read next (the SOCKS handshake reader's leftovers). */
  unshift(chunk: Buffer): void {
    fresh.delete(chunk); // a reader had it: it may still hold views of it
    this.held.unshift(chunk);
    this.heldBytes += chunk.length;
    if (!this.paused) queueMicrotask(() => this.resume());
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
      this.scheduleFlush();
    } else {
      // Queued and sent with what else is written in this callback (for the SSH transport, this
      // turn): the packets of one read go to the kernel in one writev (see pump).
      this.stageSmall();
      this.queue.push({ buf, cb });
      this.queued += buf.length;
      this.scheduleFlush();
    }
    const under = this.writableLength < HIGH_WATER;
    if (!under) this.needDrain = true;
    return under;
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    if (this.joinPerTurn) setImmediate(this.flush);
    else process.nextTick(this.flush);
  }

  private readonly flush = () => {
    this.flushScheduled = false;
    this.stageSmall();
    this.pump();
  };

  end(data?: Uint8Array | string | WriteCb, encoding?: BufferEncoding | WriteCb, cb?: WriteCb): this {
    if (typeof data === "function") cb = data;
    if (typeof encoding === "function") cb = encoding;
    // end(data, cb): cb is for 'finish' only, not also the write's callback (node calls it once).
    if (data !== undefined && typeof data !== "function") this.write(data, typeof encoding === "string" ? encoding : undefined);
    if (this.ending || this.destroyed) return this;
    this.ending = true;
    this.writable = false;
    if (cb) this.once("finish", cb);
    this.stageSmall();
    this.pump();
    return this;
  }

  /**
   * Closes now, dropping what still waits to be written, as node's destroy() does: a plain close (a
   * FIN), so a reply already handed to the kernel still reaches the peer. resetAndDestroy() resets.
   */
  destroy(err?: Error): this {
    return this.teardown(err, false);
  }

  /** Bun's terminate() closes with SO_LINGER 0: the peer sees a reset, as with node's resetAndDestroy. */
  resetAndDestroy(): this {
    return this.teardown(undefined, true);
  }

  private teardown(err: Error | undefined, reset: boolean): this {
    if (this.destroyed) return this;
    // Writes wait for the end of their callback (to be sent together); a close right after them
    // still sends what the kernel takes now, as node's does, whose writes go out at once.
    if (!reset && this.s && !this.bunClosed) {
      this.stageSmall();
      this.writeQueued(this.s);
    }
    this.destroyed = true;
    this.readable = false;
    this.writable = false;
    if (reset) this.s?.terminate();
    else this.s?.end();
    const dropped = this.queue.splice(0).map((q) => q.cb);
    dropped.push(...this.smallCbs.splice(0));
    this.small = [];
    this.queued = this.smallBytes = 0;
    this.held = []; // nothing is read from a destroyed socket
    this.heldBytes = 0;
    process.nextTick(() => {
      const gone = Object.assign(new Error("the socket was destroyed"), { code: "ERR_STREAM_DESTROYED" });
      for (const cb of dropped) cb?.(gone);
      if (err) this.emit("error", err);
      this.emitClose(err !== undefined);
    });
    return this;
  }


  /**
   * Paused, 'data' waits here; Bun's socket stops reading only once HOLD_BYTES wait. Pausing and
   * resuming Bun's socket is a system call each (epoll), and every connection starts paused until
   * its channel is open, while what it sends first is a few bytes: those are held instead.
   */
  pause(): this {
    this.paused = true;
    if (this.heldBytes >= HOLD_BYTES) this.hardPause();
    return this;
  }

  resume(): this {
    this.paused = false;
    if (this.hardPaused) {
      this.hardPaused = false;
      this.s?.resume();
    }
    // As a node stream does, what was held flows from the next tick on, not inside resume().
    if (this.held.length > 0 || this.listenerCount("resume") > 0) process.nextTick(() => this.flushHeld());
    return this;
  }

  private flushHeld(): void {
    while (!this.paused && this.held.length > 0) {
      const d = this.held.shift()!;
      this.heldBytes -= d.length;
      this.emit("data", d);
    }
    if (!this.paused && this.held.length === 0) this.emit("resume");
  }

  setNoDelay(on = true): this {
    // Bun's sockets have TCP_NODELAY on from the start (seen in strace): a second call is a syscall for nothing.
    if (on === this.noDelay) return this;
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

  private connectHandlers(): BunHandlers {
    return {
      open: (s) => {
        if (this.destroyed) return s.terminate();
        this.attach(s);
        this.emit("connect");
        this.emit("ready");
        this.pump();
      },
      data: (_s, d) => this.onData(d),
      drain: () => this.pump(),
      end: () => this.onEnd(),
      error: (_s, err) => this.fail(err),
      connectError: (_s, err) => this.fail(err),
      close: (_s, err) => this.onClose(err),
    };
  }

  private attach(s: BunSocket): void {
    this.s = s;
    this.connecting = false;
    if (!this.noDelay) s.setNoDelay(false);
  }

  private hardPause(): void {
    if (this.hardPaused || !this.s) return;
    this.hardPaused = true;
    this.s.pause();
  }

  /**
   * The one reader of a 'data' chunk is done with it and nothing refers to it any more (for the
   * SSH connection: ssh2 has parsed it; for a forward: the other side's write callbacks have run):
   * its memory is freed now instead of at some later collection. Anything this socket did not
   * hand out as it was read is ignored.
   */
  recycle(chunk: Uint8Array): void {
    if (!fresh.delete(chunk) || !detach) return;
    try {
      detach.call(chunk.buffer, 0);
      if (this.joinPerTurn) recycled.transports++;
      else recycled.others++;
    } catch {
      // Not detachable after all (pinned by the runtime): the collector frees it as before.
    }
  }

  private onData(d: Buffer): void {
    if (this.destroyed) return;
    if (d.length >= RECYCLE_BYTES && d.byteOffset === 0 && d.byteLength === d.buffer.byteLength) fresh.add(d);
    if (!this.paused) return void this.emit("data", d);
    this.held.push(d);
    this.heldBytes += d.length;
    if (this.heldBytes >= HOLD_BYTES) this.hardPause();
  }

  private onEnd(): void {
    if (this.peerEnded) return;
    this.peerEnded = true;
    this.readable = false;
    this._readableState.ended = true;
    // As in a node stream, a paused socket says 'end' only once it flows again, after what it held:
    // a connection whose channel is still opening must not end before anyone listens.
    if (this.paused) return void this.once("resume", () => this.emitEnd());
    this.emitEnd();
  }

  private emitEnd(): void {
    if (this.endEmitted || this.destroyed) return;
    this.endEmitted = true;
    this.emit("end");
    // node:net without allowHalfOpen: the peer's end ends this side too once its writes are out.
    if (!this.allowHalfOpen) this.end();
  }

  private onClose(err: Error | undefined): void {
    // A reset arrives here, not at error(): said as node:net says it, an 'error' then 'close'.
    if (err && !this.destroyed) return this.fail(err);
    if (this.destroyed) return void process.nextTick(() => this.emitClose(false));
    // Bun reports the peer's FIN only as the close once we have shut down (or closed) our side. A
    // paused socket may still hold what came before it: that, then 'end', then 'close', once it
    // flows again — a close here first would drop the tail of an upload whose reply came first.
    this.bunClosed = true;
    this.onEnd();
    if (this.endEmitted && this.held.length === 0) return this.closeNow();
    this.once("resume", () => this.closeNow());
    if (!this.paused) process.nextTick(() => this.flushHeld());
  }

  /** Bun's socket has closed and what it held has been read: closed for us too. */
  private closeNow(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.readable = this.writable = false;
    // Bun may call back inside our own end(): 'close' comes on a later tick, as node's does.
    process.nextTick(() => this.emitClose(false));
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
    if (this.small.length > 1) for (const b of this.small) givePacket(b); // copied: their memory is free
    const cbs = this.smallCbs;
    this.queue.push({ buf, cb: cbs.length === 0 ? undefined : cbs.length === 1 ? cbs[0] : (err) => cbs.forEach((c) => c(err)) });
    this.queued += this.smallBytes;
    this.small = [];
    this.smallBytes = 0;
    this.smallCbs = [];
  }

  /**
   * Hands the kernel what is queued, in order, as far as it takes it: "sent" when all of it went,
   * "waiting" when the rest waits for Bun's drain, "failed" when the socket is closed.
   */
  private writeQueued(s: BunSocket): "sent" | "waiting" | "failed" {
    while (this.queue.length > 0) {
      // Several waiting: one writev for them; what it does not take goes on below, one buffer at a
      // time through Bun's write, which then waits for the socket to drain (or fails) as it always has.
      // Bun's descriptor, read now: -1 once Bun has closed it (checked), so a number that another
      // socket may have been given since is never written to.
      const fd = this.queue.length > 1 && writevReady() ? this.fd : undefined;
      if (fd !== undefined && fd >= 0) {
        const n = writeMany(fd, this.queue, Math.min(this.queue.length, MAX_BUFFERS));
        if (n > 0 && this.took(n)) continue;
      }
      const head = this.queue[0]!;
      const whole = head.buf.length;
      const n = s.write(head.buf);
      if (n < 0) return "failed";
      this.took(n);
      if (n < whole) return "waiting";
    }
    return "sent";
  }

  /**
   * The kernel has `n` bytes from the front of the queue: the writes it has whole leave the queue
   * (their memory back to the pool, their callbacks due); false when it has one only in part.
   */
  private took(n: number): boolean {
    this.queued -= n;
    for (let head = this.queue[0]; head && n >= head.buf.length; head = this.queue[0]) {
      n -= head.buf.length;
      this.queue.shift();
      // All of it is in the kernel now: a packet's memory can carry the next one.
      givePacket(head.buf);
      if (head.cb) process.nextTick(head.cb);
    }
    if (n === 0) return true;
    this.queue[0]!.buf = this.queue[0]!.buf.subarray(n);
    return false;
  }

  /** Hands the kernel what it takes, in order; what it does not take waits for Bun's drain. */
  private pump(): void {
    const s = this.s;
    if (!s || this.destroyed) return;
    if (this.bunClosed) {
      // Closed under us while it still held bytes to read: nothing more reaches the peer.
      if (this.queue.length > 0) return this.fail(Object.assign(new Error("write to a closed socket"), { code: "EPIPE" }));
      if (this.ending && !this.finished && this.smallBytes === 0) {
        this.finished = true;
        this.emit("finish");
      }
      return;
    }
    const sent = this.writeQueued(s);
    if (sent === "failed") return this.fail(Object.assign(new Error("write to a closed socket"), { code: "EPIPE" }));
    if (sent === "waiting") return;
    if (this.smallBytes > 0) return; // a flush is scheduled for them
    if (this.needDrain) {
      this.needDrain = false;
      this.emit("drain");
      // A 'drain' listener may have written and ended already; a nested pump() then finishes, not this one.
      if (this.destroyed || this.queue.length > 0 || this.smallBytes > 0) return;
    }
    if (this.ending && !this.finished) {
      this.finished = true;
      // Half-close while the peer may still send (its bytes still come in); a full close after its end.
      this.emit("finish");
      if (this.peerEnded) s.end();
      else s.shutdown();
    }
  }
}
