// A listening socket on this machine for -L and -D. It belongs to the forward, not to a session, so
// it can outlive reconnects; each accepted socket is handed over paused, with TCP_NODELAY set, once
// the process's connection limit has room for it.

import net from "node:net";
import { fail, ok, type Result } from "../errors.ts";
import { bindError } from "./bind.ts";
import { connectionSlots } from "./connections.ts";
import type { EventBus } from "./events.ts";
import { isUnix, type Endpoint } from "../vocab/endpoint.ts";

export class Listener {
  private server: net.Server | undefined;
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
    const server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true }, (s) => {
      s.on("error", () => {}); // each forward reports failures through its own pipe or refusal
      if (!connectionSlots.take((m, hint) => this.bus.log("warn", `${this.id}: ${m}`, hint))) return refuseNow(s);
      s.once("close", () => connectionSlots.release());
      if (s.remoteAddress) s.setNoDelay(true);
      this.onSocket(s);
    });
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
    this.server = server;
    this.bound = r.value;
    return r;
  }

  /** Stops accepting at once; open connections carry on until they end or are closed. */
  close(): void {
    // close()'s callback waits for every open connection, so it is not awaited here.
    this.server?.close();
    this.server = undefined;
  }
}

/** A reset, so a client over the limit fails at once instead of waiting on a connection never served. */
export function refuseNow(s: net.Socket): void {
  if (typeof s.resetAndDestroy === "function") s.resetAndDestroy();
  else s.destroy();
}
