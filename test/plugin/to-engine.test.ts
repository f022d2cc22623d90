// A plugin's plan is code, so its targets may not have come through the Target schema: the plan is
// refused when one names no possible host, and the schema refuses the same names for its options.

import { describe, expect, test } from "bun:test";
import * as v from "valibot";
import { loadConfigContext } from "../../src/config/target.ts";
import { Target } from "../../src/plugin/schemas.ts";
import { concretePlan } from "../../src/plugin/to-engine.ts";
import type { Plan } from "../../src/plugin/types.ts";

const deps = { prompt: undefined, log: () => {} };

describe("target hosts in plugins", () => {
  test.each([
    ["local", { kind: "local", listen: { host: "127.0.0.1", port: 0 }, target: { host: "db\0.internal", port: 5432 } }, `demo/local1: target host: "db\\x00.internal" is not a host name or IP address (letters, digits, '-', '_' and dots only)`],
    ["remote", { kind: "remote", listen: { host: "localhost", port: 0 }, target: { host: "a..b", port: 80 } }, `demo/remote1: target host: "a..b" has an empty label`],
  ])("a %s forward with a bad target fails the plan", async (_kind, forward, message) => {
    const ctx = await loadConfigContext("none");
    if (!ctx.ok) throw ctx.error;
    const plan = { sessions: { main: [{ host: "127.0.0.1" }] }, forwards: [forward] } as Plan;
    const r = concretePlan("demo", plan, ctx.value, [], deps);
    expect(r.ok).toBe(false);
    expect(!r.ok && [r.error.code, r.error.message]).toEqual(["E_CONFIG", message]);
  });

  test("a good plan still passes", async () => {
    const ctx = await loadConfigContext("none");
    if (!ctx.ok) throw ctx.error;
    const plan = { sessions: { main: [{ host: "127.0.0.1" }] }, forwards: [{ kind: "local", listen: { host: "127.0.0.1", port: 0 }, target: { host: "db.internal", port: 5432 } }] } as Plan;
    expect(concretePlan("demo", plan, ctx.value, [], deps).ok).toBe(true);
  });

  test.each(["db.internal", "db.internal:3307", "[::1]:80", "10.0.0.1"])("Target accepts %p", (s) => {
    expect(v.safeParse(Target(3306), s).success).toBe(true);
  });
  test.each(["-db", "a..b", `${"a".repeat(64)}.example`, `${"a.".repeat(126)}bc`, "[:::]:80"])("Target refuses %p", (s) => {
    expect(v.safeParse(Target(3306), s).success).toBe(false);
  });
});
