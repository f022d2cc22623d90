// Choosing a session for each new connection when a forward rides on a pool of them (egress
// rotation): only live sessions are candidates, and each strategy decides among them.

import type { Pool } from "../vocab/forward.ts";
import type { Session } from "./session.ts";

export interface PickKey {
  /** The client's address (per-client). */
  client: string;
  /** The destination host (sticky). */
  host: string;
}

export type Picker = ((key: PickKey) => Session | undefined) & { stop(): void };

export function makePicker(sessions: Session[], p: Pool, openOn: (session: string) => number): Picker {
  let turn = 0;
  let active = 0;
  const timer = p.rotateEveryMs ? setInterval(() => (active = (active + 1) % sessions.length), p.rotateEveryMs) : undefined;
  timer?.unref?.();
  const live = () => sessions.filter((s) => s.state === "up");
  /** The session at `index` in plan order, or the next live one after it: stable while it lives. */
  const stableAt = (index: number) => {
    for (let i = 0; i < sessions.length; i++) {
      const s = sessions[(index + i) % sessions.length]!;
      if (s.state === "up") return s;
    }
    return undefined;
  };
  const pick = (key: PickKey): Session | undefined => {
    if (p.rotateEveryMs) return stableAt(active);
    const up = live();
    if (up.length === 0) return undefined;
    switch (p.pick) {
      case "round-robin":
        return up[turn++ % up.length];
      case "random":
        return up[Math.floor(Math.random() * up.length)];
      case "sticky":
        return stableAt(hash(key.host.toLowerCase()) % sessions.length);
      case "per-client":
        return stableAt(hash(key.client) % sessions.length);
      case "least-connections":
        return up.reduce((best, s) => (openOn(s.name) < openOn(best.name) ? s : best));
    }
  };
  return Object.assign(pick, { stop: () => clearInterval(timer) });
}

/** FNV-1a: small, stable across runs, good enough to spread names over a few exits. */
function hash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}
