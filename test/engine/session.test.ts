// Session against a fake Link (no SSH here: the engine's contract is the Link interface, and this
// tests the engine's side of it). Acquire with and without a live link, its deadline, reconnect after a
// loss with backoff, errors that stop retrying, a stop while connecting, and a new link for -R to
// re-request its listens on.

import { describe, expect, test } from "bun:test";
import { FwdError, fail, ok, type Result } from "../../src/errors.ts";
import type { ReconnectPolicy } from "../../src/engine/backoff.ts";
import { EventBus } from "../../src/engine/events.ts";
import type { Connect, Link } from "../../src/engine/link.ts";
import { Session } from "../../src/engine/session.ts";

/** A link that ends when told to; close() ends it with undefined, as the ssh2 adapter does. */
function fakeLink(): Link & { lose(e?: FwdError): void; closed: boolean } {
  let end!: (e: FwdError | undefined) => void;
  const ended = new Promise<FwdError | undefined>((r) => (end = r));
  const l = {
    ended,
    closed: false,
    open: async () => fail(new FwdError("E_CHANNEL", "fake", "")),
    listen: async () => fail(new FwdError("E_CHANNEL", "fake", "")),
    onIncoming: () => () => {},
    close() {
      l.closed = true;
      end(undefined);
    },
    lose(e = new FwdError("E_CLOSED", "lost", "")) {
      end(e);
    },
  };
  return l;
}

/** A connect() that answers from a script of results, one per attempt, and records the attempts. */
function scripted(results: (() => Promise<Result<Link>>)[]) {
  const calls: AbortSignal[] = [];
  const connect: Connect = (signal) => {
    calls.push(signal!);
    const next = results.shift();
    if (!next) return new Promise(() => {}); // never answers: a hung attempt
    return next();
  };
  return { connect, calls };
}

const FAST: ReconnectPolicy = { enabled: true, maxRetries: Infinity, initialDelayMs: 5, maxDelayMs: 10, stableAfterMs: 60_000 };

function session(connect: Connect, reconnect: ReconnectPolicy = FAST) {
  const bus = new EventBus();
  const states: string[] = [];
  bus.on((e) => void (e.type === "session" && states.push(e.state)));
  return { s: new Session({ name: "main", host: "u@a", connect, bus, reconnect }), states };
}

const until = async (cond: () => boolean, ms = 2_000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await Bun.sleep(2);
  }
};

describe("Session", () => {
  test("start() connects; acquire() hands out the live link at once", async () => {
    const link = fakeLink();
    const { s, states } = session(scripted([async () => ok(link)]).connect);
    expect((await s.start()).ok).toBe(true);
    const got = await s.acquire(1_000);
    expect(got.ok && got.value).toBe(link);
    expect(states).toEqual(["connecting", "up"]);
    s.close();
  });

  test("acquire() without a live link waits at most its deadline, then says why", async () => {
    const link = fakeLink();
    const { s } = session(scripted([async () => ok(link)]).connect);
    await s.start();
    link.lose(new FwdError("E_CLOSED", "u@a: connection closed by the server", ""));
    await until(() => s.state !== "up");
    const t0 = Date.now();
    const r = await s.acquire(50);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error.message).toMatch(/^u@a: no live session \(u@a: connection closed by the server\)$/);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(45);
    s.close();
  });

  test("a lost link is replaced after backoff; a waiting acquire() gets the new one; reconnects are counted", async () => {
    const first = fakeLink();
    const second = fakeLink();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const { s, states } = session(scripted([async () => ok(first), async () => (await gate, ok(second))]).connect);
    await s.start();
    first.lose();
    await until(() => s.state === "reconnecting");
    const waiting = s.acquire(2_000);
    release();
    const got = await waiting;
    expect(got.ok && got.value).toBe(second);
    expect(s.reconnects).toBe(1);
    expect(states).toEqual(["connecting", "up", "reconnecting", "up"]);
    s.close();
  });

  test("auth, host-key and config errors stop the retries; the session fails with that reason", async () => {
    for (const code of ["E_AUTH", "E_HOSTKEY", "E_CONFIG"] as const) {
      const first = fakeLink();
      const { s, states } = session(scripted([async () => ok(first), async () => fail(new FwdError(code, `u@a: ${code}`, ""))]).connect);
      await s.start();
      first.lose();
      const failed = await s.failed;
      expect(failed.code).toBe(code);
      expect(states.at(-1)).toBe("failed");
      const r = await s.acquire(1_000);
      expect(!r.ok && r.error.code).toBe(code);
    }
  });

  test("other errors are retried until maxRetries, then it gives up naming the count", async () => {
    const first = fakeLink();
    const refused = async () => fail(new FwdError("E_CONNECT", "u@a: connection refused", ""));
    const { s } = session(scripted([async () => ok(first), refused, refused, refused]).connect, { ...FAST, maxRetries: 3 });
    await s.start();
    first.lose();
    const e = await s.failed;
    expect(e.message).toBe("u@a: connection refused (gave up after 3 attempts)");
  });

  test("with reconnect off, a lost link fails the session at once", async () => {
    const first = fakeLink();
    const { s } = session(scripted([async () => ok(first)]).connect, { ...FAST, enabled: false });
    await s.start();
    first.lose(new FwdError("E_CLOSED", "u@a: session lost", ""));
    expect((await s.failed).message).toBe("u@a: session lost");
  });

  test("close() while connecting aborts the attempt in flight and answers waiters", async () => {
    const { connect, calls } = scripted([]); // the attempt never answers by itself
    const { s } = session(connect);
    const started = s.start();
    const waiting = s.acquire(10_000);
    await until(() => calls.length === 1);
    s.close();
    expect(calls[0]!.aborted).toBe(true);
    const w = await waiting;
    expect(!w.ok && w.error.message).toBe("u@a: session is closed");
    // The hung connect never resolves, so start() stays pending; nothing else may wait on it.
    void started;
  });

  test("every new link is announced, the first included (remote forwards re-request their listens on each)", async () => {
    const links = [fakeLink(), fakeLink(), fakeLink()];
    const { s } = session(scripted(links.map((l) => async () => ok(l))).connect);
    const seen: Link[] = [];
    s.onLink((l) => seen.push(l));
    await s.start();
    links[0]!.lose();
    await until(() => seen.length === 2);
    links[1]!.lose();
    await until(() => seen.length === 3);
    expect(seen).toEqual(links);
    s.close();
    expect(links[2]!.closed).toBe(true);
  });

  test("retryNow() replaces a live link with a fresh one", async () => {
    const links = [fakeLink(), fakeLink()];
    const { s } = session(scripted(links.map((l) => async () => ok(l))).connect);
    await s.start();
    s.retryNow();
    expect(links[0]!.closed).toBe(true);
    await until(() => s.state === "up" && s.reconnects === 1);
    const got = await s.acquire(100);
    expect(got.ok && got.value).toBe(links[1]!);
    s.close();
  });
});
