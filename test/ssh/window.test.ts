// The receive-window ceiling per path and the --max-window sizes, as tables.

import { expect, test } from "bun:test";
import { DEFAULT_MAX_WINDOW_BYTES, MIN_WINDOW_BYTES, parseSize, windowCeiling } from "../../src/ssh/window.ts";

const MiB = 1024 * 1024;

test("the ceiling follows the round trip: none on loopback or a LAN, the bandwidth-delay product far away, never past --max-window", () => {
  const table: [number, number, number][] = [
    [0.05, DEFAULT_MAX_WINDOW_BYTES, MIN_WINDOW_BYTES], // loopback
    [5, DEFAULT_MAX_WINDOW_BYTES, MIN_WINDOW_BYTES], // a LAN
    [20, DEFAULT_MAX_WINDOW_BYTES, 3_750_000], // 1 Gbit/s x 20 ms x 1.5
    [100, DEFAULT_MAX_WINDOW_BYTES, DEFAULT_MAX_WINDOW_BYTES], // capped
    [100, 4 * MiB, 4 * MiB],
    [300, 64 * MiB, 56_250_000],
  ];
  for (const [rtt, max, want] of table) expect({ rtt, max, got: windowCeiling(rtt, max) }).toEqual({ rtt, max, got: want });
});

test("--max-window sizes: binary units, plain bytes, and nothing else", () => {
  const table: [string, number | undefined][] = [
    ["16M", 16 * MiB],
    ["2m", 2 * MiB],
    ["512k", 512 * 1024],
    ["1G", 1024 * MiB],
    ["64MiB", 64 * MiB],
    ["3000000", 3_000_000],
    ["1.5M", undefined],
    ["-2M", undefined],
    ["M", undefined],
    ["", undefined],
  ];
  for (const [s, want] of table) expect({ s, got: parseSize(s) }).toEqual({ s, got: want });
});
