// The receive window of each channel fwd reads from: how much the server may send before it hears
// back. OpenSSH's is fixed at 2 MiB, which caps one channel at 2 MiB per round trip (~160 Mbit/s at
// 100 ms). fwd's ssh2 (patched, see patches/) starts there and doubles the window each time half of
// it was taken by a reader that kept pace, up to a ceiling; a reader that falls behind stops the
// growth, so a stalled connection never holds more than its window.

/** The ceiling by default: 16 MiB reaches ~1.3 Gbit/s per channel at 100 ms. */
export const DEFAULT_MAX_WINDOW_BYTES = 16 * 1024 * 1024;
/** ssh2's (and OpenSSH's) fixed window: asking for it turns growth off. */
export const MIN_WINDOW_BYTES = 2 * 1024 * 1024;
/** SSH's window is a 32-bit count; 1 GiB is already beyond any path this tool is for. */
export const MAX_WINDOW_BYTES = 1024 * 1024 * 1024;

/** The rate a grown window is sized for: beyond it one channel is CPU-bound here anyway. */
const TARGET_BYTES_PER_S = 125_000_000; // 1 Gbit/s

/**
 * The ceiling for a path with this round trip: what keeps TARGET in flight (the bandwidth-delay
 * product, with half again for the reader's own pauses), between OpenSSH's 2 MiB and `max`. On
 * loopback or a LAN that is 2 MiB, no growth: a large window buys nothing there, and measured on
 * loopback a 16 MiB one made a 512 MiB download 3.5x slower (its bursts outrun the pipe's pauses).
 */
export function windowCeiling(rttMs: number, max: number): number {
  const bdp = TARGET_BYTES_PER_S * (rttMs / 1000) * 1.5;
  return Math.round(Math.min(max, Math.max(MIN_WINDOW_BYTES, bdp)));
}

const UNITS: Record<string, number> = { "": 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/** `16M`, `512k`, `1G` or plain bytes (binary units, as HPN-SSH's buffer sizes). */
export function parseSize(s: string): number | undefined {
  const m = /^(\d{1,10})([kmg]?)i?b?$/i.exec(s.trim());
  if (!m) return undefined;
  const n = Number(m[1]) * UNITS[m[2]!.toLowerCase()]!;
  return Number.isSafeInteger(n) ? n : undefined;
}
