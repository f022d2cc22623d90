// The status page's memory of the last minutes: throughput per forward (bytes/s up and down) and
// round-trip time per session, sampled from engine snapshots once a second into fixed-size rings, so
// a reload (or a second tab, or a script) sees the same history and fwd's memory for it never grows:
// 600 samples × 4 bytes per series, for at most MAX_SERIES forwards and as many sessions.

import type { EngineSnapshot } from "../engine/engine.ts";

/** One sample a second: the page's own tick, and fine enough to see a transfer start and stop. */
export const HISTORY_STEP_MS = 1_000;
/** Ten minutes at one sample a second. */
export const HISTORY_SAMPLES = 600;
/** Forwards (and, separately, sessions) charted; a plan with more leaves the rest uncharted. */
export const MAX_SERIES = 128;

/** What the page and `GET /api/v1/history` get: oldest sample first, `null` where there was none. */
export interface HistoryJson {
  stepMs: number;
  /** When each sample was taken (ms since the epoch). */
  t: number[];
  forwards: { id: string; up: (number | null)[]; down: (number | null)[] }[];
  sessions: { name: string; rttMs: (number | null)[] }[];
}

/** The newest sample alone, carried by every status snapshot so a live page extends its charts. */
export interface HistorySample {
  t: number;
  forwards: { id: string; up: number | null; down: number | null }[];
  sessions: { name: string; rttMs: number | null }[];
}

interface ForwardSeries {
  up: Float32Array;
  down: Float32Array;
  /** The byte counters at the previous sample, to turn totals into rates. */
  last?: { at: number; up: number; down: number };
}

export class History {
  private readonly t: Float64Array;
  /** Index of the next sample to write; `count` of them are valid, ending just before it. */
  private head = 0;
  private count = 0;
  private readonly forwards = new Map<string, ForwardSeries>();
  private readonly sessions = new Map<string, Float32Array>();

  constructor(private readonly size = HISTORY_SAMPLES) {
    this.t = new Float64Array(size);
  }

  /** Adds one sample taken from `s` at `at`. Series for forwards or sessions gone from `s` are dropped. */
  record(s: EngineSnapshot, at: number): void {
    const i = this.head;
    this.t[i] = at;
    const seen = new Set<string>();
    for (const f of s.forwards) {
      const id = f.spec.id;
      // Ids are unique in a plan; were two alike, one series would take turns and chart nonsense.
      if (seen.has(id)) continue;
      const series = this.forwards.get(id) ?? this.add(this.forwards, id, (): ForwardSeries => ({ up: this.empty(), down: this.empty() }));
      if (!series) continue;
      seen.add(id);
      const { bytesUp: up, bytesDown: down } = f.stats;
      const dt = series.last ? (at - series.last.at) / 1000 : 0;
      // The first sample of a forward has nothing to compare with; counters never go back, but a
      // clock that does (or a zero step) must not chart a negative or infinite rate.
      series.up[i] = series.last && dt > 0 ? Math.max(0, (up - series.last.up) / dt) : NaN;
      series.down[i] = series.last && dt > 0 ? Math.max(0, (down - series.last.down) / dt) : NaN;
      series.last = { at, up, down };
    }
    drop(this.forwards, seen);
    seen.clear();
    for (const x of s.sessions) {
      const series = this.sessions.get(x.name) ?? this.add(this.sessions, x.name, () => this.empty());
      if (!series) continue;
      seen.add(x.name);
      // A round trip is only measured while the session is up; a stale one from before a drop is not charted.
      series[i] = x.state === "up" && x.rttMs !== undefined ? x.rttMs : NaN;
    }
    drop(this.sessions, seen);
    this.head = (i + 1) % this.size;
    this.count = Math.min(this.count + 1, this.size);
  }

  /** Every sample kept, oldest first. */
  json(): HistoryJson {
    const order = Array.from({ length: this.count }, (_, k) => (this.head - this.count + k + this.size) % this.size);
    const read = (a: Float32Array, round: (n: number) => number) => order.map((i) => (Number.isNaN(a[i]!) ? null : round(a[i]!)));
    return {
      stepMs: HISTORY_STEP_MS,
      t: order.map((i) => this.t[i]!),
      forwards: [...this.forwards].map(([id, f]) => ({ id, up: read(f.up, Math.round), down: read(f.down, Math.round) })),
      sessions: [...this.sessions].map(([name, rtt]) => ({ name, rttMs: read(rtt, tenths) })),
    };
  }

  /** The newest sample, or undefined before the first. */
  latest(): HistorySample | undefined {
    if (this.count === 0) return undefined;
    const i = (this.head - 1 + this.size) % this.size;
    const at = (a: Float32Array, round: (n: number) => number) => (Number.isNaN(a[i]!) ? null : round(a[i]!));
    return {
      t: this.t[i]!,
      forwards: [...this.forwards].map(([id, f]) => ({ id, up: at(f.up, Math.round), down: at(f.down, Math.round) })),
      sessions: [...this.sessions].map(([name, rtt]) => ({ name, rttMs: at(rtt, tenths) })),
    };
  }

  /** A series with no samples yet: NaN reads as "none" (null in JSON, a gap in the chart). */
  private empty(): Float32Array {
    return new Float32Array(this.size).fill(NaN);
  }

  private add<T>(map: Map<string, T>, key: string, make: () => T): T | undefined {
    if (map.size >= MAX_SERIES) return undefined;
    const v = make();
    map.set(key, v);
    return v;
  }
}

const tenths = (n: number) => Math.round(n * 10) / 10;

function drop<T>(map: Map<string, T>, keep: Set<string>): void {
  for (const k of map.keys()) if (!keep.has(k)) map.delete(k);
}
