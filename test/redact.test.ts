// The redactor as a table: secret by key name (at any depth, in arrays, through copies), by a
// structural mark whatever the field is called, and by value for key material; nothing else touched.

import { describe, expect, test } from "bun:test";
import { isSecretKey, markSecret, REDACTED, redact } from "../src/redact.ts";

describe("isSecretKey", () => {
  test.each([
    ["password", true], ["socksPassword", true], ["socks_password", true], ["passphrase", true], ["secret", true],
    ["clientSecret", true], ["token", true], ["api-token", true], ["apiKey", true], ["privateKey", true], ["API_KEY", true],
    ["credentials", true], ["pass", true],
    ["tokenFile", false], ["passwordFile", false], ["user", false], ["hostKey", false], ["key", false], ["url", false], ["bypass", false], ["", false],
  ] as const)("%p → %p", (key, secret) => expect(isSecretKey(key)).toBe(secret));
});

describe("redact", () => {
  test("nested secrets in objects and arrays, on a copy", () => {
    const spec = { kind: "dynamic", socks: { allow: [], auth: { user: "alice", password: "hunter2" } } };
    const snap = { forwards: [{ spec }, { spec: { ...spec, id: "b" } }], scenario: { options: { db: { password: "x", host: "h" } } } };
    const out = redact(snap);
    expect(out.forwards[0]!.spec.socks.auth).toEqual({ user: "alice", password: REDACTED });
    expect(out.forwards[1]!.spec.socks.auth.password).toBe(REDACTED);
    expect(out.scenario.options.db).toEqual({ password: REDACTED, host: "h" });
    expect(spec.socks.auth.password).toBe("hunter2");
    expect(JSON.stringify(out)).not.toContain("hunter2");
  });

  test("a marked field is secret whatever it is called, also after a spread copy", () => {
    const auth = markSecret({ user: "u", word: "hunter2" }, "word");
    expect(redact({ a: auth, b: { ...auth } })).toEqual({ a: { user: "u", word: REDACTED }, b: { user: "u", word: REDACTED } });
    expect(JSON.stringify(auth)).toBe(`{"user":"u","word":"hunter2"}`);
  });

  test("private key material under any name, binary data, cycles, and plain values", () => {
    const pem = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3Blbn…\n-----END OPENSSH PRIVATE KEY-----\n";
    const loop: Record<string, unknown> = { name: "x" };
    loop.self = loop;
    expect(redact<unknown>({ identity: pem, data: Buffer.from("k"), loop, n: 1, none: null, at: new Date(0) })).toEqual({
      identity: REDACTED, data: REDACTED, loop: { name: "x", self: "[…]" }, n: 1, none: null, at: "1970-01-01T00:00:00.000Z",
    });
    expect(redact({ password: undefined, token: null })).toEqual({ password: undefined, token: null });
    expect(redact("plain")).toBe("plain");
  });
});
