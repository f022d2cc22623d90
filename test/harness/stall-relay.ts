// A TCP relay in front of a real sshd that can let the SSH key exchange through and then stop
// carrying the client's bytes: the server finishes kex and never hears the client's first encrypted
// packet (its SERVICE_REQUEST for authentication), so the client waits on an answer that never comes.
// This is what a server that hangs after kex looks like from the client, without patching sshd.

import net from "node:net";

const NEWKEYS = 21;
/** The clear-text packets before NEWKEYS take a few KiB; a bound for this parser's buffer. */
const MAX_PREFIX = 64 * 1024;

export interface StallRelay {
  port: number;
  /** Connections from now on pass the key exchange and then stall (the default is to pass all). */
  stallAfterKex(): void;
  /** Cuts every connection open now, as a network or server failure would. */
  cutAll(): void;
  /** The same with a TCP reset (RST), as a crashed server's kernel sends. */
  resetAll(): void;
  /** Connections that reached the stall point so far. */
  stalled: number;
  close(): Promise<void>;
}

export async function startStallRelay(target: { host: string; port: number }): Promise<StallRelay> {
  let stall = false;
  const sockets = new Set<net.Socket>();
  const relay: StallRelay = {
    port: 0,
    stalled: 0,
    stallAfterKex: () => void (stall = true),
    cutAll: () => {
      for (const s of sockets) s.destroy();
    },
    resetAll: () => {
      for (const s of sockets) s.resetAndDestroy();
    },
    close: () =>
      new Promise<void>((resolve) => {
        relay.cutAll();
        server.close(() => resolve());
      }),
  };
  const server = net.createServer((client) => {
    const upstream = net.connect(target.port, target.host);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on("close", () => sockets.delete(s));
      s.on("error", () => {});
    }
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => client.destroy());
    upstream.pipe(client);
    if (!stall) return void client.pipe(upstream);
    // Client to server: forwarded up to and including the client's NEWKEYS, then nothing more.
    // Before NEWKEYS packets are in the clear: uint32 length, padding length, then the message type.
    let buf = Buffer.alloc(0);
    let versionDone = false;
    let frozen = false;
    client.on("data", (d: Buffer) => {
      if (frozen) return;
      buf = Buffer.concat([buf, d]);
      let sent = 0;
      for (;;) {
        if (!versionDone) {
          const eol = buf.indexOf("\n", sent);
          if (eol < 0) break;
          versionDone = true;
          sent = eol + 1;
          continue;
        }
        if (buf.length - sent < 6) break;
        const end = sent + 4 + buf.readUInt32BE(sent);
        if (buf.length < end) break;
        const type = buf[sent + 5];
        sent = end;
        if (type === NEWKEYS) {
          frozen = true;
          relay.stalled++;
          break;
        }
      }
      upstream.write(buf.subarray(0, sent));
      buf = buf.subarray(sent);
      if (!frozen && buf.length > MAX_PREFIX) client.destroy();
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  relay.port = (server.address() as net.AddressInfo).port;
  return relay;
}
