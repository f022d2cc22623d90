// This machine's own addresses in this network namespace, and the interfaces that hold them. A
// client connecting from one of them is a local user like one on loopback, and is told apart by
// its socket's owner, not by an address every local user may bind (engine/dynamic-forward.ts).
// Read from getifaddrs (os.networkInterfaces) and /sys/class/net at most once a second: asked only
// while a SOCKS proxy is under load, the list may then be a second old.

import { readFileSync } from "node:fs";
import os from "node:os";
import { ipv6Groups } from "../vocab/cidr.ts";

/** How long one reading of the interfaces serves. */
export const OWN_ADDRESSES_TTL_MS = 1_000;

let read: { at: number; interfaces: Map<string, number[]> } | undefined;

/**
 * The indexes of the interfaces that hold `address` here (several when one address sits on more
 * than one), or undefined when it is not this machine's. Loopback's 127.0.0.1 and ::1 are lo's like
 * any other; the rest of 127.0.0.0/8 is the caller's to know (it is lo's without being listed).
 */
export function ownInterfaces(address: string, now = Date.now()): number[] | undefined {
  if (!read || now - read.at >= OWN_ADDRESSES_TTL_MS || now < read.at) read = { at: now, interfaces: readInterfaces() };
  const key = canonical(address);
  return key === undefined ? undefined : read.interfaces.get(key);
}

/** Forgets the last reading (tests that add an address). */
export function forgetOwnAddresses(): void {
  read = undefined;
}

function readInterfaces(): Map<string, number[]> {
  const byAddress = new Map<string, number[]>();
  let all: ReturnType<typeof os.networkInterfaces>;
  try {
    all = os.networkInterfaces();
  } catch {
    // No list (a sandbox without netlink): no address is known as this machine's, as before this existed.
    return byAddress;
  }
  for (const [name, addresses] of Object.entries(all)) {
    const index = interfaceIndex(name);
    if (index === undefined) continue;
    for (const a of addresses ?? []) {
      const key = canonical(a.address);
      if (key === undefined) continue;
      const list = byAddress.get(key);
      if (!list) byAddress.set(key, [index]);
      else if (!list.includes(index)) list.push(index);
    }
  }
  return byAddress;
}

/** Linux's index of an interface (`ip link` shows it); undefined where there is no /sys to say. */
function interfaceIndex(name: string): number | undefined {
  if (name.includes("/") || name === "." || name === "..") return undefined;
  try {
    const n = Number(readFileSync(`/sys/class/net/${name}/ifindex`, "utf8").trim());
    return Number.isInteger(n) && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

/** One spelling per address: dotted IPv4 (an IPv4-mapped IPv6 address as its IPv4), IPv6 as its groups. */
function canonical(address: string): string | undefined {
  const a = address.replace(/%.*$/, "");
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(a);
  if (mapped) return mapped[1];
  if (!a.includes(":")) return /^\d+\.\d+\.\d+\.\d+$/.test(a) ? a : undefined;
  return ipv6Groups(a)?.map((g) => g.toString(16)).join(":");
}
