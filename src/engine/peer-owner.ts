// Which local user owns the far end of a TCP connection, read from Linux's /proc/net/tcp and
// /proc/net/tcp6: the kernel lists every socket of this network namespace with its owner's uid. On
// loopback every local user's address is 127.0.0.1, so the address alone cannot tell them apart.

import { readFile } from "node:fs/promises";
import { endianness } from "node:os";

/** One connection as the table lists it: its own address (the peer's, seen from us), the far end, the owner. */
export interface SocketRow {
  local: string;
  remote: string;
  uid: number;
}

const TIME_WAIT = "06";

/**
 * The rows of /proc/net/tcp and tcp6, or undefined where the system has no such tables (not Linux,
 * or /proc not mounted). Read afresh on every call: a connection just accepted must be in it.
 */
export async function readSocketTables(): Promise<SocketRow[] | undefined> {
  const tables = await Promise.all(["/proc/net/tcp", "/proc/net/tcp6"].map((f) => readFile(f, "latin1").catch(() => undefined)));
  if (tables.every((t) => t === undefined)) return undefined;
  return tables.flatMap((t) => (t ? parseSocketTable(t) : []));
}

/**
 * Parses one table; rows no process owns are left out: TIME_WAIT, and a socket its process has closed
 * (an orphan; once its FIN is acknowledged the kernel lists it as FIN_WAIT2 with uid 0 and inode 0),
 * which would otherwise pass as root's, so another user could take a root client's FTP data port.
 */
export function parseSocketTable(text: string, little = endianness() === "LE"): SocketRow[] {
  const rows: SocketRow[] = [];
  for (const line of text.split("\n").slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10 || f[3] === TIME_WAIT || f[9] === "0") continue;
    const local = procEndpoint(f[1]!, little);
    const remote = procEndpoint(f[2]!, little);
    const uid = Number(f[7]);
    if (local && remote && Number.isInteger(uid)) rows.push({ local, remote, uid });
  }
  return rows;
}

/**
 * The owner of the socket at `peer` connected to `us` (both as node:net reports them), or undefined
 * when no such socket is on this machine: the peer is elsewhere, or already gone.
 */
export function ownerOf(rows: SocketRow[], peer: { host: string; port: number }, us: { host: string; port: number }): number | undefined {
  const p = endpointKey(peer.host, peer.port);
  const u = endpointKey(us.host, us.port);
  return p && u ? rows.find((r) => r.local === p && r.remote === u)?.uid : undefined;
}

/** `0100007F:1F90` (IPv4) or 32 hex digits and a port (IPv6), each 32-bit word in host byte order. */
function procEndpoint(s: string, little: boolean): string | undefined {
  const m = /^([0-9A-Fa-f]{8}|[0-9A-Fa-f]{32}):([0-9A-Fa-f]{4})$/.exec(s);
  if (!m) return undefined;
  const bytes: number[] = [];
  for (let w = 0; w < m[1]!.length; w += 8) {
    const word = [0, 2, 4, 6].map((i) => parseInt(m[1]!.slice(w + i, w + i + 2), 16));
    bytes.push(...(little ? word.reverse() : word));
  }
  return keyOf(bytes, parseInt(m[2]!, 16));
}

/** The same key from an address string: dotted IPv4, IPv6, or IPv6 with an IPv4 tail. */
function endpointKey(host: string, port: number): string | undefined {
  const bytes = ipBytes(host);
  return bytes ? keyOf(bytes, port) : undefined;
}

/** An IPv4-mapped IPv6 address is the IPv4 one: a dual-stack client's socket is listed in tcp6. */
function keyOf(bytes: number[], port: number): string {
  const mapped = bytes.length === 16 && bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 255 && bytes[11] === 255;
  const ip = mapped ? bytes.slice(12) : bytes;
  return `${ip.map((b) => b.toString(16).padStart(2, "0")).join("")}:${port}`;
}

function ipBytes(host: string): number[] | undefined {
  const v4 = (s: string) => {
    const p = s.split(".").map(Number);
    return p.length === 4 && p.every((n) => Number.isInteger(n) && n >= 0 && n <= 255) ? p : undefined;
  };
  if (!host.includes(":")) return v4(host);
  const [head, tail, ...more] = host.replace(/%.*$/, "").split("::");
  if (more.length) return undefined;
  const groups = (s: string | undefined): number[] | undefined => {
    if (!s) return [];
    const out: number[] = [];
    for (const g of s.split(":")) {
      if (g.includes(".")) {
        const b = v4(g);
        if (!b) return undefined;
        out.push((b[0]! << 8) | b[1]!, (b[2]! << 8) | b[3]!);
      } else if (/^[0-9a-fA-F]{1,4}$/.test(g)) out.push(parseInt(g, 16));
      else return undefined;
    }
    return out;
  };
  const h = groups(head);
  const t = groups(tail);
  if (!h || !t) return undefined;
  const fill = tail === undefined ? 0 : 8 - h.length - t.length;
  if (fill < 0 || h.length + fill + t.length !== 8) return undefined;
  return [...h, ...Array<number>(fill).fill(0), ...t].flatMap((g) => [g >> 8, g & 255]);
}
