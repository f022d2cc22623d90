// The collection after a burst of closed connections: none for a few, one once a burst has ended,
// none while connections keep closing.

import { expect, test } from "bun:test";
import { EventBus, type EngineEvent } from "../../src/engine/events.ts";
import { collectAfterBursts } from "../../src/cli/idle-collect.ts";

const close = (conn: number) => ({ type: "connection-close", forward: "f", conn, ageMs: 1, bytesUp: 0, bytesDown: 0 }) as unknown as EngineEvent;

test("one collection after a burst has gone quiet; none for fewer closes; none while they go on", async () => {
  const bus = new EventBus();
  let collections = 0;
  const stop = collectAfterBursts(bus, () => void collections++, { burst: 10, quietMs: 50 });
  for (let i = 0; i < 9; i++) bus.emit(close(i));
  await Bun.sleep(120);
  expect(collections).toBe(0);
  bus.emit(close(9)); // the tenth
  for (let i = 0; i < 5; i++) {
    await Bun.sleep(20); // closes keep coming, each sooner than the quiet time
    bus.emit(close(10 + i));
  }
  expect(collections).toBe(0);
  await Bun.sleep(120);
  expect(collections).toBe(1);
  await Bun.sleep(120);
  expect(collections).toBe(1);
  stop();
});
