// IPv4 CIDRs as nftables takes them: checked, and reduced to their network. A leaf: the routing
// adapters, the engine's route forward and the config parser all use it.

import net from "node:net";

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
