// --route: connections that nftables redirected here (from this machine, and with `lan` from machines
// that use it as their gateway) are carried to their original destination through the SSH server. The
// rules live in a table of this process's own and go when the forward stops, or at the next start if
// the process was killed.

import net from "node:net";
import { lookup } from "node:dns/promises";
import { FwdError, ok, type Result } from "../errors.ts";
import type { Forwarder, ForwardKindModule } from "./forwarder.ts";
import { snapshotOf, type ForwardSnapshot } from "./snapshot.ts";
import { install, preflight, remove, removeStale, tableName } from "../route/nft.ts";
import { DnsForwarder, serverResolver } from "../route/dns-forward.ts";
import { loadOriginalDst, originalDst } from "../route/original-dst.ts";
import { isOwnAddress } from "../route/local-route.ts";
import { loadLibc } from "../route/netlink.ts";
import { allowList, isIpv4Cidr, networkOf } from "../vocab/cidr.ts";
import { formatEndpoint, isLoopback, isLoopbackAddress, type Endpoint, type Origin, type TcpEndpoint } from "../vocab/endpoint.ts";
import { Carrier, type ForwardRuntime } from "./carrier.ts";
import { Listener } from "./listener.ts";
import type { Session } from "./session.ts";
import type { Duplex } from "node:stream";
import { routeBind, type RouteForward } from "../vocab/forward.ts";

export const routeKind: ForwardKindModule<RouteForward> = {
  // Beyond loopback the listener takes what other machines route to it: only from the networks allowed.
  validate: (spec) => {
    if (spec.networks.length === 0) return new FwdError("E_CONFIG", `${spec.id}: no network to route`, "give it one or more IPv4 networks, e.g. 10.0.0.0/8");
    for (const c of [...spec.networks, ...(spec.lan?.allow ?? [])])
      if (!isIpv4Cidr(c)) return new FwdError("E_CONFIG", `${spec.id}: '${c}': expected an IPv4 address or CIDR`, "e.g. 10.0.0.0/8 (IPv6 networks are not routed yet)");
    if (spec.dns?.server !== undefined && !net.isIPv4(spec.dns.server)) return new FwdError("E_CONFIG", `${spec.id}: DNS server '${spec.dns.server}': expected an IPv4 address`, "e.g. 10.0.0.53");
    if (!isLoopback(routeBind(spec)) && !spec.lan?.allow.length)
      return new FwdError("E_CONFIG", `${spec.id}: refusing to route for the LAN with no allow-list: any machine that can reach this one would use the tunnel`, "give --allow CIDR (e.g. --allow 192.168.1.0/24) for the machines that may use it as their gateway");
    return undefined;
  },
  create: (spec, ctx) => ok(new RouteForwarder(spec, ctx.session, ctx.rt)),
};

export class RouteForwarder extends Carrier implements Forwarder {
  private readonly listener: Listener;
  private readonly routed: (address: string) => boolean;
  private excluded: (address: string) => boolean = () => false;
  private readonly lanAllowed: (address: string) => boolean;
  /** As nft takes them: host bits cleared (a plan may have written 10.1.2.3/8). */
  private readonly networks: string[];
  private readonly lan: { allow: string[] } | undefined;
  private readonly bind: TcpEndpoint;
  private table: string | undefined;
  private dns: DnsForwarder | undefined;
  private readonly onExit = () => this.removeRules();

  constructor(
    readonly spec: RouteForward,
    private readonly session: Session,
    rt: ForwardRuntime,
  ) {
    super(spec.id, rt);
    this.bind = routeBind(spec);
    this.networks = spec.networks.map(networkOf);
    this.lan = spec.lan ? { allow: spec.lan.allow.map(networkOf) } : undefined;
    this.listener = new Listener(spec.id, this.bind, rt.bus, (s) => void this.accept(s));
    this.routed = allowList(this.networks);
    this.lanAllowed = allowList(this.lan?.allow ?? []);
  }

  get bound(): Endpoint | undefined {
    return this.listener.bound;
  }

