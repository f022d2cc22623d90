// The SOCKS handshake gate as a table of steps: per-client and total limits, the queue's order and
// bounds, and what a release hands to whom.

import { describe, expect, test } from "bun:test";
import { clientKey, HandshakeGate, UNKNOWN_CLIENT, type Release } from "../../src/engine/handshake-gate.ts";

/** A slot given at once is the Release itself (no promise on the accept path); a queued one is a promise. */
const atOnce = (r: ReturnType<HandshakeGate["enter"]>): Release => {
  expect(r).toBeFunction();
  return r as Release;
};
const queued = (r: ReturnType<HandshakeGate["enter"]>): Promise<Release | undefined> => {
  expect(r).toBeInstanceOf(Promise);
  return r as Promise<Release | undefined>;
};

describe("HandshakeGate", () => {
  test("one client is held to its quota while another still gets in at once", async () => {
    const gate = new HandshakeGate({ total: 4, perClient: 2, queueMs: 60_000 });
    const a1 = atOnce(gate.enter("a"));
    const a2 = atOnce(gate.enter("a"));
    let waits = 0;
    const a3 = queued(gate.enter("a", () => waits++));
    expect(waits).toBe(1);
    atOnce(gate.enter("b"));
    expect(gate.inProgress).toBe(3);
    // A release of a's goes to a's waiter, and a release twice frees once.
    a1();
    a1();
    expect(await a3).toBeFunction();
    expect(gate.inProgress).toBe(3);
    a2();
    expect(gate.inProgress).toBe(2);
  });

  test("keys given as functions are looked up only once enough are in progress to matter, and then all of them: the quotas hold as with keys given at once", async () => {
    const gate = new HandshakeGate({ total: 10, perClient: 3, queueMs: 60_000 });
    const lookups: string[] = [];
    const key = (k: string) => () => (lookups.push(k), k);
    // Fewer than perClient - 1 (2) in progress: nobody can reach a quota, no key is looked up.
    const a1 = atOnce(gate.enter(key("a")));
    const b1 = atOnce(gate.enter(key("b")));
    b1(); // gone before it mattered: never looked up
    const a2 = atOnce(gate.enter(key("a")));
    expect(lookups).toEqual([]);
    // Two in progress: the next one finds every key first, its own too, and counts a's two.
    const a3 = atOnce(gate.enter(key("a")));
    expect(lookups).toEqual(["a", "a", "a"]);
    let waits = 0;
    const a4 = queued(gate.enter(key("a"), () => waits++)); // a holds 3 of 3
    expect(waits).toBe(1);
    atOnce(gate.enter(key("c"))); // another client still gets in
    // A slot looked up late is released under its key: a's waiter gets it.
    a1();
    expect(await a4).toBeFunction();
    expect(gate.inProgress).toBe(4);
    a2();
    a3();
    expect(gate.inProgress).toBe(2);
  });

  test("strings and functions mix: a string key counts with what the functions find", () => {
    const gate = new HandshakeGate({ total: 10, perClient: 2, queueMs: 60_000 });
    atOnce(gate.enter(() => "x")); // 0 in progress, below perClient - 1 = 1: not looked up
    atOnce(gate.enter("x")); // one in progress: everything is looked up, x now holds 2
    expect(gate.enter("x")).toBeInstanceOf(Promise);
  });

  test("a finder that throws (none should) counts once, under one shared key, and its slot drains", () => {
    const gate = new HandshakeGate({ total: 10, perClient: 2, queueMs: 60_000 });
    const r1 = atOnce(
      gate.enter(() => {
        throw new Error("boom");
      }),
    );
    // One in progress: the next entry finds every key; the thrower's is UNKNOWN_CLIENT.
    const r2 = atOnce(gate.enter(UNKNOWN_CLIENT));
    expect(gate.enter(UNKNOWN_CLIENT)).toBeInstanceOf(Promise); // two of two under that key
    r1();
    r2();
    r1();
    expect(gate.inProgress).toBe(1); // the waiter got a slot; nothing counted twice
  });

  test("the total holds across clients; a release wakes the first waiter that has room", async () => {
    const gate = new HandshakeGate({ total: 2, perClient: 1, queueMs: 60_000 });
    const a = atOnce(gate.enter("a"));
    const b = atOnce(gate.enter("b"));
    const order: string[] = [];
    const a2 = queued(gate.enter("a")).then((r) => (order.push("a2"), r));
    const c = queued(gate.enter("c")).then((r) => (order.push("c"), r));
    // b's slot frees: a is still at its quota, so c (queued later) goes first.
    b();
    const cr = (await c) as Release;
    expect(order).toEqual(["c"]);
    a();
    expect(await a2).toBeFunction();
    expect(order).toEqual(["c", "a2"]);
    cr();
  });

  test("the queue is bounded per client, and a wait ends after queueMs without a slot", async () => {
    const gate = new HandshakeGate({ total: 8, perClient: 1, queueMs: 50 });
    const held = atOnce(gate.enter("a"));
    const waiting = queued(gate.enter("a"));
    expect(gate.enter("a")).toBeUndefined(); // a's queue (1) is full: refused at once, no promise
    expect(await waiting).toBeUndefined(); // 50 ms passed without a slot
    held();
    atOnce(gate.enter("a"));
  });
});

describe("clientKey", () => {
  test.each([
    ["127.0.0.1", "127.0.0.1"],
    ["::ffff:192.168.1.7", "192.168.1.7"],
    ["2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"],
    ["2001:db8:1:2::9", "2001:db8:1:2::/64"],
    ["2001:0db8::1", "2001:db8:0:0::/64"],
    ["::1", "0:0:0:0::/64"],
    // A dotted quad at the end of other IPv6 forms is its last 32 bits: one /64, not a key per address.
    ["::198.18.110.1", "0:0:0:0::/64"],
    ["64:ff9b::1.2.3.4", "64:ff9b:0:0::/64"],
  ])("%s → %s", (address, key) => {
    expect(clientKey(address)).toBe(key);
  });
  test("a known owner is the key, whatever the address: one user on 127.0.0.2 and 127.0.0.3 is one client, two users on 127.0.0.1 are two", () => {
    expect([clientKey("127.0.0.2", 65534), clientKey("127.0.0.3", 65534), clientKey("::ffff:127.0.0.1", 0), clientKey("127.0.0.1", 65534)]).toEqual(["uid 65534", "uid 65534", "uid 0", "uid 65534"]);
  });
});
