// What the engine needs from an SSH connection, and nothing more: open a channel to a target, learn
// when the connection ends, close it. The ssh2 adapter implements it; tests can too.

import type { Duplex, Readable, Writable } from "node:stream";
import type { FwdError, Result } from "../errors.ts";
import type { Endpoint, Origin } from "../vocab/endpoint.ts";

export interface Link {
  /** A channel from the server to `target` (direct-tcpip, or direct-streamlocal for a unix path). */
  open(target: Endpoint, origin: Origin): Promise<Result<Duplex>>;
  /** Asks the server to listen (tcpip-forward / streamlocal-forward); resolves to what it bound. */
  listen(bind: Endpoint): Promise<Result<Endpoint>>;
  /** Asks the server to stop listening on what listen() bound (cancel-tcpip-forward), as `ssh -O cancel`. */
  unlisten?(bound: Endpoint): Promise<void>;
  /** Connections arriving on what listen() bound. Returns an unsubscribe function. */
  onIncoming(fn: (c: Incoming) => void): () => void;
  /** Resolves when the connection is gone: `undefined` after close(), the cause otherwise. */
  readonly ended: Promise<FwdError | undefined>;
  /** The last measured round trip to the server (a keepalive request), if any yet. */
  readonly rttMs?: number;
  /** What the key exchange settled on, for the status page and `-v`. */
  readonly algorithms?: NegotiatedAlgorithms;
  /** Runs a command on the server (the engine never does; `fwd host -- command` does). */
  exec?(command: string, opts: ExecOptions): Promise<Result<RemoteProcess>>;
  close(): void;
}

export interface NegotiatedAlgorithms {
  cipher: string;
  /** Client-to-server and server-to-client compression: "none", "zlib@openssh.com" or "zlib". */
  compression: string;
}

/** A connection the server forwards to us; accept() or reject() it, once. */
export interface Incoming {
  /** An X11 connection (a command's X11 forwarding), not one on an address listen() bound. */
  x11?: boolean;
  /** The server-side address it arrived at, as the server reports it (`{ path: "" }` for X11). */
  bind: Endpoint;
  origin: Origin;
  accept(): Duplex;
  reject(): void;
  /** Whether the session it came on is still there (accepting on a dead one yields a dead channel). */
  isOpen(): boolean;
}

/** Makes one connection (one attempt), given up when `signal` aborts. Called again to reconnect. */
export type Connect = (signal?: AbortSignal) => Promise<Result<Link>>;

export interface ExecOptions {
  /** Forward the local ssh-agent to the command (-A). */
  agent?: boolean;
  /** Ask for X11 forwarding with this (fake) cookie; its connections arrive through onIncoming, for an x11 forward. */
  x11?: { protocol: string; cookie: string; screen: number };
}

export interface RemoteProcess {
  stdin: Writable;
  stdout: Readable;
  stderr: Readable;
  /** The exit status, or the signal that ended the command. */
  exit: Promise<{ code: number | null; signal?: string }>;
}
