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
    ["local", { kind: "local", bind: { host: "127.0.0.1", port: 0 }, target: { host: "db\0.internal", port: 5432 } }, `demo/local1: target host: "db\\x00.internal" is not a host name or IP address (letters, digits, '-', '_' and dots only)`],
    ["remote", { kind: "remote", bind: { host: "localhost", port: 0 }, target: { host: "a..b", port: 80 } }, `demo/remote1: target host: "a..b" has an empty label`],
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
    const plan = { sessions: { main: [{ host: "127.0.0.1" }] }, forwards: [{ kind: "local", bind: { host: "127.0.0.1", port: 0 }, target: { host: "db.internal", port: 5432 } }] } as Plan;
    expect(concretePlan("demo", plan, ctx.value, [], deps).ok).toBe(true);
  });

  test.each(["db.internal", "db.internal:3307", "[::1]:80", "10.0.0.1"])("Target accepts %p", (s) => {
    expect(v.safeParse(Target(3306), s).success).toBe(true);
  });
  test.each(["-db", "a..b", `${"a".repeat(64)}.example`, `${"a.".repeat(126)}bc`, "[:::]:80"])("Target refuses %p", (s) => {
    expect(v.safeParse(Target(3306), s).success).toBe(false);
  });
});

describe("a planned forward is the engine's spec with a name", () => {
  const concrete = async (forwards: Plan["forwards"]) => {
    const ctx = await loadConfigContext("none");
    if (!ctx.ok) throw ctx.error;
    return concretePlan("demo", { sessions: { main: [{ host: "bastion.example" }] }, forwards }, ctx.value, [], deps);
  };

  test("it passes through as written, with its id from the scenario and name (a SOCKS password included)", async () => {
    const socks = { allow: [], auth: { user: "u", password: "p" } };
    const r = await concrete([{ kind: "dynamic", name: "socks", bind: { host: "0.0.0.0", port: 1080 }, socks }]);
    expect(r.ok && r.value.engine.forwards).toEqual([{ kind: "dynamic", id: "demo/socks", bind: { host: "0.0.0.0", port: 1080 }, socks }]);
    expect(r.ok && r.value.names.get("demo/socks")).toBe("socks");
  });

  test("a route gets its session's server excluded and a place to listen (every address for the LAN)", async () => {
    const r = await concrete([{ kind: "route", name: "gw", networks: ["10.1.2.3/8"], lan: { allow: ["192.168.1.0/24"] } }]);
    expect(r.ok && r.value.engine.forwards).toEqual([{ kind: "route", id: "demo/gw", networks: ["10.1.2.3/8"], lan: { allow: ["192.168.1.0/24"] }, bind: { host: "0.0.0.0", port: 0 }, exclude: ["bastion.example"] }]);
  });

  test.each([
    ["an open -D", { kind: "dynamic", bind: { host: "0.0.0.0", port: 1080 }, socks: { allow: [] } }, "demo/dynamic1: refusing to start an open SOCKS proxy here: it binds beyond loopback with no allow-list and no password"],
    ["reverse SOCKS on every server address", { kind: "remote", bind: { host: "", port: 1080 } }, "demo/remote1: refusing to start an open SOCKS proxy on the server: it binds beyond loopback with no allow-list and no password"],
    ["an IPv6 route", { kind: "route", networks: ["fd00::/8"] }, "demo/route1: 'fd00::/8': expected an IPv4 address or CIDR"],
    ["a LAN route with no allow-list", { kind: "route", networks: ["10.0.0.0/8"], lan: { allow: [] } }, "demo/route1: refusing to route for the LAN with no allow-list: any machine that can reach this one would use the tunnel"],
  ])("the engine's rule refuses %s in a plan too", async (_why, forward, message) => {
    const r = await concrete([forward as Plan["forwards"][number]]);
    expect(!r.ok && [r.error.code, r.error.message]).toEqual(["E_CONFIG", message]);
  });
});

describe("plans in the shape before forwards were the engine's spec plus a name", () => {
  test("listen and a -D's allow/pac still work, each forward with a warning that says what to rename", async () => {
    const ctx = await loadConfigContext("none");
    if (!ctx.ok) throw ctx.error;
    const warnings: string[] = [];
    const log = (level: string, m: string) => level === "warn" && warnings.push(m);
    const forwards = [
      { kind: "local", name: "db", listen: { host: "127.0.0.1", port: 0 }, target: { host: "db.internal", port: 5432 } },
      { kind: "dynamic", name: "web", listen: { host: "0.0.0.0", port: 1080 }, allow: ["192.168.0.0/16"], pac: { domains: ["corp"] } },
      { kind: "local", name: "new", bind: { host: "127.0.0.1", port: 0 }, target: { host: "db.internal", port: 5433 } },
    ] as unknown as Plan["forwards"];
    const r = concretePlan("old", { sessions: { main: [{ host: "127.0.0.1" }] }, forwards }, ctx.value, [], { prompt: undefined, log });
    expect(r.ok && r.value.engine.forwards).toEqual([
      { kind: "local", id: "old/db", bind: { host: "127.0.0.1", port: 0 }, target: { host: "db.internal", port: 5432 } },
      { kind: "dynamic", id: "old/web", bind: { host: "0.0.0.0", port: 1080 }, socks: { allow: ["192.168.0.0/16"], pac: { domains: ["corp"] } } },
      { kind: "local", id: "old/new", bind: { host: "127.0.0.1", port: 0 }, target: { host: "db.internal", port: 5433 } },
    ]);
    expect(warnings).toEqual([
      "old: forward db uses the old names (listen → bind); rename them in the plugin's plan",
      "old: forward web uses the old names (listen → bind, allow/pac → socks: { allow, pac }); rename them in the plugin's plan",
    ]);
  });

  test("an old open -D is still refused: the allow-list it lacks is not made up", async () => {
    const ctx = await loadConfigContext("none");
    if (!ctx.ok) throw ctx.error;
    const forwards = [{ kind: "dynamic", listen: { host: "0.0.0.0", port: 1080 } }] as unknown as Plan["forwards"];
    const r = concretePlan("old", { sessions: { main: [{ host: "127.0.0.1" }] }, forwards }, ctx.value, [], deps);
    expect(!r.ok && r.error.message).toMatch(/refusing to start an open SOCKS proxy/);
  });
});
