// The demo's key pairs always parse — ssh2's own generator, under Bun, yields a broken public key
// about once in 300 tries, which made `fwd demo` fail now and then.

import { expect, test } from "bun:test";
import { utils } from "ssh2";
import { ed25519KeyPair } from "../../src/demo/keys.ts";

test("1,000 demo key pairs: every public and private key parses", () => {
  let broken = 0;
  for (let i = 0; i < 1000; i++) {
    const k = ed25519KeyPair();
    if (utils.parseKey(k.public) instanceof Error || utils.parseKey(k.private) instanceof Error) broken++;
  }
  expect(broken).toBe(0);
});
