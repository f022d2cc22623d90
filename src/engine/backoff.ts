// Reconnect pacing: exponential backoff with jitter and a cap, reset once a session has lasted
// (chisel's rule: a flapping server must not be hammered, a stable one gets a fast first retry).

export interface ReconnectPolicy {
  enabled: boolean;
  /** Attempts after a loss before giving up; Infinity to never give up. */
  maxRetries: number;
  initialDelayMs: number;
  maxDelayMs: number;
  /** A session that stayed up this long resets the attempt count. */
  stableAfterMs: number;
}

export const DEFAULT_RECONNECT: ReconnectPolicy = {
  enabled: true,
  maxRetries: Infinity,
  initialDelayMs: 1_000,
  maxDelayMs: 30_000,
  stableAfterMs: 30_000,
};

/**
 * The wait before attempt `n` (1-based): initial × 2^(n-1), capped, then scaled into [50%, 100%] by
 * `random` so that many clients of one server do not retry in step.
 */
export function backoffDelay(n: number, p: ReconnectPolicy, random: () => number = Math.random): number {
  const base = Math.min(p.maxDelayMs, p.initialDelayMs * 2 ** Math.max(0, n - 1));
  return Math.round(base * (0.5 + 0.5 * random()));
}
