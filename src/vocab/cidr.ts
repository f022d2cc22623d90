// Networks as CIDRs: client allow-lists (IPv4 and IPv6; an IPv4-mapped IPv6 address matches its IPv4
// network), and the IPv4 ones nftables takes for --route, checked and reduced to their network.

import net from "node:net";

/** `10.0.0.0/8`, `192.168.1.7` (a /32), `fd00::/8`; undefined when it is not one (see cidrProblem). */
export function parseCidr(s: string): { address: string; prefix: number; family: "ipv4" | "ipv6" } | undefined {
  if (s.includes("%")) return undefined; // a zone: see cidrProblem
  const [address = "", prefixText] = s.split("/");
  const kind = net.isIP(address);
  if (kind === 0) return undefined;
  const max = kind === 4 ? 32 : 128;
  const prefix = prefixText === undefined ? max : Number(prefixText);
  if (!/^\d+$/.test(prefixText ?? String(max)) || prefix > max) return undefined;
  return { address, prefix, family: kind === 4 ? "ipv4" : "ipv6" };
}

/**
 * What is wrong with `s` as an allow-list entry, or undefined when parseCidr takes it. A zone
 * (`fe80::%eth0/64`) is refused, not dropped: a client's address says nothing of the link it came
 * from, so the entry would admit that prefix on every interface (an attack review found it so).
 */
export function cidrProblem(s: string): string | undefined {
  if (parseCidr(s)) return undefined;
  if (s.includes("%")) return "a zone (%…) cannot be checked: a client's address does not say which link it came from; leave the zone out";
  return "expected an address or CIDR";
}

/** Builds a matcher; the CIDRs must have been validated (parseCidr) already. */
export function allowList(cidrs: string[]): (address: string) => boolean {
  const list = new net.BlockList();
  for (const c of cidrs) {
    const p = parseCidr(c);
    if (p) list.addSubnet(p.address, p.prefix, p.family);
  }
  return (address) => {
    const family = net.isIPv6(address) ? "ipv6" : "ipv4";
    return net.isIP(address) !== 0 && list.check(address, family);
  };
}

export function isIpv4Cidr(c: string): boolean {
  const [address = "", prefix] = c.split("/");
  return net.isIPv4(address) && (prefix === undefined || (/^\d+$/.test(prefix) && Number(prefix) <= 32));
}

/** The network a CIDR names, host bits cleared (nft refuses `10.1.2.3/8`): `10.0.0.0/8`. */
export function networkOf(c: string): string {
  const [address = "", prefixText] = c.split("/");
  const prefix = prefixText === undefined ? 32 : Number(prefixText);
  const n = address.split(".").reduce((a, b) => a * 256 + Number(b), 0);
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  const v = (n & mask) >>> 0;
  return `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}/${prefix}`;
}

/**
 * An IPv6 address's eight 16-bit groups (`fe80::1` → fe80, 0, …, 1), a zone (`%eth0`) dropped, a
 * dotted quad at its end read as its last two groups; undefined when it is not one.
 */
export function ipv6Groups(address: string): number[] | undefined {
  let a = address.replace(/%.*$/, "");
  if (!net.isIPv6(a)) return undefined;
  // A dotted quad at the end (::ffff:1.2.3.4, ::1.2.3.4, 64:ff9b::1.2.3.4) is the last two groups.
  const quad = /^(.*:)(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(a);
  if (quad) {
    const [b0, b1, b2, b3] = quad.slice(2).map(Number) as [number, number, number, number];
    a = `${quad[1]}${((b0 << 8) | b1).toString(16)}:${((b2 << 8) | b3).toString(16)}`;
  }
  const [head = "", tail] = a.split("::");
  const part = (x: string) => (x ? x.split(":") : []);
  const [left, right] = [part(head), part(tail ?? "")];
  const all = tail === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill("0"), ...right];
  return all.map((g) => parseInt(g, 16));
}
