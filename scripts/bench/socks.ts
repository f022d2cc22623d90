// The client half of SOCKS5 for the benchmark's short connections, without curl: the no-auth greeting
// and a CONNECT to 127.0.0.1:port sent together in one write (both OpenSSH and fwd read a pipelined
// request), then the two answers, 05 00 and a 10-byte reply, checked before the echo payload goes out.

import type { Handshake } from "./load.ts";

/** The handshake that makes a SOCKS5 proxy connect to 127.0.0.1:`port` (by IPv4 address, no name to resolve). */
export function socks5ConnectTo(port: number): Handshake {
  const greeting = [0x05, 0x01, 0x00]; // version 5, one method: no authentication
  const request = [0x05, 0x01, 0x00, 0x01, 127, 0, 0, 1, port >> 8, port & 0xff]; // CONNECT, IPv4
  return {
    hello: Buffer.from([...greeting, ...request]),
    replyLength: 2 + 10,
    check(reply) {
      if (reply[0] !== 0x05 || reply[1] !== 0x00) return `SOCKS5 method answer ${hex(reply.subarray(0, 2))}`;
      if (reply[2] !== 0x05 || reply[3] !== 0x00) return `SOCKS5 CONNECT reply ${hex(reply.subarray(2))}`;
      return undefined;
    },
  };
}

const hex = (b: Buffer) => b.toString("hex").replace(/(..)(?=.)/g, "$1 ");
