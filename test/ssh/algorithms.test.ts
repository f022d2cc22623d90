// Ciphers as OpenSSH reads it (a list, or +, - and ^ against the defaults), checked as a table.

import { describe, expect, test } from "bun:test";
import { DEFAULT_CIPHERS, resolveCiphers } from "../../src/ssh/algorithms.ts";

const CHACHA = "chacha20-poly1305@openssh.com";

describe("resolveCiphers", () => {
  test("the defaults this build offers, chacha20-poly1305 among them", () => {
    expect(DEFAULT_CIPHERS).toEqual(["aes128-gcm@openssh.com", "aes256-gcm@openssh.com", "aes128-ctr", "aes192-ctr", "aes256-ctr", CHACHA]);
  });

  test.each([
    ["aes256-ctr,aes128-ctr", ["aes256-ctr", "aes128-ctr"]],
    ["aes128-ctr,aes128-ctr", ["aes128-ctr"]],
    [`^${CHACHA}`, [CHACHA, "aes128-gcm@openssh.com", "aes256-gcm@openssh.com", "aes128-ctr", "aes192-ctr", "aes256-ctr"]],
    ["+aes128-cbc", [...DEFAULT_CIPHERS, "aes128-cbc"]],
    [`+${CHACHA}`, [...DEFAULT_CIPHERS]],
    ["-aes128-ctr,aes192-ctr", ["aes128-gcm@openssh.com", "aes256-gcm@openssh.com", "aes256-ctr", CHACHA]],
  ] as const)("%p", (spec, want) => {
    expect(resolveCiphers(spec)).toEqual({ ok: true, value: [...want] });
  });

  test.each([
    ["chacha20", 'unknown cipher "chacha20"'],
    ["aes128-ctr,,x", 'unknown cipher an empty name, "x"'],
    ["-aes*", 'unknown cipher "aes*"'],
    [`-${DEFAULT_CIPHERS.join(",")}`, "no cipher left after"],
  ])("%p is refused", (spec, message) => {
    const r = resolveCiphers(spec);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.message).toStartWith(message);
  });
});
