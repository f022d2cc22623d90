// The kernel's own answer to "is this address delivered here?" (RTM_GETROUTE with RTM_F_FIB_MATCH):
// lo's addresses, addresses that are not this machine's, and, as root, the ones getifaddrs misses —
// an alias with a label, an address on an interface without carrier, an AnyIP range — on veth pairs
// and a route the test makes and removes.

import { beforeAll, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { isOwnAddress, localRoute } from "../../src/route/local-route.ts";
import { loadLibc } from "../../src/route/netlink.ts";
import { canMakeNamespaces, makeHost } from "../harness/netns.ts";

const onBunLinux = process.platform === "linux" && "Bun" in globalThis;

beforeAll(async () => {
  await loadLibc();
});

test.skipIf(!onBunLinux)("lo's addresses are local, on interface 1, in every spelling", () => {
  for (const a of ["127.0.0.1", "127.0.0.5", "::1", "::ffff:127.0.0.1"]) expect([a, localRoute(a)]).toEqual([a, { ok: true, value: { local: true, ifindex: 1 } }]);
});

test.skipIf(!onBunLinux)("addresses that are not this machine's are not local; what is not an address is an error", () => {
  for (const a of ["203.0.113.9", "2001:db8::9", "::ffff:203.0.113.9"]) expect([a, localRoute(a)]).toEqual([a, { ok: true, value: { local: false } }]);
  const r = localRoute("localhost");
  expect(!r.ok && r.error.message).toBe("local route: localhost is not an IP address");
});

test.skipIf(!onBunLinux)("before libc is loaded, isOwnAddress falls back to the interface list", () => {
  // A process of its own: this one has loaded libc already.
  const script = `import { isOwnAddress, localRoute } from ${JSON.stringify(new URL("../../src/route/local-route.ts", import.meta.url).pathname)};
const r = localRoute("127.0.0.1");
console.log(JSON.stringify([r.ok ? "asked" : r.error.message, isOwnAddress("127.0.0.1"), isOwnAddress("::ffff:127.0.0.1"), isOwnAddress("203.0.113.9")]));`;
  const r = spawnSync(process.execPath, ["-e", script], { encoding: "utf8" });
  expect(JSON.parse(r.stdout)).toEqual(["local route: libc is not loaded yet", true, true, false]);
});

const ip = (...args: string[]) => {
  const r = spawnSync("ip", args, { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`ip ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
};

test.skipIf(!canMakeNamespaces())("an interface's address, an alias with a label, an address without carrier and an AnyIP range are local", () => {
  const { host, destroy } = makeHost(73);
  try {
    const [, index, device] = /^(\d+):\s+(\S+)/.exec(ip("-o", "-4", "addr", "show", "to", "198.18.73.1/32"))!;
    const onVeth = { ok: true as const, value: { local: true, ifindex: Number(index) } };
    expect(localRoute("198.18.73.1")).toEqual(onVeth);
    expect(localRoute("::ffff:198.18.73.1")).toEqual(onVeth);
    // The far end, inside the namespace, is reached through the veth, not delivered here.
    expect(localRoute(host.address)).toEqual({ ok: true, value: { local: false } });
    // An alias with a label: getifaddrs names it "<device>:1", which has no index of its own.
    ip("addr", "add", "198.18.73.9/32", "dev", device!, "label", `${device}:1`);
    expect(localRoute("198.18.73.9")).toEqual(onVeth);
    expect([isOwnAddress("198.18.73.9"), isOwnAddress(host.address)]).toEqual([true, false]);
    // Without carrier (the peer's end down), the address is still this machine's.
    host.silence();
    expect(localRoute("198.18.73.1")).toEqual(onVeth);
    expect(isOwnAddress("198.18.73.1")).toBe(true);
    // AnyIP: every address of a range delivered here, through lo, held by no interface.
    ip("route", "add", "local", "198.18.74.0/30", "dev", "lo");
    try {
      expect(localRoute("198.18.74.2")).toEqual({ ok: true, value: { local: true, ifindex: 1 } });
    } finally {
      ip("route", "del", "local", "198.18.74.0/30", "dev", "lo");
    }
    expect(localRoute("198.18.74.2")).toEqual({ ok: true, value: { local: false } }); // the unreachable guard's
  } finally {
    destroy();
  }
});
