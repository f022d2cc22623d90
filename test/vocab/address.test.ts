// The one [user@]host[:port] parser, for the command line's destination, -J and a scenario's hops: the
// two used to disagree (a hop refused `ssh://` and a bare IPv6 address; a destination took any text
// as its host), so one table now holds for both.

import { describe, expect, test } from "bun:test";
import { parseDestination, parseHop, parseHostPort, parseListen, type Destination } from "../../src/vocab/address.ts";

const GOOD: [string, Destination][] = [
  ["host", { host: "host" }],
  ["deploy@a.example.com", { user: "deploy", host: "a.example.com" }],
  ["deploy@a.example.com:2222", { user: "deploy", host: "a.example.com", port: 2222 }],
  ["ssh://u@h:22", { user: "u", host: "h", port: 22 }],
  ["[::1]:2222", { host: "::1", port: 2222 }],
  ["u@[fe80::1]", { user: "u", host: "fe80::1" }],
  ["::1", { host: "::1" }],
  ["me@corp@host", { user: "me@corp", host: "host" }],
];
const BAD = ["h:0", "h:70000", "h:x", "h:", "@h", "u@", "a:b:c", "a b", "x\u0000y", "[::1]:2222:3", "-oProxyCommand=x"];

describe("destination and hop", () => {
  test.each(GOOD)("%p parses the same as a destination and as a hop", (s, want) => {
    const d = parseDestination(s);
    expect(d.ok && d.value).toEqual(want);
    expect(parseHop(s)).toEqual(want);
  });

  test.each(BAD.map((s) => [s]))("%p is refused by both", (s) => {
    const d = parseDestination(s);
    expect(d.ok).toBe(false);
    if (!d.ok) expect(d.error.code).toBe("E_CONFIG");
    expect(parseHop(s)).toBeUndefined();
  });

  test("a refusal names the destination and why", () => {
    const d = parseDestination("a:b:c");
    expect(!d.ok && d.error.message).toBe("destination 'a:b:c': put an IPv6 address in [brackets] to give it a port");
  });
});

describe("target and listen", () => {
  test.each([
    ["db", 3306, { host: "db", port: 3306 }],
    ["db:3307", 3306, { host: "db", port: 3307 }],
    ["[::1]", 80, { host: "::1", port: 80 }],
    ["db:0", 80, undefined],
    ["a:b:c", 80, undefined],
  ] as const)("parseHostPort(%p, %p)", (s, dflt, want) => expect(parseHostPort(s, dflt)).toEqual(want));

  test.each([
    ["8080", { host: "127.0.0.1", port: 8080 }],
    ["*:0", { host: "0.0.0.0", port: 0 }],
    ["[::1]:80", { host: "::1", port: 80 }],
    ["x:70000", undefined],
  ] as const)("parseListen(%p)", (s, want) => expect(parseListen(s)).toEqual(want));
});
