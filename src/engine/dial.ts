// Opens a connection from this machine (for -R targets and reverse SOCKS), with TCP_NODELAY, and with
// failures mapped to the same reasons the SSH side uses so counters and SOCKS replies agree.

import net from "node:net";
import type { Duplex } from "node:stream";
import { FwdError, fail, ok, type Result } from "../errors.ts";
import { dialBun } from "../runtime/index.ts";
import { formatEndpoint, isUnix, type Endpoint } from "../vocab/endpoint.ts";

const DIAL_TIMEOUT_MS = 10_000;

export function dialLocal(forward: string, target: Endpoint): Promise<Result<Duplex>> {
  return new Promise((resolve) => {
    // Under Bun, TCP on Bun's own sockets (src/runtime/bun-tcp.ts), as the -L side is; a Unix socket on node:net.
    const s = (isUnix(target) ? net.connect({ path: target.path, allowHalfOpen: true }) : (dialBun(target.host, target.port, { halfOpen: true }) ?? net.connect({ host: target.host, port: target.port, allowHalfOpen: true }))) as net.Socket;
    const timer = setTimeout(() => {
      s.destroy();
      resolve(fail(dialError(forward, target, Object.assign(new Error("timed out"), { code: "ETIMEDOUT" }))));
    }, DIAL_TIMEOUT_MS);
    s.once("connect", () => {
      clearTimeout(timer);
      s.removeAllListeners("error");
      if (!isUnix(target)) s.setNoDelay(true);
      resolve(ok(s));
    });
    s.once("error", (e) => {
      clearTimeout(timer);
      resolve(fail(dialError(forward, target, e)));
    });
  });
}

function dialError(forward: string, target: Endpoint, e: NodeJS.ErrnoException): FwdError {
  const where = `${forward}: connect ${formatEndpoint(target)}`;
  const o = { cause: e };
  switch (e.code) {
    case "ECONNREFUSED":
    case "ENOENT":
      return new FwdError("E_CHANNEL", `${where}: connection refused`, "nothing listens there on this machine; is the service running?", { ...o, reason: "refused" });
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return new FwdError("E_CHANNEL", `${where}: host name not found`, "the name is resolved on this machine; check the spelling", { ...o, reason: "dns" });
    case "EHOSTUNREACH":
      return new FwdError("E_CHANNEL", `${where}: no route to host`, "this machine cannot reach the target", { ...o, reason: "unreachable" });
    case "ENETUNREACH":
      return new FwdError("E_CHANNEL", `${where}: network unreachable`, "this machine has no route to that network", { ...o, reason: "net-unreachable" });
    case "ETIMEDOUT":
      return new FwdError("E_CHANNEL", `${where}: timed out`, "the target may be down or firewalled", { ...o, reason: "timeout" });
    default:
      return new FwdError("E_CHANNEL", `${where}: ${e.message}`, "check the target address", { ...o, reason: "failed" });
  }
}
