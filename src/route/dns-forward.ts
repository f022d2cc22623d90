// --dns: DNS queries that nftables redirected here (UDP and TCP port 53) are answered through the
// tunnel, as DNS over TCP (RFC 1035 §4.2.2: each message after a 2-byte length) to a resolver the SSH
// server reaches. UDP queries get one channel each; a TCP client's connection is carried as it is.

import dgram from "node:dgram";
import type { Duplex } from "node:stream";
/** The shapes this adapter needs of the engine's TcpEndpoint and RemoteProcess (it imports nothing of the engine). */
type TcpEndpoint = { host: string; port: number };
type RemoteProcess = { stdin: { end(): void }; stdout: NodeJS.ReadableStream; stderr: NodeJS.ReadableStream };
import { FwdError, fail, ok, type Result } from "../errors.ts";

/** A query gets this long for its answer (a resolver's own retries included). */
const QUERY_MS = 5_000;
/** UDP queries in flight at once; more are dropped, and the client retries as it would on a loss. */
const MAX_IN_FLIGHT = 128;
const RESOLV_CONF_MAX = 64 * 1024;

export type OpenChannel = (target: TcpEndpoint) => Promise<Result<Duplex>>;

export class DnsForwarder {
  private udp: dgram.Socket | undefined;
  private inFlight = 0;

  constructor(
    private readonly id: string,
    readonly server: TcpEndpoint,
    private readonly open: OpenChannel,
    private readonly log: (m: string) => void,
  ) {}

  /** Binds UDP to the port the TCP listener already has, so one redirect port serves both. */
  async listen(host: string, port: number): Promise<Result<void>> {
    const udp = dgram.createSocket("udp4");
    const r = await new Promise<Result<void>>((resolve) => {
      udp.once("error", (e) => resolve(fail(new FwdError("E_BIND", `${this.id}: DNS: bind udp ${host}:${port}: ${e.message}`, "is another DNS forwarder on that port?"))));
      udp.bind(port, host, () => resolve(ok(undefined)));
    });
    if (!r.ok) return r;
    udp.on("error", (e) => this.log(`DNS: ${e.message}`));
    udp.on("message", (msg, from) => void this.query(msg, from));
    this.udp = udp;
    return ok(undefined);
  }

  close(): void {
    this.udp?.close();
    this.udp = undefined;
  }

  private async query(msg: Buffer, from: dgram.RemoteInfo): Promise<void> {
    if (this.inFlight >= MAX_IN_FLIGHT || msg.length < 12) return;
    this.inFlight++;
    try {
      const answer = await this.ask(msg);
      if (answer) this.udp?.send(answer, from.port, from.address);
      else this.log(`DNS: no answer from ${this.server.host} within ${QUERY_MS / 1000}s for a query from ${from.address}`);
    } finally {
      this.inFlight--;
    }
  }

  private async ask(msg: Buffer): Promise<Buffer | undefined> {
    const ch = await this.open(this.server);
    if (!ch.ok) return undefined;
    const channel = ch.value;
    return new Promise((resolve) => {
      let got = Buffer.alloc(0);
      const done = (answer: Buffer | undefined) => {
        clearTimeout(timer);
        channel.destroy();
        resolve(answer);
      };
      const timer = setTimeout(() => done(undefined), QUERY_MS);
      channel.on("data", (d: Buffer) => {
        got = Buffer.concat([got, d]);
        if (got.length >= 2 && got.length >= 2 + got.readUInt16BE(0)) done(got.subarray(2, 2 + got.readUInt16BE(0)));
      });
      channel.on("error", () => done(undefined));
      channel.on("close", () => done(undefined));
      const length = Buffer.alloc(2);
      length.writeUInt16BE(msg.length);
      channel.write(Buffer.concat([length, msg]));
    });
  }
}

/** The first nameserver of the SSH server's /etc/resolv.conf, read with a command on the server. */
export async function serverResolver(id: string, exec: ((command: string) => Promise<Result<RemoteProcess>>) | undefined): Promise<Result<string>> {
  const hint = "give the resolver with --dns-server IP (as the SSH server reaches it)";
  if (!exec) return fail(new FwdError("E_CONFIG", `${id}: cannot ask the server for its resolver`, hint));
  const proc = await exec("cat /etc/resolv.conf");
  if (!proc.ok) return fail(new FwdError("E_CONFIG", `${id}: reading the server's /etc/resolv.conf: ${proc.error.message}`, hint));
  const text = await new Promise<string>((resolve) => {
    let out = "";
    const timer = setTimeout(() => resolve(out), QUERY_MS);
    proc.value.stdin.end();
    proc.value.stdout.on("data", (d: Buffer) => {
      if (out.length < RESOLV_CONF_MAX) out += d.toString("utf8");
    });
    proc.value.stdout.on("end", () => {
      clearTimeout(timer);
      resolve(out);
    });
    proc.value.stderr.resume();
  });
  const ns = /^\s*nameserver\s+(\d+\.\d+\.\d+\.\d+)\s*$/m.exec(text)?.[1];
  if (!ns) return fail(new FwdError("E_CONFIG", `${id}: the server's /etc/resolv.conf names no IPv4 nameserver`, hint));
  return ok(ns);
}
