// Reads a handshake off a stream a few bytes at a time, with a deadline, without losing what came
// after it: leftover bytes are handed back (unshift) before the stream is piped onward. What it holds
// is bounded: past 64 KiB it stops reading (a handshake needs at most 8 KiB of it).

import type { Duplex } from "node:stream";

export class HandshakeError extends Error {
  constructor(readonly why: "timeout" | "closed" | "too-long") {
    super(`socks handshake: ${why}`);
  }
}

const MAX_BUFFERED = 64 * 1024;

export class ByteReader {
  private buf: Buffer = Buffer.alloc(0);
  private wake: (() => void) | undefined;
  private failed: HandshakeError | undefined;
  private capped = false;
  private gone: (() => void) | undefined;
  private deadline: (() => void) | undefined;
  private readonly timer: ReturnType<typeof setTimeout>;
  private readonly onData = (d: Buffer) => {
    this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
    if (this.buf.length >= MAX_BUFFERED && !this.capped) {
      this.capped = true;
      this.s.pause();
    }
    this.wake?.();
  };
  private readonly onEnd = () => {
    this.fail(new HandshakeError("closed"));
    this.gone?.();
  };

  constructor(
    private readonly s: Duplex,
    timeoutMs: number,
  ) {
    s.on("data", this.onData).once("end", this.onEnd).once("close", this.onEnd).once("error", this.onEnd);
    // Closed before it was read (reset, or ended while it waited for a handshake slot): its 'close'
    // has come and gone, and no event would ever say so; failed now, not at the deadline.
    if (s.destroyed) this.failed = new HandshakeError("closed");
    s.resume(); // a listener's sockets arrive paused (pauseOnConnect); a 'data' listener alone won't start them
    this.timer = setTimeout(() => {
      this.fail(new HandshakeError("timeout"));
      this.deadline?.();
    }, timeoutMs);
  }

  /**
   * The next message that `parse` finds whole at the front of what has come (it says how many bytes
   * it took), waiting only while it says undefined: a request that arrives in one piece costs one
   * look, not a wait per field. `parse` must return a value once its message cannot grow further.
   */
  async take<T>(parse: (b: Buffer) => readonly [T, number] | undefined): Promise<T> {
    for (;;) {
      const got = parse(this.buf);
      if (got) {
        this.buf = this.buf.subarray(got[1]);
        return got[0];
      }
      await this.more();
    }
  }

  /** How many bytes have come that no message has taken yet. */
  get buffered(): number {
    return this.buf.length;
  }

  /** The next `n` bytes. */
  bytes(n: number): Promise<Buffer> {
    return this.take((b) => (b.length >= n ? [b.subarray(0, n), n] : undefined));
  }

  async byte(): Promise<number> {
    return (await this.bytes(1))[0]!;
  }

  /** Bytes up to a NUL (not included), at most `max`. */
  async untilNul(max: number): Promise<Buffer> {
    for (;;) {
      const at = this.buf.indexOf(0);
      if (at >= 0) {
        const out = this.buf.subarray(0, at);
        this.buf = this.buf.subarray(at + 1);
        return out;
      }
      if (this.buf.length > max) throw new HandshakeError("too-long");
      await this.more();
    }
  }

  /** An HTTP request head: everything up to the blank line, at most 8 KiB. */
  async untilCrlfCrlf(): Promise<string> {
    for (;;) {
      const at = this.buf.indexOf("\r\n\r\n");
      if (at >= 0) {
        const out = this.buf.subarray(0, at + 4).toString("latin1");
        this.buf = this.buf.subarray(at + 4);
        return out;
      }
      if (this.buf.length > 8192) throw new HandshakeError("too-long");
      await this.more();
    }
  }

  /**
   * Keeps listening while the caller opens the connection, so that a client hanging up meanwhile is
   * noticed (a paused socket would not see its FIN): `onGone` runs then, and `onDeadline` when the
   * deadline passes first (it covers the opening too: one timer for the whole handshake). A SOCKS
   * client speaks only after the reply, so an end of its stream before it means it gave up.
   */
  watch(onGone: () => void, onDeadline: () => void): void {
    this.gone = onGone;
    this.deadline = onDeadline;
    if (this.failed?.why === "closed") onGone();
    else if (this.failed) onDeadline();
  }

  /** Stops reading and gives unread bytes back to the stream, paused, for whoever pipes it next. */
  release(): void {
    clearTimeout(this.timer);
    this.gone = undefined;
    this.deadline = undefined;
    this.s.off("data", this.onData).off("end", this.onEnd).off("close", this.onEnd).off("error", this.onEnd);
    this.s.pause();
    // After its end a stream takes nothing back (node:net destroys itself on such an unshift), and
    // nobody would read it: the handshake ends as "client left".
    if (this.buf.length && !this.s.readableEnded) this.s.unshift(this.buf);
    this.buf = Buffer.alloc(0);
  }

  private more(): Promise<void> {
    if (this.failed) return Promise.reject(this.failed);
    if (this.capped) {
      this.capped = false;
      this.s.resume();
    }
    return new Promise((resolve, reject) => {
      this.wake = () => {
        this.wake = undefined;
        if (this.failed) reject(this.failed);
        else resolve();
      };
    });
  }

  private fail(e: HandshakeError): void {
    this.failed ??= e;
    this.wake?.();
  }
}
