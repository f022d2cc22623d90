// Per-forward counters: what is open now, what has been, bytes each way and why opens failed.
// Plain numbers that a snapshot copies, so readers never hold live engine state.

export interface ForwardStats {
  open: number;
  total: number;
  bytesUp: number; // client → target
  bytesDown: number; // target → client
  failures: Record<string, number>; // open failures by reason code
}

export const emptyStats = (): ForwardStats => ({ open: 0, total: 0, bytesUp: 0, bytesDown: 0, failures: {} });

export function countFailure(s: ForwardStats, reason: string): void {
  s.failures[reason] = (s.failures[reason] ?? 0) + 1;
}

export const copyStats = (s: ForwardStats): ForwardStats => ({ ...s, failures: { ...s.failures } });
