// Table tests for -L/-R/-D spec parsing: every form ssh accepts, the bind address defaults, errors that
// name the part that is wrong, and a check that OpenSSH's `ssh -G` accepts and rejects the same specs.

import { describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { parseDynamicSpec, parseLocalSpec, parseRemoteSpec } from "../../src/config/forward-spec.ts";
import type { Result } from "../../src/errors.ts";

function value<T>(r: Result<T>): T {
  if (!r.ok) throw new Error(`expected ok, got ${r.error.message}`);
  return r.value;
}

function error<T>(r: Result<T>): { code: string; message: string; hint?: string } {
  if (r.ok) throw new Error(`expected an error, got ${JSON.stringify(r.value)}`);
  return { code: r.error.code, message: r.error.message, hint: r.error.hint };
}

const GOOD_L: [string, object][] = [
  ["8080:db:5432", { bind: { host: "127.0.0.1", port: 8080 }, target: { host: "db", port: 5432 }, bindExplicit: false }],
  ["0:db:5432", { bind: { host: "127.0.0.1", port: 0 }, target: { host: "db", port: 5432 }, bindExplicit: false }],
  ["10.0.0.1:80:web:8080", { bind: { host: "10.0.0.1", port: 80 }, target: { host: "web", port: 8080 }, bindExplicit: true }],
  ["localhost:80:web:80", { bind: { host: "127.0.0.1", port: 80 }, target: { host: "web", port: 80 }, bindExplicit: true }],
  ["*:80:web:80", { bind: { host: "0.0.0.0", port: 80 }, target: { host: "web", port: 80 }, bindExplicit: true }],
  [":80:web:80", { bind: { host: "0.0.0.0", port: 80 }, target: { host: "web", port: 80 }, bindExplicit: true }],
  ["[::1]:8080:[fe80::1]:80", { bind: { host: "::1", port: 8080 }, target: { host: "fe80::1", port: 80 }, bindExplicit: true }],
  ["8080:[2001:db8::2]:443", { bind: { host: "127.0.0.1", port: 8080 }, target: { host: "2001:db8::2", port: 443 }, bindExplicit: false }],
  ["8080:/run/app.sock", { bind: { host: "127.0.0.1", port: 8080 }, target: { path: "/run/app.sock" }, bindExplicit: false }],
  ["0.0.0.0:8080:/run/app.sock", { bind: { host: "0.0.0.0", port: 8080 }, target: { path: "/run/app.sock" }, bindExplicit: true }],
  ["/tmp/l.sock:db:5432", { bind: { path: "/tmp/l.sock" }, target: { host: "db", port: 5432 }, bindExplicit: true }],
  ["/tmp/l.sock:/run/r.sock", { bind: { path: "/tmp/l.sock" }, target: { path: "/run/r.sock" }, bindExplicit: true }],
  // ssh drops a trailing ':' and lets '\' escape a ':' inside a path
  ["8080:db:5432:", { bind: { host: "127.0.0.1", port: 8080 }, target: { host: "db", port: 5432 }, bindExplicit: false }],
  ["8080:/tmp/a\\:b.sock", { bind: { host: "127.0.0.1", port: 8080 }, target: { path: "/tmp/a:b.sock" }, bindExplicit: false }],
];
const BAD_L: [string, string][] = [
  ["", "-L '': empty forwarding spec"],
  ["8080", `-L '8080': missing the target host:hostport after "8080"`],
  ["8080:db", `-L '8080:db': missing the target host:hostport or socket path after "8080"`],
  ["/tmp/l.sock:db", `-L '/tmp/l.sock:db': missing the target host:hostport or socket path after "/tmp/l.sock"`],
  ["abc:db:80", `-L 'abc:db:80': bind port: expected an integer 0–65535, received "abc"`],
  ["8080:db:0", `-L '8080:db:0': target port: expected an integer 1–65535, received "0"`],
  ["8080:db:70000", `-L '8080:db:70000': target port: expected an integer 1–65535, received "70000"`],
  ["8080:db:-1", `-L '8080:db:-1': target port: expected an integer 1–65535, received "-1"`],
  ["8080::80", "-L '8080::80': target host is empty"],
  ["8080:bad\x01name:80", `-L '8080:bad\x01name:80': target host: "bad\\x01name" is not a host name or IP address (letters, digits, '-', '_' and dots only)`],
  ["8080:a%b:80", `-L '8080:a%b:80': target host: "a%b" is not a host name or IP address (letters, digits, '-', '_' and dots only)`],
  ["8080:a..b:80", `-L '8080:a..b:80': target host: "a..b" has an empty label`],
  [`8080:${"x".repeat(254)}:80`, `-L '8080:${"x".repeat(254)}:80': target host: a host name has at most 253 characters, this one 254`],
  ["::1:8080:db:80", "-L '::1:8080:db:80': too many ':'-separated fields (IPv6 addresses need [brackets])"],
  ["[::1:8080:db:80", `-L '[::1:8080:db:80': unclosed '[' in "[::1:8080:db:80"`],
  ["[::1]x:8080:db:80", `-L '[::1]x:8080:db:80': ']' must be followed by ':', received "[::1]x:8080:db:80"`],
  ["/tmp/l.sock:db:/run/r.sock", `-L '/tmp/l.sock:db:/run/r.sock': target port: expected an integer 1–65535, received "/run/r.sock"`],
];

describe("parseLocalSpec", () => {
  test.each(GOOD_L)("%s", (spec, want) => {
    expect(value(parseLocalSpec(spec))).toEqual(want as never);
  });

  test.each(BAD_L)("rejects %p", (spec, message) => {
    const e = error(parseLocalSpec(spec));
    expect(e.code).toBe("E_CONFIG");
    expect(e.message).toBe(message);
    expect(e.hint).toContain("-L [bind_address:]port:host:hostport");
  });
});

const GOOD_R: [string, object][] = [
  ["9000:localhost:3000", { bind: { host: "localhost", port: 9000 }, target: { host: "localhost", port: 3000 }, bindExplicit: false }],
  ["0:localhost:3000", { bind: { host: "localhost", port: 0 }, target: { host: "localhost", port: 3000 }, bindExplicit: false }],
  ["localhost:9000:app:3000", { bind: { host: "localhost", port: 9000 }, target: { host: "app", port: 3000 }, bindExplicit: true }],
  ["*:9000:app:3000", { bind: { host: "", port: 9000 }, target: { host: "app", port: 3000 }, bindExplicit: true }],
  [":9000:app:3000", { bind: { host: "", port: 9000 }, target: { host: "app", port: 3000 }, bindExplicit: true }],
  ["[::]:9000:[::1]:3000", { bind: { host: "::", port: 9000 }, target: { host: "::1", port: 3000 }, bindExplicit: true }],
  ["9000:/run/local.sock", { bind: { host: "localhost", port: 9000 }, target: { path: "/run/local.sock" }, bindExplicit: false }],
  ["/tmp/r.sock:app:3000", { bind: { path: "/tmp/r.sock" }, target: { host: "app", port: 3000 }, bindExplicit: true }],
  ["/tmp/r.sock:/run/l.sock", { bind: { path: "/tmp/r.sock" }, target: { path: "/run/l.sock" }, bindExplicit: true }],
  ["1080", { bind: { host: "localhost", port: 1080 }, bindExplicit: false }],
  ["0", { bind: { host: "localhost", port: 0 }, bindExplicit: false }],
  ["10.1.1.1:1080", { bind: { host: "10.1.1.1", port: 1080 }, bindExplicit: true }],
  ["*:1080", { bind: { host: "", port: 1080 }, bindExplicit: true }],
  ["[::1]:1080", { bind: { host: "::1", port: 1080 }, bindExplicit: true }],
];
const BAD_R: [string, string][] = [
  ["socks", `-R 'socks': bind port: expected an integer 0–65535, received "socks"`],
  ["/tmp/r.sock", `-R '/tmp/r.sock': expected a TCP port, received "/tmp/r.sock"`],
  ["9000:app:http", `-R '9000:app:http': target port: expected an integer 1–65535, received "http"`],
  ["/tmp/r.sock:9000", `-R '/tmp/r.sock:9000': missing the target host:hostport or socket path after "/tmp/r.sock"`],
  ["9000:bad\x1bname:80", `-R '9000:bad\x1bname:80': target host: "bad\\x1bname" is not a host name or IP address (letters, digits, '-', '_' and dots only)`],
];

describe("parseRemoteSpec", () => {
  test.each(GOOD_R)("%s", (spec, want) => {
    expect(value(parseRemoteSpec(spec))).toEqual(want as never);
  });

  test.each(BAD_R)("rejects %p", (spec, message) => {
    const e = error(parseRemoteSpec(spec));
    expect(e.message).toBe(message);
    expect(e.hint).toContain("[bind_address:]port alone for a SOCKS proxy");
  });
});

const GOOD_D: [string, object][] = [
  ["1080", { bind: { host: "127.0.0.1", port: 1080 }, bindExplicit: false }],
  ["0", { bind: { host: "127.0.0.1", port: 0 }, bindExplicit: false }],
  ["localhost:1080", { bind: { host: "127.0.0.1", port: 1080 }, bindExplicit: true }],
  ["*:1080", { bind: { host: "0.0.0.0", port: 1080 }, bindExplicit: true }],
  [":1080", { bind: { host: "0.0.0.0", port: 1080 }, bindExplicit: true }],
  ["[::1]:1080", { bind: { host: "::1", port: 1080 }, bindExplicit: true }],
  ["192.168.1.5:1080", { bind: { host: "192.168.1.5", port: 1080 }, bindExplicit: true }],
];
const BAD_D: [string, string][] = [
  ["", "-D '': empty forwarding spec"],
  ["x", `-D 'x': bind port: expected an integer 0–65535, received "x"`],
  ["65536", `-D '65536': bind port: expected an integer 0–65535, received "65536"`],
  ["a:1080:b", "-D 'a:1080:b': too many ':'-separated fields"],
  ["/tmp/s.sock", `-D '/tmp/s.sock': expected a TCP port, received "/tmp/s.sock"`],
  ["::1:1080", "-D '::1:1080': too many ':'-separated fields"],
];

describe("parseDynamicSpec", () => {
  test.each(GOOD_D)("%s", (spec, want) => {
    expect(value(parseDynamicSpec(spec))).toEqual(want as never);
  });

  test.each(BAD_D)("rejects %p", (spec, message) => {
    const e = error(parseDynamicSpec(spec));
    expect(e.message).toBe(message);
    expect(e.hint).toBe("use -D [bind_address:]port, e.g. -D 1080 or -D [::1]:1080");
  });
});

describe("agrees with ssh -G", () => {
  // where fwd deliberately differs: port 0 binds anywhere (ssh: only -R); an empty target host is caught
  // here rather than at connect time, and so is a target that is no possible host name; a SOCKS listener on a unix socket is not offered, nor the -R form
  // that takes a socket path as a bind address; ports are numbers, not /etc/services names
  const deviations = new Set([
    "-L 0:db:5432", "-L 8080::80", "-D 0", "-R /tmp/r.sock", "-D /tmp/s.sock", "-R /tmp/r.sock:9000",
    "-R socks", "-R 9000:app:http",
    "-R 9000:bad\x1bname:80", "-L 8080:bad\x01name:80", "-L 8080:a%b:80", "-L 8080:a..b:80", `-L 8080:${"x".repeat(254)}:80`,
  ]);
  const cases = [
    ...GOOD_L.map(([s]) => ["-L", s, true] as const),
    ...BAD_L.map(([s]) => ["-L", s, false] as const),
    ...GOOD_R.map(([s]) => ["-R", s, true] as const),
    ...BAD_R.map(([s]) => ["-R", s, false] as const),
    ...GOOD_D.map(([s]) => ["-D", s, true] as const),
    ...BAD_D.map(([s]) => ["-D", s, false] as const),
  ].filter(([flag, spec]) => spec !== "" && !deviations.has(`${flag} ${spec}`));
  test.each(cases)("%s %p accepted: %p", (flag, spec, accepted) => {
    const r = spawnSync("/usr/bin/ssh", ["-F", "none", "-G", flag, spec, "x"], { encoding: "utf8" });
    expect(r.error).toBeUndefined();
    expect(r.status === 0).toBe(accepted);
  });
  test("the deviations are real", () => {
    for (const d of deviations) {
      const [flag = "", spec = ""] = d.split(" ");
      const ours = (flag === "-L" ? parseLocalSpec : flag === "-R" ? parseRemoteSpec : parseDynamicSpec)(spec).ok;
      const ssh = spawnSync("/usr/bin/ssh", ["-F", "none", "-G", flag, spec, "x"]).status === 0;
      expect(`${d}: ${ours}`).toBe(`${d}: ${!ssh}`);
    }
  });
});
