// Every pick strategy of a pooled forward, as tables over fake sessions: only live sessions are
// chosen, each strategy spreads (or keeps) connections as it promises, and a session that comes
// back takes its place again.

import { describe, expect, test } from "bun:test";
import { makePicker, type PickKey } from "../../src/engine/pick.ts";
import type { PickStrategy } from "../../src/vocab/forward.ts";
import type { Session } from "../../src/engine/session.ts";

type Fake = { name: string; state: string };
const pool = (...states: string[]): Fake[] => states.map((state, i) => ({ name: `s${i}`, state }));
const picker = (sessions: Fake[], pick: PickStrategy, open: Record<string, number> = {}, rotateEveryMs?: number) =>
  makePicker(sessions as unknown as Session[], { pool: sessions.map((s) => s.name), pick, ...(rotateEveryMs ? { rotateEveryMs } : {}) }, (n) => open[n] ?? 0);
const key = (client: string, host = "example.com"): PickKey => ({ client, host });
const names = (p: (k: PickKey) => Session | undefined, keys: PickKey[]) => keys.map((k) => p(k)?.name);

describe("pick strategies", () => {
  test("round-robin takes the live sessions in turn and skips the down ones", () => {
    const p = picker(pool("up", "down", "up", "up"), "round-robin");
    expect(names(p, Array.from({ length: 6 }, () => key("c")))).toEqual(["s0", "s2", "s3", "s0", "s2", "s3"]);
    p.stop();
  });

  test("random picks only live sessions, and each of them over many picks", () => {
    const p = picker(pool("up", "down", "up"), "random");
    const seen = new Set(names(p, Array.from({ length: 400 }, () => key("c"))));
    expect([...seen].sort()).toEqual(["s0", "s2"]);
    p.stop();
  });

  test("sticky: the same destination host always leaves through the same session (case-insensitive)", () => {
    const p = picker(pool("up", "up", "up"), "sticky");
    const hosts = ["a.example", "b.example", "c.example", "d.example", "e.example", "f.example"];
    const first = hosts.map((h) => p(key("c1", h))!.name);
    expect(hosts.map((h) => p(key("other", h.toUpperCase()))!.name)).toEqual(first);
    expect(new Set(first).size).toBeGreaterThan(1); // it spreads hosts, not one exit for all
    p.stop();
  });

  test("per-client: one client address keeps its session whatever the host", () => {
    const p = picker(pool("up", "up", "up"), "per-client");
    for (const c of ["192.0.2.1", "192.0.2.2", "192.0.2.3", "2001:db8::1"]) {
      const chosen = new Set(["x", "y", "z"].map((h) => p(key(c, h))!.name));
      expect(chosen.size).toBe(1);
    }
    p.stop();
  });

  test("sticky and per-client move to the next live session when theirs goes down, and back when it returns", () => {
    const sessions = pool("up", "up", "up");
    const p = picker(sessions, "per-client");
    const home = p(key("192.0.2.9"))!;
    const i = sessions.findIndex((s) => s.name === home.name);
    sessions[i]!.state = "reconnecting";
    const moved = p(key("192.0.2.9"))!;
    expect(moved.name).toBe(sessions[(i + 1) % 3]!.name);
    sessions[i]!.state = "up";
    expect(p(key("192.0.2.9"))!.name).toBe(home.name);
    p.stop();
  });

  test("least-connections takes the live session with the fewest open, the first in plan order on a tie", () => {
    const table: [Record<string, number>, string[], string][] = [
      [{ s0: 3, s1: 1, s2: 2 }, ["up", "up", "up"], "s1"],
      [{ s0: 3, s1: 1, s2: 2 }, ["up", "down", "up"], "s2"],
      [{ s0: 0, s1: 0, s2: 0 }, ["up", "up", "up"], "s0"],
      [{ s0: 5, s1: 5, s2: 9 }, ["down", "up", "up"], "s1"],
    ];
    for (const [open, states, want] of table) {
      const p = picker(pool(...states), "least-connections", open);
      expect({ open, states, got: p(key("c"))?.name }).toEqual({ open, states, got: want });
      p.stop();
    }
  });

  test("no live session: every strategy says none", () => {
    for (const s of ["round-robin", "random", "sticky", "per-client", "least-connections"] as const) {
      const p = picker(pool("down", "reconnecting"), s);
      expect(p(key("c"))).toBeUndefined();
      p.stop();
    }
  });

  test("rotate_every keeps one exit for everyone and moves to the next on its timer", async () => {
    const p = picker(pool("up", "up", "up"), "round-robin", {}, 30);
    const first = p(key("a"))!.name;
    expect(names(p, [key("b"), key("c", "other.host")])).toEqual([first, first]);
    let next = first;
    for (let i = 0; i < 100 && next === first; i++) {
      await Bun.sleep(10);
      next = p(key("a"))!.name;
    }
    expect(next).toBe(`s${(Number(first.slice(1)) + 1) % 3}`);
    p.stop();
  });
});
