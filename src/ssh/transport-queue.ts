// Backpressure from the SSH connection's own socket to the channels on it. ssh2 writes each packet to
// that socket whatever write() returns, so whenever the server reads slower than fwd sends, every
// channel's whole window (2 MiB) piles up in fwd's memory: 200 stalled uploads through one -L left
// ~400 MiB queued there (measured against OpenSSH 9.2, which stops reading a connection whose
// channels it cannot deliver). Holding a channel's write callback while that queue is over a bound
// makes the channel's writer (the engine's pipe) pause its reader, as for any slow socket.

import type { Duplex, Writable } from "node:stream";

/** What may sit in user space on the way to the server before channel writes wait for it. */
export const TRANSPORT_QUEUE_BYTES = 4 * 1024 * 1024;

type WriteFn = (data: Buffer, encoding: BufferEncoding, cb: (err?: Error | null) => void) => void;

const waiting = new WeakMap<Writable, (() => void)[]>();

/** Makes `ch`'s writes complete only once `sock()` (the connection's socket) is under the bound. */
export function holdWritesWhileQueued(ch: Duplex, sock: () => Writable | undefined): void {
  const target = ch as unknown as { _write: WriteFn };
  const inner = target._write.bind(ch) as WriteFn;
  target._write = (data, encoding, cb) =>
    inner(data, encoding, (err) => {
      const s = sock();
      if (err || !s || s.destroyed || s.writableLength <= TRANSPORT_QUEUE_BYTES) return cb(err);
      whenDrained(s, () => cb());
    });
}

function whenDrained(s: Writable, fn: () => void): void {
  const list = waiting.get(s);
  if (list) return void list.push(fn);
  const fns = [fn];
  waiting.set(s, fns);
  // ssh2's writes are far past the socket's highWaterMark here, so 'drain' comes once it is empty;
  // the kernel's send buffer keeps the link busy meanwhile. A socket that closes releases them too.
  const release = () => {
    s.off("drain", release);
    s.off("close", release);
    waiting.delete(s);
    for (const f of fns) f();
  };
  s.on("drain", release);
  s.on("close", release);
}
