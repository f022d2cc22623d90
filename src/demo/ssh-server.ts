// The demo's built-in SSH server (ssh2): loopback only, an ephemeral host key, one accepted client
// key, and direct-tcpip only to the targets it is told to allow. It exists so `fwd demo` shows a
// real SSH tunnel with nothing installed; it is not a general-purpose sshd.

import net from "node:net";
import { Server, utils, type Connection, type ParsedKey } from "ssh2";
import { ed25519KeyPair } from "./keys.ts";
import { pipeBoth } from "../engine/pipe.ts";

export interface DemoServer {
  port: number;
  /** The host key's public blob, for the client to pin. */
  hostKey: Buffer;
  close(): Promise<void>;
}

export interface DemoServerOptions {
  /** The one client public key (OpenSSH format) allowed in. */
  clientPublicKey: string;
  allow: (host: string, port: number) => boolean;
}

export async function startDemoServer(o: DemoServerOptions): Promise<DemoServer> {
  const host = ed25519KeyPair();
  const hostPub = host.parsedPublic;
  const client = parse(o.clientPublicKey);
  const clientBlob = client.getPublicSSH();
  const conns = new Set<Connection>();
  const server = new Server({ hostKeys: [host.private] }, (conn) => {
    conns.add(conn);
    conn.on("close", () => conns.delete(conn)).on("error", () => {});
    conn.on("authentication", (ctx) => {
      if (ctx.method !== "publickey" || !ctx.key.data.equals(clientBlob)) return ctx.reject(["publickey"]);
      // Without a signature the client only asks whether the key would do; with one, it must verify.
      if (!ctx.signature) return ctx.accept();
      if (ctx.blob && client.verify(ctx.blob, ctx.signature, ctx.hashAlgo) === true) return ctx.accept();
      ctx.reject(["publickey"]);
    });
    conn.on("ready", () => {
      conn.on("tcpip", (accept, reject, info) => {
        if (!o.allow(info.destIP, info.destPort)) return reject();
        const sock = net.connect({ host: info.destIP, port: info.destPort });
        sock.setNoDelay(true);
        sock.once("error", () => reject());
        sock.once("connect", () => {
          sock.removeAllListeners("error");
          void pipeBoth(sock, accept(), { up: 0, down: 0 });
        });
      });
      conn.on("request", (accept, reject) => reject?.());
      conn.on("session", (_accept, reject) => reject());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    hostKey: hostPub.getPublicSSH(),
    close: () =>
      new Promise((resolve) => {
        for (const c of conns) c.end();
        server.close(() => resolve());
      }),
  };
}

function parse(key: string): ParsedKey {
  const k = utils.parseKey(key);
  if (k instanceof Error) throw k;
  return Array.isArray(k) ? (k[0] as ParsedKey) : k;
}
