// A listening socket on this machine for -L and -D. It belongs to the forward, not to a session, so
// it can outlive reconnects; each accepted socket is handed over paused, with TCP_NODELAY set, once
// the process's connection limit has room for it.

import net from "node:net";
import { fail, ok, type Result } from "../errors.ts";
import { bunSockets, listenBun } from "../runtime/index.ts";
import { bindError } from "./bind.ts";
import { connectionSlots } from "./connections.ts";
import type { EventBus } from "./events.ts";
import { isUnix, type Endpoint } from "../vocab/endpoint.ts";

export class Listener {
  private stopListening: (() => void) | undefined;
  bound: Endpoint | undefined;

  constructor(
    private readonly id: string,
    private readonly bind: Endpoint,
    private readonly bus: EventBus,
    private readonly onSocket: (s: net.Socket) => void,
    private readonly orFreePort = false,
  ) {}

  async listen(): Promise<Result<Endpoint>> {
    const r = await this.listenOn(this.bind);
    if (r.ok || !this.orFreePort || r.error.reason !== "in-use" || isUnix(this.bind)) return r;
    this.bus.log("info", `${this.id}: port ${this.bind.port} is in use; taking a free port instead`);
    return this.listenOn({ ...this.bind, port: 0 });
  }

  private async listenOn(bind: Endpoint): Promise<Result<Endpoint>> {
    if (bunSockets()) return this.listenOnBun(bind);
    const server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true }, (s) => this.accepted(s));
    const r = await new Promise<Result<Endpoint>>((resolve) => {
      server.once("error", (err) => resolve(fail(bindError(this.id, bind, err))));
      const onListening = () => {
        const addr = server.address();
        resolve(ok(addr && typeof addr === "object" ? { host: addr.address, port: addr.port } : bind));
      };
      if (isUnix(bind)) server.listen(bind.path, onListening);
      else server.listen({ host: bind.host, port: bind.port, exclusive: true }, onListening);
    });
    if (!r.ok) return r;
    server.on("error", (err: NodeJS.ErrnoException) => {
      // Out of file descriptors, accept fails: connections wait in the kernel's backlog, unserved.
      if (err.code === "EMFILE" || err.code === "ENFILE")
        this.bus.log("error", `${this.id}: cannot accept: ${err.code === "EMFILE" ? "this process" : "the system"} has too many open files`, "raise `ulimit -n` (e.g. ulimit -n 65536), or lower --max-connections");
      else this.bus.log("error", `${this.id}: listener: ${err.message}`);
    });
    this.stopListening = () => server.close();
    this.bound = r.value;
    return r;
  }

  /**
   * Under Bun, Bun's own sockets (src/runtime/bun-tcp.ts): node:net's accept and write paths cost
   * about twice the CPU per connection and copy every byte written once more (profiled).
   */
  private listenOnBun(bind: Endpoint): Result<Endpoint> {
    try {
      const l = listenBun(isUnix(bind) ? { path: bind.path } : { host: bind.host, port: bind.port }, (s) => this.accepted(s as net.Socket));
      this.stopListening = () => l.close();
      this.bound = isUnix(bind) ? bind : { host: bind.host, port: l.port };
      return ok(this.bound);
    } catch (err) {
      return fail(bindError(this.id, bind, err as NodeJS.ErrnoException));
    }
  }

  private accepted(s: net.Socket): void {
    s.on("error", () => {}); // each forward reports failures through its own pipe or refusal
    if (!connectionSlots.take((m, hint) => this.bus.log("warn", `${this.id}: ${m}`, hint))) return refuseNow(s);
    s.once("close", () => connectionSlots.release());
    if (s.remoteAddress) s.setNoDelay(true);
    this.onSocket(s);
  }

  /** Stops accepting at once; open connections carry on until they end or are closed. */
  close(): void {
    // node's close() callback waits for every open connection, so it is not awaited here.
    this.stopListening?.();
    this.stopListening = undefined;
  }
}

/** A reset, so a client over the limit fails at once instead of waiting on a connection never served. */
export function refuseNow(s: net.Socket): void {
  if (typeof s.resetAndDestroy === "function") s.resetAndDestroy();
  else s.destroy();
}
