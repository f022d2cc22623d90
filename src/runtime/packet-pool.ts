// Reused memory for SSH packets, one pool for each way.
//
// Outgoing: an upload makes one ~32 KiB packet per 32 KiB of data; fresh memory for each costs an
// allocation and, where the collector has given pages back, page faults on the first copy into it
// (profiled under Bun: ~15 % of an upload's CPU). A packet comes from here (aes-gcm-ffi.ts) and goes
// back once the socket has handed all of it to the kernel (bun-tcp.ts); nothing else holds an
// encrypted packet after it is written.
//
// Incoming: a download's packets are decrypted into memory from here rather than where they were
// read, so the socket's read buffer is free as soon as ssh2 has parsed it (bun-tcp.ts recycle()).
// A packet's memory comes back only when the one reader of its channel data says so — the pipe,
// once the bytes were written on (src/engine/pipe.ts) — never by the socket that wrote them: other
// messages' payloads (a host key, a request) may be held anywhere, and are left to the collector.

/** Room for the largest packet ssh2 sends or accepts (35,000 bytes with the tag) and 2 of alignment. */
const SLAB_BYTES = 35_056;
/** At most this many wait in each pool (~2 MiB); the rest are left to the collector. */
const MAX_FREE = 64;

class Pool {
  private readonly free: Buffer[] = [];
  /** Slabs of this pool that are out (taken, not yet given back): a second give is ignored. */
  private readonly out = new WeakSet<ArrayBufferLike>();
  /** Takes served from memory given back (for tests). */
  reused = 0;

  /** `n` bytes that start `skip` bytes into their own memory. */
  take(n: number, skip: number): Buffer {
    if (n + skip > SLAB_BYTES) return Buffer.allocUnsafe(n + skip).subarray(skip);
    let slab = this.free.pop();
    if (slab) this.reused++;
    else slab = Buffer.allocUnsafe(SLAB_BYTES);
    this.out.add(slab.buffer);
    return slab.subarray(skip, skip + n);
  }

  /** Takes back memory that came from here and is out; anything else is ignored. */
  give(b: Uint8Array): void {
    if (!this.out.delete(b.buffer)) return;
    if (this.free.length < MAX_FREE) this.free.push(Buffer.from(b.buffer, 0, SLAB_BYTES));
  }

  /** Memory that came from here will not be given back (a reader may keep views of it): the collector's. */
  forget(b: Uint8Array): void {
    this.out.delete(b.buffer);
  }

  get waiting(): number {
    return this.free.length;
  }
}

const outgoing = new Pool();
const incoming = new Pool();

/**
 * An outgoing packet of `n` bytes that starts 2 bytes into its own memory (so an SSH packet's
 * payload, at byte 14, is 16-byte aligned: JavaScriptCore copies unequally aligned buffers byte by byte).
 */
export const takePacket = (n: number): Buffer => outgoing.take(n, 2);

/** Takes back an outgoing packet's memory once the kernel has all of it; anything else is ignored. */
export const givePacket = (b: Uint8Array): void => outgoing.give(b);

/**
 * Below this an incoming packet gets memory of its own size: most are not channel data (a window
 * adjust, a channel's open, EOF and close), nobody gives them back, and a slab each would be 35 KB
 * of garbage per message where the collector handles a small buffer cheaply.
 */
const SMALL_INBOUND = 2048;

/** An incoming packet of `n` bytes (decrypted into, see aes-gcm-ffi.ts). */
export const takeInbound = (n: number): Buffer => (n < SMALL_INBOUND ? Buffer.allocUnsafe(n) : incoming.take(n, 0));

/**
 * Takes back an incoming packet's memory, given any view of it (its channel data), once nothing
 * refers to it any more; anything else is ignored.
 */
export const recycleInbound = (b: Uint8Array): void => incoming.give(b);

/** The incoming packet `b` views is never to be reused: a reader had it and may still hold views of it. */
export const forgetInbound = (b: Uint8Array): void => incoming.forget(b);

/** For tests: how many wait to be reused. */
export const freePackets = (): number => outgoing.waiting;
export const freeInbound = (): number => incoming.waiting;
export const inboundReuses = (): number => incoming.reused;
