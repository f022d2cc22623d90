// The one rule for what may be named as a target host: an IP literal, or a name that could exist in
// DNS or a hosts file. Anything else is refused before it reaches the SSH server, because OpenSSH's
// sshd drops the whole connection — every other forward on it — when a direct-tcpip request carries
// a name with a NUL byte ("parse packet: invalid format"); control characters and oversized names are
// refused for the same reason: no host has them, and only an attacker sends them.

import net from "node:net";
import { FwdError } from "../errors.ts";
import { isUnix, type Endpoint } from "./endpoint.ts";

/** RFC 1123 letters, digits and hyphen, plus '_' (SRV-style and Windows names), not led by '-'. */
const LABEL = /^[A-Za-z0-9_][A-Za-z0-9_-]{0,62}$/;
const MAX_NAME = 253;

/** Why `host` cannot be a target, or undefined when it can. The text is safe to print (no raw bytes). */
export function hostNameProblem(host: string): string | undefined {
  if (net.isIP(host) !== 0) return undefined;
  if (host === "") return "the host is empty";
  // One trailing dot is the fully-qualified form ("example.com."), not an empty label.
  const name = host.endsWith(".") ? host.slice(0, -1) : host;
  if (name.length > MAX_NAME) return `a host name has at most ${MAX_NAME} characters, this one ${name.length}`;
  const labels = name.split(".");
  const bad = labels.find((l) => !LABEL.test(l));
  if (bad === undefined) return undefined;
  if (bad === "") return `"${printable(host)}" has an empty label`;
  if (bad.length > 63) return `a label of a host name has at most 63 characters, one has ${bad.length}`;
  return `"${printable(host)}" is not a host name or IP address (letters, digits, '-', '_' and dots only)`;
}

/**
 * The refusal of a connection to a target no host can have, or undefined for a good target. Its
 * reason, "bad-address", is what SOCKS replies map (host unreachable) and counters count.
 */
export function badTarget(context: string, target: Endpoint): FwdError | undefined {
  const bad = isUnix(target) ? undefined : hostNameProblem(target.host);
  if (bad === undefined) return undefined;
  return new FwdError("E_CHANNEL", `${context}: refused target: ${bad}`, "a target is an IP address or a host name (letters, digits, '-', '_', dots)", { reason: "bad-address" });
}

/** Every character outside printable ASCII escaped, so a NUL or an escape sequence cannot reach a log or terminal raw. */
function printable(s: string): string {
  return s.replace(/[^\x20-\x7e]|["\\]/g, (c) => {
    const n = c.charCodeAt(0);
    if (c === '"' || c === "\\") return `\\${c}`;
    return n > 0xff ? `\\u${n.toString(16).padStart(4, "0")}` : `\\x${n.toString(16).padStart(2, "0")}`;
  });
}
