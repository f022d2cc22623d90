// The event stream's fan-out without HTTP: one serialisation per tick whatever the number of readers,
// the reader limit, and a reader that never reads dropped after a bounded number of frames.

import { expect, test } from "bun:test";
import { StreamHub } from "../../src/status/stream.ts";

/** A hub whose snapshot counts its calls and can wake the test at a given count. */
function hub(maxReaders: number, tickMs: number) {
  let calls = 0;
  const at = new Map<number, () => void>();
  const h = new StreamHub({
    snapshot: () => (at.get(++calls)?.(), { n: calls }),
    onChange: () => () => {},
    maxReaders,
    tickMs,
  });
  return { h, calls: () => calls, when: (n: number) => new Promise<void>((r) => at.set(n, r)) };
}

test("50 readers share one snapshot per tick, each gets every frame", async () => {
  const { h, calls, when } = hub(50, 20);
  const readers = Array.from({ length: 50 }, () => h.open()!.getReader());
  expect(h.open()).toBeUndefined();
  const start = calls();
  expect(start).toBeLessThanOrEqual(2);
  const ticks = when(start + 10);
  // Read as they come, so no reader falls behind.
  const reading = readers.map(async (r) => {
    let n = 0;
    while (!(await r.read()).done) n++;
    return n;
  });
  await ticks;
  h.close();
  const frames = await Promise.all(reading);
  // 50 readers × 10 ticks, and 10 serialisations (plus the first frame's).
  expect(calls()).toBe(start + 10);
  for (const n of frames) expect(n).toBeGreaterThanOrEqual(10);
});

test("a reader that never reads is dropped after 30 skipped frames, and its place is free again", async () => {
  const { h, when } = hub(1, 5);
  const stalled = h.open()!;
  expect(h.open()).toBeUndefined();
  // The first frame and one tick's fill its queue of two; the next 30 ticks are skipped for it.
  await when(1 + 1 + 30);
  expect(h.size).toBe(0);
  // Dropped, its queued frames go too: fwd holds nothing more for it.
  await expect(stalled.getReader().read()).rejects.toThrow("status stream: reader stopped reading");
  const next = h.open();
  expect(next).toBeDefined();
  h.close();
});
