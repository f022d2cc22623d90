// The seed's world with the client in a namespace of its own, for --route: C → A → B, and L behind C
// (C is L's gateway). fwd runs inside C, so the nftables rules it writes live in C's namespace and go
// with it; nothing is added to the root namespace (no link to it at all).
//
//   L 198.18.<n+2>.2 ── .1 C 198.18.<n>.1 ── .2 A 198.18.<n+1>.1 ── .2 B
//
// C's default route points at A, which refuses to forward (a forward chain that rejects, in A's own
// namespace): C has no way of its own to B, and what it sends there is answered "host unreachable" at
// once rather than dropped, so a test sees the failure without waiting out a timeout. C forwards for L,
// as a gateway does.

import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";

export interface Node {
  ns: string;
  address: string;
  exec: string[];
}

export interface RouteWorld {
  c: Node;
  a: Node;
  b: Node;
  l: Node;
  /** Runs a command inside a namespace and returns its output; throws on failure. */
  run(node: Node, argv: string[]): string;
  destroy(): void;
}

function ip(args: string[]): void {
  const r = spawnSync("ip", args, { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`ip ${args.join(" ")}: ${r.stderr.trim()}`);
}

/**
 * `resolvers`: a nameserver line per node ("c", "a"), as /etc/netns/NS/resolv.conf, which `ip netns
 * exec` mounts over /etc/resolv.conf for what it runs there.
 */
export function makeRouteWorld(n: number, resolvers: Partial<Record<"c" | "a", string>> = {}): RouteWorld {
  const id = randomBytes(3).toString("hex");
  const names = { c: `fwdr-${id}-c`, a: `fwdr-${id}-a`, b: `fwdr-${id}-b`, l: `fwdr-${id}-l` };
  const node = (ns: string, address: string): Node => ({ ns, address, exec: ["ip", "netns", "exec", ns] });
  const destroy = () => {
    for (const ns of Object.values(names)) {
      spawnSync("ip", ["netns", "del", ns]);
      rmSync(`/etc/netns/${ns}`, { recursive: true, force: true });
    }
  };
  const link = (x: string, y: string, net: string, tag: string) => {
    const [ex, ey] = [`fr${id}${tag}x`, `fr${id}${tag}y`];
    ip(["link", "add", ex, "type", "veth", "peer", "name", ey]);
    ip(["link", "set", ex, "netns", x]);
    ip(["link", "set", ey, "netns", y]);
    ip(["-n", x, "addr", "add", `${net}.1/30`, "dev", ex]);
    ip(["-n", y, "addr", "add", `${net}.2/30`, "dev", ey]);
    ip(["-n", x, "link", "set", ex, "up"]);
    ip(["-n", y, "link", "set", ey, "up"]);
  };
  const sysctl = (ns: string, kv: string) => {
    const r = spawnSync("ip", ["netns", "exec", ns, "sysctl", "-qw", kv], { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`sysctl ${kv} in ${ns}: ${r.stderr}`);
  };
  try {
    for (const ns of Object.values(names)) {
      ip(["netns", "add", ns]);
      ip(["-n", ns, "link", "set", "lo", "up"]);
    }
    for (const [k, server] of Object.entries(resolvers)) {
      mkdirSync(`/etc/netns/${names[k as "c" | "a"]}`, { recursive: true });
      writeFileSync(`/etc/netns/${names[k as "c" | "a"]}/resolv.conf`, `nameserver ${server}\n`);
    }
    link(names.c, names.a, `198.18.${n}`, "ca");
    link(names.a, names.b, `198.18.${n + 1}`, "ab");
    link(names.c, names.l, `198.18.${n + 2}`, "cl");
    ip(["-n", names.c, "route", "add", "default", "via", `198.18.${n}.2`]);
    ip(["-n", names.l, "route", "add", "default", "via", `198.18.${n + 2}.1`]);
    // A's answers to L (its refusals included) find their way back through C.
    ip(["-n", names.a, "route", "add", `198.18.${n + 2}.0/30`, "via", `198.18.${n}.1`]);
    sysctl(names.a, "net.ipv4.ip_forward=1");
    const fw = spawnSync("ip", ["netns", "exec", names.a, "nft", "-f", "-"], {
      input: ["table ip refuse {", "  chain forward {", "    type filter hook forward priority 0; policy accept;", "    reject with icmp type host-unreachable", "  }", "}", ""].join("\n"),
      encoding: "utf8",
    });
    if (fw.status !== 0) throw new Error(`nft in ${names.a}: ${fw.stderr}`);
    sysctl(names.c, "net.ipv4.ip_forward=1");
  } catch (e) {
    destroy();
    throw e;
  }
  return {
    c: node(names.c, `198.18.${n}.1`),
    a: node(names.a, `198.18.${n}.2`),
    b: node(names.b, `198.18.${n + 1}.2`),
    l: node(names.l, `198.18.${n + 2}.2`),
    run: (x, argv) => {
      const r = spawnSync(x.exec[0]!, [...x.exec.slice(1), ...argv], { encoding: "utf8", timeout: 20_000 });
      if (r.status !== 0) throw new Error(`${argv.join(" ")} in ${x.ns}: ${r.status} ${r.stderr}`);
      return r.stdout;
    },
    destroy,
  };
}

/**
 * B's web server on port 80: answers `<prefix>you are <client address>`, so a test sees whether a
 * connection came through the tunnel (A's LAN address) or not. Resolves once it listens.
 */
export async function startWhoAmI(world: RouteWorld, prefix: string): Promise<ChildProcess> {
  // python's -u makes its "serving" line arrive when it listens.
  const web = spawn("ip", ["netns", "exec", world.b.ns, "python3", "-u", "-c", [
    "import http.server",
    "class H(http.server.BaseHTTPRequestHandler):",
    "  def do_GET(self):",
    `    body = (${JSON.stringify(prefix)} + 'you are ' + self.client_address[0] + '\\n').encode()`,
    "    self.send_response(200); self.send_header('Content-Length', str(len(body))); self.end_headers(); self.wfile.write(body)",
    "  def log_message(self, *a): pass",
    `s = http.server.HTTPServer(('${world.b.address}', 80), H)`,
    "print('serving', flush=True)",
    "s.serve_forever()",
  ].join("\n")], { stdio: ["ignore", "pipe", "inherit"] });
  await new Promise<void>((resolve, reject) => {
    web.stdout!.on("data", (d: Buffer) => d.toString().includes("serving") && resolve());
    web.once("exit", (c) => reject(new Error(`web server exited (${c})`)));
  });
  return web;
}

/** A resolver in A (dnsmasq) on `listen`, knowing only `records` (name,address). Resolves once it runs. */
export async function startResolver(world: RouteWorld, listen: string, records: string[]): Promise<ChildProcess> {
  const dnsmasq = spawn("ip", ["netns", "exec", world.a.ns, "dnsmasq", "-C", "/dev/null", "--keep-in-foreground", "--log-facility=-", "--user=root", "--pid-file=",
    "--no-resolv", "--no-hosts", "--bind-interfaces", `--listen-address=${listen}`, ...records.map((r) => `--host-record=${r}`)], { stdio: ["ignore", "ignore", "pipe"] });
  await new Promise<void>((resolve, reject) => {
    let log = "";
    dnsmasq.stderr!.on("data", (d: Buffer) => (log += d.toString()).includes("started") && resolve());
    dnsmasq.once("exit", (c) => reject(new Error(`dnsmasq exited (${c}): ${log}`)));
  });
  return dnsmasq;
}
