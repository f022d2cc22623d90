// Reused memory for outgoing SSH packets. An upload makes one ~32 KiB packet per 32 KiB of data;
// fresh memory for each costs an allocation and, where the collector has given pages back, page
// faults on the first copy into it (profiled under Bun: ~15 % of an upload's CPU). A packet comes
// from here (aes-gcm-ffi.ts) and goes back once the socket has handed all of it to the kernel
// (bun-tcp.ts); nothing else holds an encrypted packet after it is written.

/** Room for the largest packet ssh2 sends (35,000 bytes with the tag) and the 2 bytes of alignment. */
const SLAB_BYTES = 35_056;
/** At most this many wait here (~2 MiB); the rest are left to the collector. */
const MAX_FREE = 64;

const free: Buffer[] = [];
const slabs = new WeakSet<ArrayBufferLike>();

/**
 * `n` bytes that start 2 bytes into their own memory (so an SSH packet's payload, at byte 14, is
 * 16-byte aligned: JavaScriptCore copies unequally aligned buffers byte by byte).
 */
export function takePacket(n: number): Buffer {
  if (n + 2 > SLAB_BYTES) return Buffer.allocUnsafe(n + 2).subarray(2);
  let slab = free.pop();
  if (!slab) {
    slab = Buffer.allocUnsafe(SLAB_BYTES);
    slabs.add(slab.buffer);
  }
  return slab.subarray(2, 2 + n);
}

/** Takes back a packet's memory if it came from here; anything else is ignored. */
export function givePacket(b: Uint8Array): void {
  if (free.length >= MAX_FREE || !slabs.has(b.buffer)) return;
  free.push(Buffer.from(b.buffer, 0, SLAB_BYTES));
}

/** For tests: how many wait to be reused. */
export const freePackets = (): number => free.length;
