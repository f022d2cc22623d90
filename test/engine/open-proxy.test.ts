// The open-proxy rule belongs to the engine: a -D, a reverse SOCKS -R or a LAN route beyond loopback
// needs an allow-list or a password, whoever built the spec. Before, only the CLI and the plugin
// adapter checked it (and disagreed on reverse SOCKS), so a direct caller of Engine got an open -D.

import { describe, expect, test } from "bun:test";
import { Engine } from "../../src/engine/engine.ts";
import { validateForward } from "../../src/engine/kinds.ts";
import type { Connect } from "../../src/engine/link.ts";
import { FwdError, fail } from "../../src/errors.ts";
import type { ForwardSpec } from "../../src/vocab/forward.ts";

const OPEN_HERE = "refusing to start an open SOCKS proxy here: it binds beyond loopback with no allow-list and no password";
const OPEN_SERVER = "refusing to start an open SOCKS proxy on the server: it binds beyond loopback with no allow-list and no password";
const auth = { user: "u", password: "p" };

const cases: [string, ForwardSpec, string | undefined][] = [
  ["-D on every address", { kind: "dynamic", id: "d", bind: { host: "0.0.0.0", port: 1080 }, socks: { allow: [] } }, `d: ${OPEN_HERE}`],
  ["-D on a LAN address", { kind: "dynamic", id: "d", bind: { host: "192.168.1.5", port: 1080 }, socks: { allow: [] } }, `d: ${OPEN_HERE}`],
  ["-D on loopback", { kind: "dynamic", id: "d", bind: { host: "127.0.0.1", port: 1080 }, socks: { allow: [] } }, undefined],
  ["-D beyond loopback with an allow-list", { kind: "dynamic", id: "d", bind: { host: "0.0.0.0", port: 1080 }, socks: { allow: ["10.0.0.0/8"] } }, undefined],
  ["-D beyond loopback with a password", { kind: "dynamic", id: "d", bind: { host: "0.0.0.0", port: 1080 }, socks: { allow: [], auth } }, undefined],
  ["reverse SOCKS on every server address", { kind: "remote", id: "r", bind: { host: "", port: 1080 }, socks: { allow: [] } }, `r: ${OPEN_SERVER}`],
  ["reverse SOCKS on the server's loopback", { kind: "remote", id: "r", bind: { host: "localhost", port: 1080 }, socks: { allow: [] } }, undefined],
  ["reverse SOCKS beyond loopback with a password", { kind: "remote", id: "r", bind: { host: "", port: 1080 }, socks: { allow: [], auth } }, undefined],
  ["-R to a target on every server address", { kind: "remote", id: "r", bind: { host: "", port: 8080 }, target: { host: "127.0.0.1", port: 80 } }, undefined],
  ["a LAN route with no allow-list", { kind: "route", id: "t", bind: { host: "0.0.0.0", port: 0 }, networks: ["10.0.0.0/8"], exclude: [], lan: { allow: [] } }, "t: refusing to route for the LAN with no allow-list: any machine that can reach this one would use the tunnel"],
  ["a LAN route with an allow-list", { kind: "route", id: "t", bind: { host: "0.0.0.0", port: 0 }, networks: ["10.0.0.0/8"], exclude: [], lan: { allow: ["192.168.1.0/24"] } }, undefined],
  // A zone would be dropped by the matcher and admit its prefix on every link; an unreadable entry dropped without a word.
  ["-D with a zone in its allow-list", { kind: "dynamic", id: "d", bind: { host: "::", port: 1080 }, socks: { allow: ["fe80::%eth0/64"] } }, "d: allow 'fe80::%eth0/64': a zone (%…) cannot be checked: a client's address does not say which link it came from; leave the zone out"],
  ["-D with an allow-list entry that is no CIDR", { kind: "dynamic", id: "d", bind: { host: "0.0.0.0", port: 1080 }, socks: { allow: ["10.0.0.0/33"] } }, "d: allow '10.0.0.0/33': expected an address or CIDR"],
  ["-L to a target no host can have", { kind: "local", id: "l", bind: { host: "127.0.0.1", port: 0 }, target: { host: "db\0x", port: 5432 } }, `l: target host: "db\\x00x" is not a host name or IP address (letters, digits, '-', '_' and dots only)`],
];

describe("validateForward", () => {
  test.each(cases)("%s", (_why, spec, message) => {
    const bad = validateForward(spec);
    expect(bad?.message).toBe(message);
    if (bad) expect(bad.code).toBe("E_CONFIG");
  });
});

describe("Engine refuses an open proxy from a direct caller", () => {
  const openD: ForwardSpec = { kind: "dynamic", id: "-D 0.0.0.0:0", bind: { host: "0.0.0.0", port: 0 }, socks: { allow: [] } };

  test("start() returns the refusal, before any session connects", async () => {
    let attempts = 0;
    const connect: Connect = async () => (attempts++, fail(new FwdError("E_CONNECT", "not reached", "")));
    const engine = new Engine({ sessions: [{ name: "main", host: "u@a", connect }], forwards: [openD] }, { exitOnForwardFailure: false, acquireTimeoutMs: 100 });
    const r = await engine.start();
    engine.kill();
    expect(!r.ok && [r.error.code, r.error.message]).toEqual(["E_CONFIG", `-D 0.0.0.0:0: ${OPEN_HERE}`]);
    expect(attempts).toBe(0);
  });

  test("addForward() refuses it on a running engine", async () => {
    const engine = new Engine({ sessions: [{ name: "main", host: "u@a", connect: () => new Promise(() => {}) }], forwards: [] }, { exitOnForwardFailure: false, acquireTimeoutMs: 100 });
    const r = await engine.addForward(openD);
    engine.kill();
    expect(!r.ok && r.error.message).toBe(`-D 0.0.0.0:0: ${OPEN_HERE}`);
    expect(engine.snapshot().forwards).toEqual([]);
  });
});
