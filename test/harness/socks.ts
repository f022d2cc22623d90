// A raw SOCKS client for tests that need exact reply bytes, a chosen source address, or a connection
// held open in the middle of its handshake: greeting and request go out at once, as curl sends them.

import net from "node:net";

/** SOCKS5 CONNECT to an IPv4 address or a name (bytes as given: a NUL stays a NUL). */
export function socks5Request(host: string | Buffer, port: number): Buffer {
  const p = Buffer.from([port >> 8, port & 0xff]);
  const v4 = typeof host === "string" && net.isIPv4(host);
  const addr = v4 ? Buffer.from([0x01, ...host.split(".").map(Number)]) : Buffer.concat([Buffer.from([0x03, Buffer.from(host).length]), Buffer.from(host)]);
  return Buffer.concat([Buffer.from([0x05, 0x01, 0x00, 0x05, 0x01, 0x00]), addr, p]);
}

/** SOCKS4a CONNECT to a name (NUL-terminated on the wire, so the name itself cannot hold one). */
export function socks4aRequest(name: string, port: number): Buffer {
  return Buffer.concat([Buffer.from([0x04, 0x01, port >> 8, port & 0xff, 0, 0, 0, 1, 0]), Buffer.from(name, "latin1"), Buffer.from([0])]);
}

export interface SocksClient {
  socket: net.Socket;
  /** The proxy's answer: `n` bytes (12 for SOCKS5 with its method reply, 8 for SOCKS4), or fewer if it closed. */
  reply: Promise<number[]>;
  /** Resolves when the proxy's side has closed. */
  closed: Promise<void>;
  /** Sends `text` through the tunnel and resolves with as many bytes back. */
  echo(text: string): Promise<string>;
}

export function socksClient(port: number, request: Buffer, o: { host?: string; localAddress?: string; replyBytes?: number } = {}): SocksClient {
  const n = o.replyBytes ?? (request[0] === 0x05 ? 12 : 8);
  const socket = net.connect({ host: o.host ?? "127.0.0.1", port, ...(o.localAddress ? { localAddress: o.localAddress } : {}) });
  socket.on("error", () => {});
  let got = Buffer.alloc(0);
  let after = Buffer.alloc(0);
  let wake = () => {};
  let replied!: (b: number[]) => void;
  const reply = new Promise<number[]>((r) => (replied = r));
  let isClosed = false;
  const closed = new Promise<void>((r) => socket.once("close", () => ((isClosed = true), replied([...got]), r())));
  socket.once("connect", () => socket.write(request));
  socket.on("data", (d: Buffer) => {
    if (got.length < n) {
      const take = Math.min(n - got.length, d.length);
      got = Buffer.concat([got, d.subarray(0, take)]);
      d = d.subarray(take);
      if (got.length === n) replied([...got]);
    }
    after = Buffer.concat([after, d]);
    wake();
  });
  return {
    socket,
    reply,
    closed,
    echo: (text) =>
      new Promise((resolve, reject) => {
        if (isClosed) return reject(new Error(`closed before "${text}" was sent`));
        const want = Buffer.byteLength(text);
        after = Buffer.alloc(0);
        wake = () => {
          if (after.length >= want) resolve(after.subarray(0, want).toString());
        };
        socket.once("close", () => reject(new Error(`closed before "${text}" came back`)));
        socket.write(text);
      }),
  };
}
