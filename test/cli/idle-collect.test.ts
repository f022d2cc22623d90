// The collection after a burst of closed connections: none for a few, one once a burst has ended,
// none while connections keep closing.

import { expect, test } from "bun:test";
import { EventBus, type EngineEvent } from "../../src/engine/events.ts";
import { collectAfterBursts } from "../../src/cli/idle-collect.ts";

const open = (conn: number) => ({ type: "connection-open", forward: "f", conn, source: "s", target: "t" }) as unknown as EngineEvent;
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

test("the collection is told whether any connection is still open (only then may compiled code go)", async () => {
  const bus = new EventBus();
  const told: boolean[] = [];
  const stop = collectAfterBursts(bus, (idle) => void told.push(idle), { burst: 10, quietMs: 30 });
  for (let i = 0; i < 11; i++) bus.emit(open(i));
  for (let i = 0; i < 10; i++) bus.emit(close(i)); // one of the eleven stays open
  await Bun.sleep(80);
  bus.emit(close(10));
  for (let i = 11; i < 20; i++) bus.emit(close(i)); // closes of connections opened before it listened count as none open
  await Bun.sleep(80);
  expect(told).toEqual([false, true]);
  stop();
});
