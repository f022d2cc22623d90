// Who the client of a connection fwd accepted is: a local user, found by the uid that owns its
// socket (socket-owner.ts), or a host elsewhere. Local means from loopback or from any other address
// the kernel delivers here (local-route.ts): a proxy bound beyond loopback may be reached from this
// machine's own addresses, and any local user may bind those too. Linux and Bun only; elsewhere only
// loopback clients are known to be local, and their owner is not found.

import { FwdError, fail, ok, type Result } from "../errors.ts";
import { isLoopbackAddress } from "../vocab/endpoint.ts";
import { localRoute } from "./local-route.ts";
import { boundInterface } from "./netlink.ts";
import { CLIENT_GONE, LOOPBACK_IFINDEX, socketOwnerSoon } from "./socket-owner.ts";

/** The accepted socket, as node:net and Bun's sockets (src/runtime/bun-tcp.ts) both describe it. */
export interface Accepted {
  remotePort?: number | undefined;
  localAddress?: string | undefined;
  localPort?: number | undefined;
}

/**
 * From elsewhere (`local: false`), or a local user: its uid, or why it was not found (the reason
 * CLIENT_GONE: the client's socket is gone, or its process closed it). An error where the kernel's
 * routing cannot be asked (then only a loopback client is known to be local).
 */
export type ClientOrigin = { local: false } | { local: true; owner: Result<number> };

/** `address` is the client's, as the accepted socket reported it. No promise (see socketOwnerSoon). */
export function clientOrigin(socket: Accepted, address: string): Result<ClientOrigin> {
  if (isLoopbackAddress(address)) return ok({ local: true, owner: ownerOn(socket, address, [LOOPBACK_IFINDEX]) });
  // fwd's end of a connection from a link-local address is bound to the interface it came in on:
  // its scope, without which the address means nothing (this machine's fe80::1 is not a peer's).
  const scope = boundInterface(socket);
  const route = localRoute(address, scope);
  if (!route.ok) return route;
  if (!route.value.local) return ok({ local: false });
  return ok({ local: true, owner: ownerOn(socket, address, interfaces(route.value.ifindex, scope)) });
}

/** The owner from the first of `ifindexes` whose lookup finds the client's socket; else why not. */
function ownerOn(socket: Accepted, address: string, ifindexes: readonly [number, ...number[]]): Result<number> {
  const client = { host: address, port: socket.remotePort ?? 0 };
  const server = { host: socket.localAddress ?? "", port: socket.localPort ?? 0 };
  let owner: Result<number> | undefined;
  for (const ifindex of ifindexes) {
    const found = socketOwnerSoon(client, server, ifindex);
    // libc is loaded before the first client (prepareSocketOwner), so only a kernel that answers late
    // makes this a promise; a caller on the accept path cannot wait for it: not found.
    if (found instanceof Promise) {
      void found.catch(() => {});
      return fail(new FwdError("E_CONFIG", "socket owner: the kernel's answer came late", "a client whose owner is not found is not told apart by user"));
    }
    owner = found;
    if (owner.ok || owner.error.reason !== CLIENT_GONE) break;
  }
  return owner!; // set: the list has a first
}

/**
 * Where a local client's socket may be bound (SO_BINDTODEVICE) and still be connected to us: lo,
 * whose index also finds a socket bound to none; the interface of the local route its own address is
 * on, through which the kernel delivers what comes back to it (bound to any other, the connection
 * never opens: tried); and the one our accepted socket is bound to, which for a link-local client is
 * the scope it came from (the same fe80:: address can be on several interfaces, and the route names
 * one). Each once.
 */
function interfaces(...found: (number | undefined)[]): [number, ...number[]] {
  const list: [number, ...number[]] = [LOOPBACK_IFINDEX];
  for (const i of found) if (i !== undefined && !list.includes(i)) list.push(i);
  return list;
}
