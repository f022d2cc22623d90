// Protocol probes that plugins share: speak just enough of a protocol to know the far end is the
// service it should be. Each reads with a deadline and closes its socket.

import type { Duplex } from "node:stream";
import type { ProbeResult } from "./types.ts";

const PROBE_MS = 5_000;

/** Collects bytes until `done` says enough (or the peer closes, or the deadline passes). */
function readUntil(s: Duplex, done: (b: Buffer) => boolean): Promise<Buffer> {
  return new Promise((resolve) => {
    let buf = Buffer.alloc(0);
    const finish = () => {
      clearTimeout(timer);
      s.destroy();
      resolve(buf);
    };
    const timer = setTimeout(finish, PROBE_MS);
    s.on("data", (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (done(buf)) finish();
    });
    s.on("end", finish);
    s.on("close", finish);
    s.on("error", finish);
  });
}

/** MySQL/MariaDB: the server speaks first, with protocol 10 and its version string. */
export async function mysqlGreeting(s: Duplex): Promise<ProbeResult> {
  const b = await readUntil(s, (b) => b.length >= 4 && b.length >= 4 + b.readUIntLE(0, 3));
  if (b.length < 6) return { ok: false, detail: b.length ? "the far end closed after a few bytes: not MySQL" : "no greeting: nothing answered through the tunnel" };
  if (b[4] === 0xff) return { ok: false, detail: `the server refused: ${b.subarray(7).toString("utf8")}` };
  if (b[4] !== 10) return { ok: false, detail: `not a MySQL greeting (protocol byte ${b[4]})` };
  const version = b.subarray(5, b.indexOf(0, 5)).toString("latin1");
  return { ok: true, detail: `${/mariadb/i.test(version) ? "MariaDB" : "MySQL"} ${version.replace(/^5\.5\.5-/, "")}` };
}

/** Postgres: an SSLRequest is answered with one byte, S or N, by any Postgres server. */
export async function postgresSsl(s: Duplex): Promise<ProbeResult> {
  s.write(Buffer.from([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f]));
  const b = await readUntil(s, (b) => b.length >= 1);
  if (b.length === 0) return { ok: false, detail: "no answer to an SSLRequest: nothing answered through the tunnel" };
  if (b[0] === 0x53 || b[0] === 0x4e) return { ok: true, detail: `Postgres answered (${b[0] === 0x53 ? "TLS available" : "no TLS"})` };
  return { ok: false, detail: `not Postgres (answered 0x${b[0]!.toString(16)})` };
}

/** HTTP: a GET with the given Host header; reports the status and the page title. */
export async function httpTitle(s: Duplex, host: string, path: string): Promise<ProbeResult> {
  s.write(`GET ${path} HTTP/1.1\r\nHost: ${host}\r\nUser-Agent: fwd-probe\r\nAccept: text/html\r\nConnection: close\r\n\r\n`);
  const b = (await readUntil(s, (b) => b.length > 64 * 1024)).toString("utf8");
  const status = /^HTTP\/1\.[01] (\d{3})[^\r\n]*/.exec(b);
  if (!status) return { ok: false, detail: b ? "the far end did not answer in HTTP" : "no answer: nothing came through the tunnel" };
  const title = /<title[^>]*>([^<]*)<\/title>/i.exec(b)?.[1]?.trim();
  const code = Number(status[1]);
  return { ok: code < 500, detail: `HTTP ${code}${title ? `, "${title}"` : ""}` };
}

/** HTTP: a GET whose answer is one short line (an "what is my IP" service); undefined when none came. */
export async function httpLine(s: Duplex, host: string, path: string): Promise<string | undefined> {
  s.write(`GET ${path} HTTP/1.1\r\nHost: ${host}\r\nUser-Agent: fwd-probe\r\nConnection: close\r\n\r\n`);
  const text = (await readUntil(s, () => false)).toString("utf8");
  const [head, body] = [text.slice(0, text.indexOf("\r\n\r\n")), text.slice(text.indexOf("\r\n\r\n") + 4)];
  return /^HTTP\/1\.[01] 200/.test(head) ? body.trim().split("\n")[0]?.trim() : undefined;
}

/** VNC: the server speaks first, with its RFB protocol version. */
export async function vncBanner(s: Duplex): Promise<ProbeResult> {
  const b = (await readUntil(s, (b) => b.length >= 12)).toString("latin1");
  const m = /^RFB (\d{3})\.(\d{3})\n/.exec(b);
  return m ? { ok: true, detail: `VNC answered: RFB ${Number(m[1])}.${Number(m[2])}` } : { ok: false, detail: b ? "not a VNC server (no RFB banner)" : "no answer through the tunnel" };
}

/** RDP: an X.224 Connection Request (in TPKT) is answered with a Connection Confirm. */
export async function rdpConfirm(s: Duplex): Promise<ProbeResult> {
  // TPKT v3, length 19; X.224 CR (0xE0); RDP negotiation request asking for TLS | CredSSP.
  s.write(Buffer.from([0x03, 0x00, 0x00, 0x13, 0x0e, 0xe0, 0, 0, 0, 0, 0, 0x01, 0x00, 0x08, 0x00, 0x03, 0x00, 0x00, 0x00]));
  const b = await readUntil(s, (b) => b.length >= 7);
  if (b.length < 7) return { ok: false, detail: b.length ? "not an RDP server (short answer)" : "no answer through the tunnel" };
  if (b[0] !== 0x03 || (b[5]! & 0xf0) !== 0xd0) return { ok: false, detail: "not an RDP server (no X.224 connection confirm)" };
  return { ok: true, detail: "RDP answered: X.224 connection confirm" };
}

/** A server that speaks first (SSH, FTP, IMAP, POP3, telnet): its first line, checked against `expect`. */
export async function greeting(s: Duplex, name: string, expect: RegExp): Promise<ProbeResult> {
  const b = (await readUntil(s, (b) => b.includes(10) || b.length > 512)).toString("latin1");
  const line = b.split(/\r?\n/)[0]!.replace(/[^\x20-\x7e]/g, "").trim();
  if (!b) return { ok: false, detail: `no ${name} greeting: nothing answered through the tunnel` };
  return expect.test(b) ? { ok: true, detail: `${name} answered: ${line || `${b.length} bytes`}` } : { ok: false, detail: `not ${name}: "${line.slice(0, 60)}"` };
}

/** SOCKS5: a greeting offering "no authentication" is answered with version 5 and that method. */
export async function socks5Hello(s: Duplex): Promise<ProbeResult> {
  s.write(Buffer.from([5, 1, 0]));
  const b = await readUntil(s, (b) => b.length >= 2);
  if (b.length === 0) return { ok: false, detail: "no SOCKS5 answer: the port closed or stayed silent" };
  if (b[0] !== 5) return { ok: false, detail: "not answering SOCKS5" };
  return { ok: true, detail: b[1] === 0 ? "SOCKS5 answered" : "SOCKS5 answered (it asks for a username and password)" };
}
