// Table test for the one rule on target hosts: IP literals and names that could exist pass; NUL,
// control characters, empty or oversized labels and names do not, with a printable reason.

import { describe, expect, test } from "bun:test";
import { badTarget, hostNameProblem } from "../../src/vocab/host-name.ts";

describe("hostNameProblem", () => {
  test.each([
    "localhost", "db", "db.internal", "wiki.intranet.", "_srv._tcp.example.com", "xn--bcher-kva.example",
    "10.0.0.1", "::1", "fe80::1", "2001:db8::2", "::ffff:127.0.0.1", "1-2.example", "a".repeat(63),
    `${"a.".repeat(125)}bcd`,
  ])("%p is a possible host", (host) => {
    expect(hostNameProblem(host)).toBeUndefined();
  });

  test.each([
    ["", "the host is empty"],
    ["evil\0.example", `"evil\\x00.example" is not a host name or IP address (letters, digits, '-', '_' and dots only)`],
    ["a\r\nb", `"a\\x0d\\x0ab" is not a host name or IP address (letters, digits, '-', '_' and dots only)`],
    ["caf\u00e9", `"caf\\xe9" is not a host name or IP address (letters, digits, '-', '_' and dots only)`],
    ["\u202etxt", `"\\u202etxt" is not a host name or IP address (letters, digits, '-', '_' and dots only)`],
    ['a"b', `"a\\"b" is not a host name or IP address (letters, digits, '-', '_' and dots only)`],
    ["-oProxyCommand", `"-oProxyCommand" is not a host name or IP address (letters, digits, '-', '_' and dots only)`],
    ["[::1]", `"[::1]" is not a host name or IP address (letters, digits, '-', '_' and dots only)`],
    ["a..b", `"a..b" has an empty label`],
    [".a", `".a" has an empty label`],
    ["a".repeat(64), "a label of a host name has at most 63 characters, one has 64"],
    [`${"a.".repeat(126)}bc`, "a host name has at most 253 characters, this one 254"],
  ])("%p is refused", (host, why) => {
    expect(hostNameProblem(host)).toBe(why);
  });

  test("badTarget: unix paths pass; a bad host becomes an E_CHANNEL with reason bad-address", () => {
    expect(badTarget("x", { path: "/run/a b\0.sock" })).toBeUndefined();
    expect(badTarget("x", { host: "db", port: 1 })).toBeUndefined();
    const e = badTarget("-D 1080", { host: "a\0", port: 80 })!;
    expect([e.code, e.reason, e.message]).toEqual(["E_CHANNEL", "bad-address", `-D 1080: refused target: "a\\x00" is not a host name or IP address (letters, digits, '-', '_' and dots only)`]);
  });
});
