// ssh2's errors, mapped in one place to FwdErrors that say what happened and what to do.
// Connection errors carry `level` (client-socket, client-timeout, …); channel open failures `reason`.

import { formatEndpoint, isUnix, type Endpoint } from "../vocab/endpoint.ts";
import { FwdError } from "../errors.ts";

interface Ssh2Error extends Error {
  level?: string;
  code?: string;
  reason?: number | string;
  description?: string;
}

/** Where ConnectTimeout ran out: before the key exchange was done, or after it, waiting on authentication. */
export type HandshakeStage = "handshake" | "authentication";

/**
 * ConnectTimeout ran out. E_CONNECT, not E_AUTH: nothing was refused, so another attempt may well
 * get through (an sshd restarting, overloaded, or a middlebox stalling the connection).
 */
export function handshakeTimeout(where: string, stage: HandshakeStage, timeoutMs: number): FwdError {
  const s = `${timeoutMs / 1000}s`;
  if (stage === "authentication")
    return new FwdError("E_CONNECT", `${where}: the server did not answer authentication within ${s}`, "the key exchange went through but the server (or something in between) went quiet; check the server's load and log, or raise -o ConnectTimeout", { reason: "timeout" });
  return new FwdError("E_CONNECT", `${where}: no SSH handshake within ${s}`, "the host may be down or a firewall may drop packets; check the address, or raise -o ConnectTimeout", { reason: "timeout" });
}

/** A connection-level failure (before or after the session was up). */
export function connectionError(where: string, err: Ssh2Error): FwdError {
  const o = { cause: err };
  // ssh2's own readyTimeout is off (connect.ts keeps the clock), so its only timeout is keepalive's.
  if (err.level === "client-timeout")
    return new FwdError("E_CONNECT", `${where}: server stopped answering (keepalive timeout)`, "the network or the server went away; fwd will say when it is back", { ...o, reason: "keepalive" });
  switch (err.code) {
    case "ECONNREFUSED":
      return new FwdError("E_CONNECT", `${where}: connection refused`, "nothing listens there: check the host and port (-p), and that sshd is running", { ...o, reason: "refused" });
    case "ENOTFOUND":
    case "EAI_AGAIN":
    case "EAI_NONAME":
      return new FwdError("E_CONNECT", `${where}: host name not found`, "check the spelling, or the HostName in your ssh config", { ...o, reason: "dns" });
    case "EHOSTUNREACH":
    case "ENETUNREACH":
      return new FwdError("E_CONNECT", `${where}: no route to host`, "this machine cannot reach it: check the address, VPN or network", { ...o, reason: "unreachable" });
    case "ETIMEDOUT":
      return new FwdError("E_CONNECT", `${where}: connection timed out`, "the host may be down or a firewall may drop packets", { ...o, reason: "timeout" });
    case "ECONNRESET":
    case "EPIPE":
      return new FwdError("E_CONNECT", `${where}: connection reset by the server`, "the server or something in between cut the connection; check the server's log (MaxStartups, fail2ban)", { ...o, reason: "reset" });
  }
  if (err.level === "handshake")
    return new FwdError("E_PROTOCOL", `${where}: SSH handshake failed: ${err.message}`, "client and server share no algorithm; check Ciphers/KexAlgorithms/HostKeyAlgorithms options", { ...o, reason: "handshake" });
  return new FwdError("E_CONNECT", `${where}: ${err.message}`, "check the host, port and network", o);
}

/** The server would not listen for a -R: port taken there, or forwarding not allowed. */
export function listenError(label: string, bind: Endpoint, err: Error): FwdError {
  const where = `${label}: listen on the server at ${formatEndpoint(bind)}`;
  return new FwdError(
    "E_FORWARD",
    `${where}: refused by the server`,
    isUnix(bind)
      ? "the socket path may exist already (StreamLocalBindUnlink), or AllowStreamLocalForwarding forbids it"
      : "the port may be in use on the server (a stale session can hold it), below 1024 for a non-root user, or AllowTcpForwarding/PermitListen forbids it",
    { cause: err, reason: "listen-refused" },
  );
}

const OPEN_FAILURE = { prohibited: 1, connectFailed: 2, unknownType: 3, resourceShortage: 4 } as const;

/** A refused channel: the server would not (or could not) connect to the target for us. */
export function channelError(forward: string, target: string, err: Ssh2Error): FwdError {
  const desc = err.message.replace(/^\(SSH\) Channel open failure: /, "");
  const o = { cause: err };
  const where = `${forward}: open ${target}`;
  switch (err.reason) {
    case OPEN_FAILURE.prohibited:
      return new FwdError("E_CHANNEL", `${where}: administratively prohibited by the server`, "the server forbids this forward: AllowTcpForwarding, PermitOpen or DisableForwarding in its sshd_config", { ...o, reason: "prohibited" });
    case OPEN_FAILURE.connectFailed: {
      const d = desc.toLowerCase();
      if (d.includes("refused"))
        return new FwdError("E_CHANNEL", `${where}: connection refused by the target`, "the SSH server reached the target host but nothing listens on that port; is the service running?", { ...o, reason: "refused" });
      if (d.includes("no route") || d.includes("unreachable"))
        return new FwdError("E_CHANNEL", `${where}: target unreachable from the server (${desc})`, "the SSH server has no route to the target; check the target address as seen from the server", { ...o, reason: "unreachable" });
      if (d.includes("timed out"))
        return new FwdError("E_CHANNEL", `${where}: the server timed out reaching the target`, "the target may be down or firewalled from the SSH server", { ...o, reason: "timeout" });
      if (d.includes("name") || d.includes("getaddrinfo") || d.includes("resolve"))
        return new FwdError("E_CHANNEL", `${where}: the server could not resolve the target's name`, "names are resolved on the SSH server; check the spelling as the server sees it", { ...o, reason: "dns" });
      return new FwdError("E_CHANNEL", `${where}: the server could not connect (${desc})`, "check that the target is reachable from the SSH server", { ...o, reason: "failed" });
    }
    case OPEN_FAILURE.unknownType:
      return new FwdError("E_CHANNEL", `${where}: the server does not support this channel type`, "unix-socket targets need an OpenSSH server (direct-streamlocal)", { ...o, reason: "unsupported" });
    case OPEN_FAILURE.resourceShortage:
      return new FwdError("E_CHANNEL", `${where}: the server is short of resources (${desc})`, "too many channels at once, or MaxSessions on the server; try again shortly", { ...o, reason: "resource" });
  }
  return new FwdError("E_CHANNEL", `${where}: ${desc}`, "the session may have ended; check the log", { ...o, reason: "failed" });
}
