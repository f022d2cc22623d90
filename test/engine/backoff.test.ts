// Table tests for the reconnect backoff.

import { describe, expect, test } from "bun:test";
import { backoffDelay, DEFAULT_RECONNECT } from "../../src/engine/backoff.ts";

describe("backoffDelay", () => {
  const p = { ...DEFAULT_RECONNECT, initialDelayMs: 1000, maxDelayMs: 30_000 };
  test.each([
    [1, 1, 1000],
    [2, 1, 2000],
    [3, 1, 4000],
    [5, 1, 16_000],
    [6, 1, 30_000],
    [50, 1, 30_000],
    [1, 0, 500],
    [6, 0, 15_000],
    [3, 0.5, 3000],
  ])("attempt %d with random %d waits %d ms", (n, r, want) => {
    expect(backoffDelay(n, p, () => r)).toBe(want);
  });

  test("jitter stays within half and all of the base", () => {
    for (let i = 0; i < 1000; i++) {
      const d = backoffDelay(4, p);
      expect(d).toBeGreaterThanOrEqual(4000);
      expect(d).toBeLessThanOrEqual(8000);
    }
  });
});
