// Several buffers to one socket in one system call: writev(2) through bun:ffi, for bun-tcp.ts.
//
// Why: a read from the SSH connection holds several packets (Bun reads up to ~256 KiB at a time), and
// each packet's data became one send() to the forward's socket: `strace` of a download counted 8–9
// sends per receive, against OpenSSH's ~1.5 writes per read (it gathers a channel's data in one
// buffer). On loopback each send also runs the receiver's TCP input and wakes it, so the count
// itself costs. writev hands the kernel the queued views as they lie — no copy to join them.
//
// Only under Bun on Linux with glibc; until it has loaded, or where it cannot, callers write one
// buffer at a time as before.

/** Declared here so that `deno check` passes without Bun's types. */
declare const Bun: object | undefined;

/** Buffers per call: far below the kernel's IOV_MAX (1024), and more than one read's packets. */
export const MAX_BUFFERS = 64;

type WritevCall = (fd: number, iov: Uint32Array, count: number) => number;
let writev: WritevCall | undefined;
let pointer: ((b: Uint8Array) => number) | undefined;
/** struct iovec[]: base (64 bits, as two 32-bit halves, little endian), then length (likewise). */
const iov = new Uint32Array(4 * MAX_BUFFERS);

let loading = false;

/** Starts loading writev once; what is written before it has loaded goes one buffer at a time. */
export function loadWritev(): void {
  if (loading || typeof Bun === "undefined" || process.platform !== "linux" || process.env.FWD_NO_WRITEV === "1") return;
  loading = true;
  void (async () => {
    try {
      const { dlopen, FFIType: T, ptr } = await import("bun:ffi");
      const { symbols } = dlopen("libc.so.6", { writev: { args: [T.i32, T.ptr, T.i32], returns: T.i64 } });
      pointer = (b) => ptr(b);
      writev = (fd, v, count) => Number(symbols.writev(fd, v, count));
    } catch {
      // No libc.so.6 (musl) or no FFI: one buffer per write, as before.
    }
  })();
}

/** Whether writeMany can be called. */
export const writevReady = (): boolean => writev !== undefined;

/**
 * Hands the kernel the first `count` of `bufs` (each non-empty, count ≤ MAX_BUFFERS) in order, in
 * one call; returns the bytes it took, or -1 when it took none (full, or an error: the caller's own
 * write then learns which, and waits for the socket to drain or fails as it always has).
 */
export function writeMany(fd: number, bufs: readonly { buf: Uint8Array }[], count: number): number {
  if (!writev || !pointer) return -1;
  for (let i = 0; i < count; i++) {
    const b = bufs[i]!.buf;
    if (b.length === 0) return -1; // ptr() has no address for it; the one-at-a-time path copes
    // Taken just before the call, as aes-gcm-ffi.ts does: ptr() may move a small array's bytes once.
    const p = pointer(b);
    iov[4 * i] = p >>> 0;
    iov[4 * i + 1] = Math.floor(p / 0x1_0000_0000);
    iov[4 * i + 2] = b.length;
    iov[4 * i + 3] = 0;
  }
  calls++;
  const n = writev(fd, iov, count);
  return n > 0 ? n : -1;
}

let calls = 0;
/** For tests: how many writev calls were made. */
export const writevCalls = (): number => calls;
