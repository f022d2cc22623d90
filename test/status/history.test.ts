// The charts' memory without a server: byte totals become rates, round trips are kept only while a
// session is up, the ring keeps the newest samples in order and no more, and series come and go with
// the forwards and sessions of the snapshot, up to a fixed number.

import { expect, test } from "bun:test";
import type { EngineSnapshot } from "../../src/engine/engine.ts";
import { History, MAX_SERIES } from "../../src/status/history.ts";

/** A snapshot with forwards by id and their byte totals, and sessions by name, state and round trip. */
function snap(forwards: [string, number, number][], sessions: [string, string, number?][] = []): EngineSnapshot {
  return {
    forwards: forwards.map(([id, bytesUp, bytesDown]) => ({ spec: { id }, stats: { open: 0, total: 0, bytesUp, bytesDown, failures: {} }, connections: [] })),
    sessions: sessions.map(([name, state, rttMs]) => ({ name, host: name, state, since: 0, reconnects: 0, attempt: 0, history: [], ...(rttMs !== undefined ? { rttMs } : {}) })),
  } as unknown as EngineSnapshot;
}

test("byte totals become bytes per second between samples; the first sample has none", () => {
  const h = new History(10);
  h.record(snap([["a", 0, 0]]), 1_000);
  h.record(snap([["a", 1_000, 4_000]]), 2_000);
  h.record(snap([["a", 1_500, 4_000]]), 4_000);
  expect(h.json()).toEqual({ stepMs: 1_000, t: [1_000, 2_000, 4_000], forwards: [{ id: "a", up: [null, 1_000, 250], down: [null, 4_000, 0] }], sessions: [] });
  expect(h.latest()).toEqual({ t: 4_000, forwards: [{ id: "a", up: 250, down: 0 }], sessions: [] });
});

test("a clock that stands still or goes back charts no rate rather than an infinite or negative one", () => {
  const h = new History(10);
  h.record(snap([["a", 0, 0]]), 1_000);
  h.record(snap([["a", 500, 0]]), 1_000);
  h.record(snap([["a", 900, 0]]), 500);
  expect(h.json().forwards[0]!.up).toEqual([null, null, null]);
});

test("round trips while up, to a tenth of a millisecond; none while connecting, reconnecting or failed", () => {
  const h = new History(10);
  const states: [string, number?][] = [["connecting"], ["up", 4.26], ["reconnecting", 4.26], ["failed"], ["up", 12]];
  states.forEach(([state, rtt], i) => h.record(snap([], [["main", state, rtt]]), i * 1_000));
  expect(h.json().sessions).toEqual([{ name: "main", rttMs: [null, 4.3, null, null, 12] }]);
});

test("the ring keeps the newest samples, oldest first, and its size never grows", () => {
  const h = new History(3);
  for (let i = 1; i <= 7; i++) h.record(snap([["a", i * 100, 0]]), i * 1_000);
  const j = h.json();
  expect(j.t).toEqual([5_000, 6_000, 7_000]);
  expect(j.forwards[0]!.up).toEqual([100, 100, 100]);
});

test("a forward that appears later has no samples before it; one that is gone is dropped", () => {
  const h = new History(5);
  h.record(snap([["a", 0, 0]]), 1_000);
  h.record(snap([["a", 10, 0], ["b", 0, 0]]), 2_000);
  h.record(snap([["a", 20, 0], ["b", 30, 0]]), 3_000);
  expect(h.json().forwards).toEqual([
    { id: "a", up: [null, 10, 10], down: [null, 0, 0] },
    { id: "b", up: [null, null, 30], down: [null, null, 0] },
  ]);
  h.record(snap([["b", 30, 0]]), 4_000);
  expect(h.json().forwards.map((f) => f.id)).toEqual(["b"]);
});

test(`at most ${MAX_SERIES} forwards are charted, whatever the plan holds`, () => {
  const h = new History(2);
  const many = Array.from({ length: MAX_SERIES + 5 }, (_, i): [string, number, number] => [`f${i}`, 0, 0]);
  h.record(snap(many), 1_000);
  const ids = h.json().forwards.map((f) => f.id);
  expect(ids.length).toBe(MAX_SERIES);
  expect(ids.at(-1)).toBe(`f${MAX_SERIES - 1}`);
});
