// Who may take an FTP data port: the local user who owns the control connection's client socket.
// Every local user reaches fwd from 127.0.0.1, so the address alone would let any of them take a
// download (or feed an upload); the owner comes from the kernel: sock_diag where it answers
// (route/socket-owner.ts), else its socket tables (peer-owner.ts).

import type net from "node:net";
import type { Result } from "../errors.ts";
import { socketOwner, type Tcp } from "../route/socket-owner.ts";
import { isLoopbackAddress } from "../vocab/endpoint.ts";
import { ownerOf, readSocketTables, type SocketRow } from "./peer-owner.ts";

/** Connections waiting for a look at the tables, at most; a flood beyond is reset, not queued. */
const MAX_WAITING = 64;
/** Said once per process: the system has no socket tables, so only the address is checked. */
let saidNoTables = false;

const bare = (a: string | undefined) => a?.replace(/^::ffff:/, "");

export class PeerChecks {
  private waiting: { socket: net.Socket; resolve: (allowed: boolean) => void }[] = [];
  private reading = false;
  private owner: number | undefined;
  private diagOwner: Result<number> | undefined;

  constructor(
    private readonly control: net.Socket,
    private readonly warn: (message: string) => void,
  ) {}

  /** Whether `socket`, just accepted on the data port, comes from the control client's user. */
  async allowed(socket: net.Socket): Promise<boolean> {
    if (bare(socket.remoteAddress) !== bare(this.control.remoteAddress)) return false;
    const fast = await this.bySockDiag(socket);
    if (fast !== undefined) return fast;
    if (this.waiting.length >= MAX_WAITING) return false;
    return new Promise((resolve) => {
      this.waiting.push({ socket, resolve });
      void this.drain();
    });
  }

  /**
   * The answer from the kernel's sock_diag, one request per socket (socket-owner.ts), where it can
   * give one for both ends; undefined sends the question to the tables (no bun:ffi, a client on
   * another machine, an owner that cannot be told), whose whole read grows with every socket of the
   * machine (~0.5 s with 50,000 in TIME_WAIT).
   */
  private async bySockDiag(socket: net.Socket): Promise<boolean | undefined> {
    if (this.control.destroyed) return false;
    this.diagOwner ??= ends(this.control) ? await socketOwner(...ends(this.control)!) : undefined;
    if (!this.diagOwner?.ok) return undefined;
    const e = ends(socket);
    const uid = e ? await socketOwner(...e) : undefined;
    if (!uid?.ok) return undefined;
    return uid.value === this.diagOwner.value;
  }

  /** One fresh read of the tables answers every connection that arrived before it started. */
  private async drain(): Promise<void> {
    if (this.reading) return;
    this.reading = true;
    while (this.waiting.length) {
      const batch = this.waiting;
      this.waiting = [];
      const rows = await readSocketTables();
      for (const w of batch) w.resolve(this.decide(rows, w.socket));
    }
    this.reading = false;
  }

  private decide(rows: SocketRow[] | undefined, socket: net.Socket): boolean {
    if (!rows) {
      if (!saidNoTables) this.warn("no /proc/net/tcp on this system: FTP data ports check the client's address only, not its user");
      saidNoTables = true;
      return true;
    }
    if (this.control.destroyed) return false;
    this.owner ??= uidOf(rows, this.control);
    if (this.owner === undefined) {
      // Not on this machine: no local user to compare, and no other local user has that address.
      // A loopback client always is on this machine, so not finding it is no reason to trust.
      return !isLoopbackAddress(this.control.remoteAddress ?? "");
    }
    return uidOf(rows, socket) === this.owner;
  }
}

/** The client's end and ours, as sock_diag is asked for them. */
const ends = (s: net.Socket): [Tcp, Tcp] | undefined =>
  s.remoteAddress && s.localAddress && s.remotePort && s.localPort ? [{ host: s.remoteAddress, port: s.remotePort }, { host: s.localAddress, port: s.localPort }] : undefined;

const uidOf = (rows: SocketRow[], s: net.Socket): number | undefined =>
  s.remoteAddress && s.localAddress && s.remotePort && s.localPort
    ? ownerOf(rows, { host: s.remoteAddress, port: s.remotePort }, { host: s.localAddress, port: s.localPort })
    : undefined;
