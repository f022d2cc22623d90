// Test networks of the project's own: network namespaces joined by veth pairs, addressed from
// 198.18.0.0/15 (reserved for benchmarks, never routed). While one exists, an `unreachable
// 198.18.0.0/15` route in the root namespace keeps anything addressed there from leaving the machine.

import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";

export const canMakeNamespaces = (): boolean =>
  process.getuid?.() === 0 && spawnSync("ip", ["netns", "list"]).status === 0;

function ip(args: string[]): void {
  const r = spawnSync("ip", args, { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`ip ${args.join(" ")}: ${r.stderr.trim()}`);
}

let guards = 0;
function guardUp(): void {
  if (guards++ === 0 && !spawnSync("ip", ["route", "show", "198.18.0.0/15"], { encoding: "utf8" }).stdout.includes("unreachable"))
    ip(["route", "add", "unreachable", "198.18.0.0/15"]);
}
function guardDown(): void {
  if (--guards === 0) spawnSync("ip", ["route", "del", "unreachable", "198.18.0.0/15"]);
}

export interface Host {
  /** The namespace's name, for `ip netns exec`. */
  ns: string;
  /** Its address, as the root namespace (client C) reaches it. */
  address: string;
  /** The command line prefix that runs a program inside it. */
  exec: string[];
  /** Drops the link on the host's side: packets vanish, nothing answers, nothing is refused. */
  silence(): void;
  restore(): void;
}

/**
 * A host one veth hop from the root namespace, on its own /30 (`subnet` picks which: 0–255).
 * Returns the host and a teardown that removes everything it made.
 */
export function makeHost(subnet: number, opts: { hosts?: Record<string, string> } = {}): { host: Host; destroy(): void } {
  const id = randomBytes(3).toString("hex");
  const ns = `fwd-${id}`;
  // `ip netns exec` bind-mounts /etc/netns/NAME/hosts over /etc/hosts: the host's own name table.
  const etc = `/etc/netns/${ns}`;
  if (opts.hosts) {
    mkdirSync(etc, { recursive: true });
    writeFileSync(`${etc}/hosts`, ["127.0.0.1 localhost", ...Object.entries(opts.hosts).map(([name, addr]) => `${addr} ${name}`)].join("\n") + "\n");
  }
  const [outer, inner] = [`fv${id}o`, `fv${id}i`];
  const base = `198.18.${subnet}`;
  guardUp();
  try {
    ip(["netns", "add", ns]);
    ip(["link", "add", outer, "type", "veth", "peer", "name", inner]);
    ip(["link", "set", inner, "netns", ns]);
    ip(["addr", "add", `${base}.1/30`, "dev", outer]);
    ip(["link", "set", outer, "up"]);
    ip(["-n", ns, "addr", "add", `${base}.2/30`, "dev", inner]);
    ip(["-n", ns, "link", "set", inner, "up"]);
    ip(["-n", ns, "link", "set", "lo", "up"]);
  } catch (e) {
    spawnSync("ip", ["netns", "del", ns]);
    spawnSync("ip", ["link", "del", outer]);
    rmSync(etc, { recursive: true, force: true });
    guardDown();
    throw e;
  }
  return {
    host: {
      ns,
      address: `${base}.2`,
      exec: ["ip", "netns", "exec", ns],
      silence: () => ip(["-n", ns, "link", "set", inner, "down"]),
      restore: () => ip(["-n", ns, "link", "set", inner, "up"]),
    },
    destroy: () => {
      spawnSync("ip", ["netns", "del", ns]);
      spawnSync("ip", ["link", "del", outer]);
      rmSync(etc, { recursive: true, force: true });
      guardDown();
    },
  };
}

export interface World {
  /** Server A: reachable from C (the root namespace) on its public side, and on B's LAN. */
  a: Host & { lanAddress: string };
  /** Server B: on A's LAN only; C has no route to it. */
  b: Host;
  destroy(): void;
}

/**
 * The seed's three machines: C (this namespace) → A (public 198.18.<n>.2, LAN 198.18.<n+1>.1) → B
 * (LAN 198.18.<n+1>.2). A does not route between its sides, so C cannot reach B by itself.
 */
export function makeWorld(n: number, opts: { hosts?: Record<string, string> } = {}): World {
  const { host: a, destroy: destroyA } = makeHost(n, opts);
  const id = randomBytes(3).toString("hex");
  const nsB = `fwd-${id}`;
  const [inA, inB] = [`fl${id}a`, `fl${id}b`];
  const lan = `198.18.${n + 1}`;
  try {
    ip(["netns", "add", nsB]);
    ip(["link", "add", inA, "type", "veth", "peer", "name", inB]);
    ip(["link", "set", inA, "netns", a.ns]);
    ip(["link", "set", inB, "netns", nsB]);
    ip(["-n", a.ns, "addr", "add", `${lan}.1/30`, "dev", inA]);
    ip(["-n", a.ns, "link", "set", inA, "up"]);
    ip(["-n", nsB, "addr", "add", `${lan}.2/30`, "dev", inB]);
    ip(["-n", nsB, "link", "set", inB, "up"]);
    ip(["-n", nsB, "link", "set", "lo", "up"]);
    // A is a host, not a router: what reaches it from C stops there.
    spawnSync("ip", ["netns", "exec", a.ns, "sysctl", "-qw", "net.ipv4.ip_forward=0"]);
  } catch (e) {
    spawnSync("ip", ["netns", "del", nsB]);
    destroyA();
    throw e;
  }
  const b: Host = {
    ns: nsB,
    address: `${lan}.2`,
    exec: ["ip", "netns", "exec", nsB],
    silence: () => ip(["-n", nsB, "link", "set", inB, "down"]),
    restore: () => ip(["-n", nsB, "link", "set", inB, "up"]),
  };
  return {
    a: { ...a, lanAddress: `${lan}.1` },
    b,
    destroy: () => {
      spawnSync("ip", ["netns", "del", nsB]);
      destroyA();
    },
  };
}

/**
 * An "internet" host joined to each of `exits` by its own link (198.18.<base+i>.0/30), answering on
 * one address, 198.18.<base+10>.1, that every exit routes to — and that this namespace cannot reach.
 * What it sees as the caller's address tells which exit a connection left from.
 */
export function makeInternet(exits: Host[], base: number): { ns: string; address: string; exec: string[]; destroy(): void } {
  const id = randomBytes(3).toString("hex");
  const ns = `fwd-${id}`;
  const address = `198.18.${base + 10}.1`;
  const links: string[] = [];
  try {
    ip(["netns", "add", ns]);
    ip(["-n", ns, "link", "set", "lo", "up"]);
    ip(["-n", ns, "addr", "add", `${address}/32`, "dev", "lo"]);
    exits.forEach((exit, i) => {
      const [out, inside] = [`fi${id}${i}x`, `fi${id}${i}i`];
      const net = `198.18.${base + i}`;
      ip(["link", "add", out, "type", "veth", "peer", "name", inside]);
      links.push(out);
      ip(["link", "set", out, "netns", exit.ns]);
      ip(["link", "set", inside, "netns", ns]);
      ip(["-n", exit.ns, "addr", "add", `${net}.1/30`, "dev", out]);
      ip(["-n", exit.ns, "link", "set", out, "up"]);
      ip(["-n", exit.ns, "route", "add", `${address}/32`, "via", `${net}.2`]);
      ip(["-n", ns, "addr", "add", `${net}.2/30`, "dev", inside]);
      ip(["-n", ns, "link", "set", inside, "up"]);
    });
  } catch (e) {
    spawnSync("ip", ["netns", "del", ns]);
    throw e;
  }
  return { ns, address, exec: ["ip", "netns", "exec", ns], destroy: () => void spawnSync("ip", ["netns", "del", ns]) };
}

/**
 * Silences `host` so that connection attempts to it hang for TCP's whole SYN timeout (~130 s), like a
 * firewall that drops SYNs: silence() alone lets ARP fail after ~3 s and connects fail with it. The
 * host's address is pinned in the neighbour table of the root side's veth, which goes with the link.
 */
export function dropSyns(host: Host): void {
  const dev = /\bdev (\S+)/.exec(spawnSync("ip", ["-o", "route", "get", host.address], { encoding: "utf8" }).stdout)?.[1];
  const links = spawnSync("ip", ["-n", host.ns, "-o", "link", "show"], { encoding: "utf8" }).stdout.split("\n");
  const mac = links.filter((l) => !/: lo:/.test(l)).map((l) => /link\/ether (\S+)/.exec(l)?.[1]).find(Boolean);
  if (!dev || !mac) throw new Error(`dropSyns: no veth found for ${host.address}`);
  ip(["neigh", "replace", host.address, "lladdr", mac, "dev", dev, "nud", "permanent"]);
  host.silence();
}
