// Allow-list entries and IPv6 groups (src/vocab/cidr.ts): what the SOCKS gate and the matchers rely on.

import { describe, expect, test } from "bun:test";
import { allowList, cidrProblem, ipv6Groups, parseCidr } from "../../src/vocab/cidr.ts";

describe("allow-list entries", () => {
  test("a zone is refused, not dropped: the matcher would admit fe80::/64 from every link", () => {
    expect(parseCidr("fe80::%eth0/64")).toBeUndefined();
    expect(cidrProblem("fe80::%2/64")).toContain("a zone (%…) cannot be checked");
    expect([cidrProblem("fe80::/64"), cidrProblem("10.0.0.7"), cidrProblem("nope")]).toEqual([undefined, undefined, "expected an address or CIDR"]);
  });
  test("an IPv4-mapped client matches its IPv4 network", () => {
    expect([allowList(["10.0.0.0/8"])("::ffff:10.1.2.3"), allowList(["10.0.0.0/8"])("11.0.0.1")]).toEqual([true, false]);
  });
  test("ipv6Groups reads a dotted quad at the end", () => {
    expect(ipv6Groups("::ffff:1.2.3.4")).toEqual([0, 0, 0, 0, 0, 0xffff, 0x0102, 0x0304]);
    expect(ipv6Groups("64:ff9b::198.18.0.1")).toEqual([0x64, 0xff9b, 0, 0, 0, 0, 0xc612, 0x0001]);
    expect(ipv6Groups("fe80::1%eth0")).toEqual([0xfe80, 0, 0, 0, 0, 0, 0, 1]);
    expect(ipv6Groups("1.2.3.4")).toBeUndefined();
  });
});
