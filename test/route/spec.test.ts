// The route forward's checks and the nftables ruleset it writes, as tables.

import { describe, expect, test } from "bun:test";
import { ruleset } from "../../src/route/nft.ts";
import { routeForward, type RouteParts } from "../../src/config/route-spec.ts";
import { networkOf } from "../../src/vocab/cidr.ts";
import { validateForward } from "../../src/engine/kinds.ts";

describe("networkOf", () => {
  for (const [given, want] of [["10.1.2.3/8", "10.0.0.0/8"], ["192.168.7.9", "192.168.7.9/32"], ["0.0.0.0/0", "0.0.0.0/0"], ["198.19.255.1/15", "198.18.0.0/15"]] as const)
    test(`${given} → ${want}`, () => expect(networkOf(given)).toBe(want));
});

describe("routeForward refuses", () => {
  const base: RouteParts = { networks: ["10.0.0.0/8"], exclude: [], server: "bastion" };
  const cases: [string, RouteParts, string][] = [
    ["no network", { ...base, networks: [] }, "r: no network to route"],
    ["IPv6", { ...base, networks: ["fd00::/8"] }, "r: --route 'fd00::/8': expected an IPv4 address or CIDR"],
    ["a bad prefix", { ...base, exclude: ["10.0.0.0/33"] }, "r: --exclude '10.0.0.0/33': expected an IPv4 address or CIDR"],
    ["a DNS server that is not an address", { ...base, dns: { server: "ns1" } }, "r: --dns-server 'ns1': expected an IPv4 address"],
  ];
  for (const [why, parts, message] of cases)
    test(why, () => {
      const r = routeForward("r", parts);
      expect(!r.ok && r.error.message).toBe(message);
    });
  test("a LAN route with no allow-list is built, and the engine's check refuses it (whoever built it)", () => {
    const r = routeForward("r", { ...base, lan: { allow: [] } });
    expect(r.ok && validateForward(r.value)?.message).toBe("r: refusing to route for the LAN with no allow-list: any machine that can reach this one would use the tunnel");
  });
  test("and always excludes the SSH server", () => {
    const r = routeForward("r", { ...base, exclude: ["10.9.1.1/16"] });
    expect(r.ok && r.value.exclude).toEqual(["10.9.0.0/16", "bastion"]);
    expect(r.ok && r.value.bind).toEqual({ host: "127.0.0.1", port: 0 });
  });
});

test("ruleset: DNS before the loopback skip, excludes before redirects, LAN only from the allowed", () => {
  expect(ruleset("fwd_7", { networks: ["10.0.0.0/8"], exclude: ["10.0.0.1/32"], port: 4000, dnsPort: 4001, lan: { allow: ["192.168.1.0/24"] } })).toBe(
    [
      "table ip fwd_7 {",
      "  chain output {",
      "    type nat hook output priority -100; policy accept;",
      "    udp dport 53 redirect to :4001",
      "    tcp dport 53 redirect to :4001",
      "    ip daddr 127.0.0.0/8 return",
      "    ip daddr 10.0.0.1/32 return",
      "    ip daddr 10.0.0.0/8 ip protocol tcp redirect to :4000",
      "  }",
      "  chain prerouting {",
      "    type nat hook prerouting priority -100; policy accept;",
      "    ip saddr 192.168.1.0/24 goto lan",
      "  }",
      "  chain lan {",
      "    udp dport 53 redirect to :4001",
      "    tcp dport 53 redirect to :4001",
      "    ip daddr 127.0.0.0/8 return",
      "    ip daddr 10.0.0.1/32 return",
      "    ip daddr 10.0.0.0/8 ip protocol tcp redirect to :4000",
      "  }",
      "}",
      "",
    ].join("\n"),
  );
});
