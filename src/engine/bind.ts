// Turns a failed listen into an error a user can act on.

import { FwdError } from "../errors.ts";
import { formatEndpoint, type Endpoint } from "../vocab/endpoint.ts";

export function bindError(forward: string, bind: Endpoint, err: NodeJS.ErrnoException): FwdError {
  const where = `${forward}: bind ${formatEndpoint(bind)}`;
  switch (err.code) {
    case "EADDRINUSE":
      return new FwdError("E_BIND", `${where}: address in use`, `another program holds it (find it with \`ss -ltnp\`), or pick another port (0 picks a free one)`, { cause: err, reason: "in-use" });
    case "EACCES":
      return new FwdError("E_BIND", `${where}: permission denied`, "ports below 1024 need root or CAP_NET_BIND_SERVICE; use a port of 1024 or more", { cause: err, reason: "denied" });
    case "EADDRNOTAVAIL":
      return new FwdError("E_BIND", `${where}: no such local address`, "bind to an address this machine has (127.0.0.1, or * for all)", { cause: err, reason: "no-address" });
    default:
      return new FwdError("E_BIND", `${where}: ${err.message}`, "check the bind address and port", { cause: err });
  }
}
