// The owner of a local TCP peer from /proc/net/tcp{,6}: the table format as a table test, then a
// live connection on this machine found with the uid of this process.

import { describe, expect, test } from "bun:test";
import net from "node:net";
import { ownerOf, parseSocketTable, readSocketTables } from "../../src/engine/peer-owner.ts";

const HEADER = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n";
const row = (local: string, remote: string, st: string, uid: number) =>
  `   0: ${local} ${remote} ${st} 00000000:00000000 00:00000000 00000000 ${String(uid).padStart(5)}        0 123864 1 0000000000000000 20 4 30 10 -1\n`;

describe("parseSocketTable and ownerOf", () => {
  test.each([
    ["IPv4, little-endian", row("0100007F:9C40", "0100007F:1F90", "01", 65534), true, "127.0.0.1", 40000, "127.0.0.1", 8080, 65534],
    ["IPv4, big-endian", row("7F000001:9C40", "7F000001:1F90", "01", 1000), false, "127.0.0.1", 40000, "127.0.0.1", 8080, 1000],
    ["IPv4-mapped IPv6 (a dual-stack client)", row("0000000000000000FFFF00000100007F:9C40", "0000000000000000FFFF00000100007F:1F90", "01", 7), true, "127.0.0.1", 40000, "::ffff:127.0.0.1", 8080, 7],
    ["IPv6 ::1", row("00000000000000000000000001000000:9C40", "00000000000000000000000001000000:1F90", "01", 8), true, "::1", 40000, "0:0:0:0:0:0:0:1", 8080, 8],
    ["another port is another socket", row("0100007F:9C41", "0100007F:1F90", "01", 9), true, "127.0.0.1", 40000, "127.0.0.1", 8080, undefined],
    ["the reverse direction is our own socket, not the peer's", row("0100007F:1F90", "0100007F:9C40", "01", 0), true, "127.0.0.1", 40000, "127.0.0.1", 8080, undefined],
    ["TIME_WAIT rows have no owner", row("0100007F:9C40", "0100007F:1F90", "06", 0), true, "127.0.0.1", 40000, "127.0.0.1", 8080, undefined],
    ["a closed socket (FIN_WAIT2, inode 0) has no owner", "   0: 0100007F:9C40 0100007F:1F90 05 00000000:00000000 03:00001766 00000000     0        0 0 3 00000000316ce34d\n", true, "127.0.0.1", 40000, "127.0.0.1", 8080, undefined],
    ["a garbled row is skipped", "   0: nonsense\n", true, "127.0.0.1", 40000, "127.0.0.1", 8080, undefined],
  ])("%s", (_name, rows, little, peerHost, peerPort, usHost, usPort, uid) => {
    const table = parseSocketTable(HEADER + rows, little);
    expect(ownerOf(table, { host: peerHost, port: peerPort }, { host: usHost, port: usPort })).toBe(uid);
  });
});

test.each([["127.0.0.1"], ["::1"]])("a live connection over %s is found with this process's uid", async (host) => {
  const server = net.createServer();
  const listening = await new Promise<boolean>((r) => (server.once("error", () => r(false)), server.listen(0, host, () => r(true))));
  if (!listening) return void console.log(`peer-owner: no ${host} here, skipped`);
  const accepted = new Promise<net.Socket>((r) => server.once("connection", r));
  const client = net.connect((server.address() as net.AddressInfo).port, host);
  const s = await accepted;
  try {
    const rows = await readSocketTables();
    expect(rows).toBeDefined();
    expect(ownerOf(rows!, { host: s.remoteAddress!, port: s.remotePort! }, { host: s.localAddress!, port: s.localPort! })).toBe(process.getuid!());
  } finally {
    client.destroy();
    s.destroy();
    server.close();
  }
});
