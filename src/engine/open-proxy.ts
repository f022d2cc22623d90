// Checks several kinds' validate() share. The open-proxy rule, for the kinds that let a client choose
// where to go (-D, reverse SOCKS): beyond loopback they need an allow-list or a password, so fwd is
// never an open proxy by accident, whoever built the spec (the route kind has its LAN variant). And
// a target no host can have, refused before it reaches sshd (vocab/host-name.ts says why).

import { FwdError } from "../errors.ts";
import { hostNameProblem } from "../vocab/host-name.ts";
import { isUnix, type Endpoint } from "../vocab/endpoint.ts";

export const openProxy = (id: string, where: string, hint: string) =>
  new FwdError("E_CONFIG", `${id}: refusing to start an open SOCKS proxy ${where}: it binds beyond loopback with no allow-list and no password`, hint);

/** A target the SSH server (or this machine) is to connect to: refused now if no host can have it. */
export function targetProblem(id: string, target: Endpoint | undefined): FwdError | undefined {
  const bad = target && !isUnix(target) ? hostNameProblem(target.host) : undefined;
  return bad ? new FwdError("E_CONFIG", `${id}: target host: ${bad}`, "a target is an IP address or a host name (letters, digits, '-', '_', dots)") : undefined;
}
