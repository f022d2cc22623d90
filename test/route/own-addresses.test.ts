// This machine's own addresses as the SOCKS gate asks for them: lo's, IPv4-mapped spellings, an
// address that is not here, and one added on a veth pair the test makes (as root), found only once
// the last reading has expired.

import { afterAll, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { forgetOwnAddresses, ownInterfaces, OWN_ADDRESSES_TTL_MS } from "../../src/route/own-addresses.ts";
import { canMakeNamespaces, makeHost } from "../harness/netns.ts";

test("lo's addresses are interface 1's, in every spelling", () => {
  forgetOwnAddresses();
  expect(ownInterfaces("127.0.0.1")).toEqual([1]);
  expect(ownInterfaces("::ffff:127.0.0.1")).toEqual([1]);
  expect(ownInterfaces("::1")).toEqual([1]);
  expect(ownInterfaces("0:0:0:0:0:0:0:1")).toEqual([1]);
});

test("an address that is not this machine's, and what is not an address: none", () => {
  expect(ownInterfaces("203.0.113.9")).toBeUndefined();
  expect(ownInterfaces("2001:db8::9")).toBeUndefined();
  expect(ownInterfaces("")).toBeUndefined();
  expect(ownInterfaces("localhost")).toBeUndefined();
});

let destroy = () => {};
afterAll(() => destroy());

test.skipIf(!canMakeNamespaces())("an address added on a veth: its interface, once the last reading is a second old", () => {
  const now = Date.now();
  forgetOwnAddresses();
  expect(ownInterfaces("198.18.72.1", now)).toBeUndefined();
  ({ destroy } = makeHost(72));
  const shown = spawnSync("ip", ["-o", "-4", "addr", "show", "to", "198.18.72.1/32"], { encoding: "utf8" }).stdout;
  const index = Number(/^(\d+):/.exec(shown)?.[1]);
  expect(index).toBeGreaterThan(1);
  // Within the second the old reading serves; after it, the new address is seen.
  expect(ownInterfaces("198.18.72.1", now + OWN_ADDRESSES_TTL_MS - 1)).toBeUndefined();
  expect(ownInterfaces("198.18.72.1", now + OWN_ADDRESSES_TTL_MS)).toEqual([index]);
  expect(ownInterfaces("::ffff:198.18.72.1", now + OWN_ADDRESSES_TTL_MS)).toEqual([index]);
  // The far end (inside the namespace) is not this namespace's.
  expect(ownInterfaces("198.18.72.2", now + OWN_ADDRESSES_TTL_MS)).toBeUndefined();
});