  async start(): Promise<Result<Endpoint>> {
    const tables = preflight(this.id);
    if (!tables.ok) return tables;
    removeStale(tables.value, (m) => this.rt.bus.log("info", `${this.id}: ${m}`));
    const ffi = await loadOriginalDst(this.id);
    if (!ffi.ok) return ffi;
    // For isOwnAddress: without libc it falls back to the interface list.
    await loadLibc();
    // Names in exclude (the SSH server's) are resolved now, while nothing is redirected yet.
    const exclude: string[] = [];
    for (const e of this.spec.exclude ?? []) {
      if (isIpv4Cidr(e)) exclude.push(networkOf(e));
      else for (const a of await lookup(e, { all: true, family: 4 }).catch(() => [])) exclude.push(`${a.address}/32`);
    }
    this.excluded = allowList(exclude);
    const r = await this.listener.listen();
    if (!r.ok) return r;
    const port = (r.value as TcpEndpoint).port;
    // DNS shares the port: UDP on it beside the TCP listener, TCP queries told apart by port 53.
    const dns = this.spec.dns ? await this.startDns(port) : ok(undefined);
    if (!dns.ok) {
      this.listener.close();
      return dns;
    }
    const table = tableName();
    const rules = install(this.id, table, {
      networks: this.networks,
      exclude,
      port,
      ...(this.dns ? { dnsPort: port } : {}),
      ...(this.lan ? { lan: this.lan } : {}),
    });
    if (!rules.ok) {
      this.listener.close();
      this.dns?.close();
      return rules;
    }
    this.table = table;
    // The last resort for an exit that skips stop() (a process.exit elsewhere): the rules still go.
    process.once("exit", this.onExit);
    this.rt.bus.emit({ type: "listening", forward: this.id, side: "local", bind: r.value, via: "route" });
    // Said once the rules are in: from this line on, the redirect works.
    if (this.dns) this.rt.bus.log("info", `${this.id}: DNS is answered through the tunnel by ${this.dns.server.host} (DNS over TCP)`);
    this.rt.bus.log("info", `${this.id}: TCP to ${this.networks.join(", ")} goes through the tunnel (nftables table ip ${table})`);
    return r;
  }

  stop(): void {
    this.listener.close();
    this.dns?.close();
    this.removeRules();
  }

  /** No redirect may outlive the forward: it would send the routed networks' traffic nowhere. */
  close(): void {
    this.stop();
  }

  snapshot(): ForwardSnapshot {
    return snapshotOf(this, this.spec, this.bound);
  }

  /** Removes the nftables table now; connections already carried keep their NAT mapping and go on. */
  removeRules(): void {
    if (!this.table) return;
    remove(this.table);
    this.table = undefined;
    process.off("exit", this.onExit);
  }

  private async accept(socket: net.Socket): Promise<void> {
    const source = `${socket.remoteAddress}:${socket.remotePort}`;
    const original = originalDst(socket);
    // A DNS query over TCP, to whichever resolver: answered by the tunnel's resolver, so none leaks.
    const target = original && original.port === 53 && this.dns ? this.dns.server : original;
    // Only what the rules redirected: a connection made to the listener itself (its own address as the
    // original destination) or to anything outside the networks would make fwd a relay for anyone.
    const problem = !target
      ? "it has no original destination (not redirected)"
      : target.port === socket.localPort && (target.host === socket.localAddress || isOwnAddress(target.host))
        ? "it was made to the listener itself, not redirected"
        : target !== this.dns?.server && (!this.routed(target.host) || this.excluded(target.host))
          ? `${target.host} is not in the routed networks`
          : !this.fromAllowed(socket.remoteAddress ?? "")
            ? `${socket.remoteAddress} is not this machine and not in the --lan allow-list`
            : undefined;
    if (problem || !target) {
      this.refuse(new FwdError("E_CHANNEL", `${this.id}: ${source}: refused: ${problem}`, "only connections to the --route networks are carried", { reason: "not-allowed" }));
      socket.destroy();
      return;
    }
    const channel = await this.openChannel(target, { host: socket.remoteAddress ?? "127.0.0.1", port: socket.remotePort ?? 0 });
    if (!channel.ok) {
      this.refuse(channel.error);
      socket.destroy();
      return;
    }
    if (socket.destroyed) return void channel.value.destroy();
    await this.carry(socket, channel.value, source, formatEndpoint(target));
  }

  private async openChannel(target: TcpEndpoint, origin: Origin): Promise<Result<Duplex>> {
    const link = await this.session.acquire(this.rt.acquireTimeoutMs);
    return link.ok ? link.value.open(target, origin) : link;
  }

  /** The resolver (given, or the server's own) and the UDP side of the DNS forwarder. */
  private async startDns(port: number): Promise<Result<void>> {
    let server = this.spec.dns?.server;
    if (server === undefined) {
      const link = await this.session.acquire(this.rt.acquireTimeoutMs);
      if (!link.ok) return link;
      const found = await serverResolver(this.id, link.value.exec ? (c) => link.value.exec!(c, {}) : undefined);
      if (!found.ok) return found;
      server = found.value;
    }
    const dns = new DnsForwarder(this.id, { host: server, port: 53 }, (t) => this.openChannel(t, { host: "127.0.0.1", port: 0 }), (m) => this.rt.bus.log("debug", `${this.id}: ${m}`));
    const r = await dns.listen(this.bind.host, port);
    if (!r.ok) return r;
    this.dns = dns;
    return ok(undefined);
  }

  private fromAllowed(address: string): boolean {
    const a = address.replace(/^::ffff:/, "");
    return isLoopbackAddress(a) || isOwnAddress(a) || (this.lan !== undefined && this.lanAllowed(a));
  }
}
