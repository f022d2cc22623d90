// Parses OpenSSH forwarding specs (-L, -R, -D and the LocalForward/RemoteForward/DynamicForward values
// of ssh_config) into endpoints, accepting what `ssh` accepts (misc.c parse_forward) with errors as values.

import { FwdError, fail, ok, type Result } from "../errors.ts";
import { hostNameProblem } from "../vocab/host-name.ts";
import type { Endpoint, TcpEndpoint } from "../vocab/endpoint.ts";

export interface LocalSpec {
  /** Where fwd listens, on this machine. */
  bind: Endpoint;
  /** Where the SSH server connects to. */
  target: Endpoint;
  /** A bind address or socket path was given, rather than the default. */
  bindExplicit: boolean;
}

export interface RemoteSpec {
  /** Where the SSH server listens. */
  bind: Endpoint;
  /** Where this machine connects to; absent for a reverse dynamic (SOCKS) forward. */
  target?: Endpoint;
  bindExplicit: boolean;
}

export interface DynamicSpec {
  bind: TcpEndpoint;
  bindExplicit: boolean;
}

const HINTS = {
  "-L":
    "use -L [bind_address:]port:host:hostport, [bind_address:]port:/remote.sock, /local.sock:host:hostport " +
    "or /local.sock:/remote.sock; put IPv6 addresses in [brackets]",
  "-R":
    "use -R [bind_address:]port:host:hostport, [bind_address:]port:/local.sock, /remote.sock:host:hostport, " +
    "/remote.sock:/local.sock, or [bind_address:]port alone for a SOCKS proxy; put IPv6 addresses in [brackets]",
  "-D": "use -D [bind_address:]port, e.g. -D 1080 or -D [::1]:1080",
} as const;

type Flag = keyof typeof HINTS;

/** A reason a spec was rejected, kept apart from the flag and spec that the error message adds. */
interface Problem {
  problem: string;
}
const isProblem = (x: unknown): x is Problem => typeof x === "object" && x !== null && "problem" in x;

interface Field {
  text: string;
  /** ssh treats any field containing '/' as a unix socket path, bracketed or not. */
  isPath: boolean;
}

/** Splits on ':' as parse_fwd_field does: [brackets] are literal, '\' escapes, a trailing ':' is dropped. */
function splitFields(spec: string): Field[] | Problem {
  const fields: Field[] = [];
  let i = spec.length - spec.trimStart().length;
  while (i < spec.length) {
    if (fields.length === 4) return { problem: "too many ':'-separated fields (IPv6 addresses need [brackets])" };
    if (spec[i] === "[") {
      const end = spec.indexOf("]", i + 1);
      if (end < 0) return { problem: `unclosed '[' in "${spec.slice(i)}"` };
      if (end + 1 < spec.length && spec[end + 1] !== ":") {
        return { problem: `']' must be followed by ':', received "${spec.slice(i)}"` };
      }
      const text = spec.slice(i + 1, end);
      fields.push({ text, isPath: text.includes("/") });
      i = end + 2;
      continue;
    }
    let text = "";
    for (; i < spec.length && spec[i] !== ":"; i++) {
      if (spec[i] === "\\") {
        i++;
        if (i === spec.length) return { problem: "trailing '\\'" };
      }
      text += spec[i];
    }
    fields.push({ text, isPath: text.includes("/") });
    i++;
  }
  return fields;
}

/** Bind ports may be 0 (the OS picks one; ssh allows that only for -R, fwd for all); target ports may not. */
function parsePort(text: string, part: "bind port" | "target port"): number | Problem {
  const min = part === "bind port" ? 0 : 1;
  const n = /^\d{1,5}$/.test(text) ? Number(text) : Number.NaN;
  if (n >= min && n <= 65535) return n;
  return { problem: `${part}: expected an integer ${min}–65535, received "${text}"` };
}

/**
 * Client-side listeners (-L, -D) with GatewayPorts=no, as OpenSSH's channel_fwd_bind_addr: no address or
 * "localhost" means loopback, "*" or "" means every interface. OpenSSH's loopback is both 127.0.0.1 and
 * ::1; fwd picks 127.0.0.1 so that one spec is one listener, and ::1 stays available by asking for it.
 */
function localBindHost(addr: string | undefined): string {
  if (addr === undefined || addr === "localhost") return "127.0.0.1";
  if (addr === "" || addr === "*") return "0.0.0.0";
  return addr;
}

/**
 * Server-side listeners (-R), as OpenSSH's channel_rfwd_bind_host: no address is sent as "localhost" and
 * the server decides what that means; "*" or "" is sent as "" (all interfaces, if the server's
 * GatewayPorts allows it). Other addresses, "localhost" included, go to the server unchanged.
 */
function remoteBindHost(addr: string | undefined): string {
  if (addr === undefined) return "localhost";
  if (addr === "" || addr === "*") return "";
  return addr;
}

function tcp(host: string, portText: string, part: "bind port" | "target port"): TcpEndpoint | Problem {
  const port = parsePort(portText, part);
  if (isProblem(port)) return port;
  if (part === "target port" && host === "") return { problem: "target host is empty" };
  const bad = part === "target port" ? hostNameProblem(host) : undefined;
  if (bad) return { problem: `target host: ${bad}` };
  return { host, port };
}

/** The non-dynamic forms shared by -L and -R; `bindHost` applies the side's bind address defaults. */
function parseForward(
  fields: Field[],
  bindHost: (addr: string | undefined) => string,
): { bind: Endpoint; target: Endpoint; bindExplicit: boolean } | Problem {
  const [a, b, c, d] = fields;
  let bind: Endpoint | Problem;
  let target: Endpoint | Problem;
  let bindExplicit = true;
  if (a && b && c && d) {
    bind = tcp(bindHost(a.text), b.text, "bind port");
    target = tcp(c.text, d.text, "target port");
  } else if (a && b && c && a.isPath) {
    bind = { path: a.text };
    target = tcp(b.text, c.text, "target port");
  } else if (a && b && c && c.isPath) {
    bind = tcp(bindHost(a.text), b.text, "bind port");
    target = { path: c.text };
  } else if (a && b && c) {
    bind = tcp(bindHost(undefined), a.text, "bind port");
    target = tcp(b.text, c.text, "target port");
    bindExplicit = false;
  } else if (a && b && b.isPath) {
    bindExplicit = a.isPath;
    bind = a.isPath ? { path: a.text } : tcp(bindHost(undefined), a.text, "bind port");
    target = { path: b.text };
  } else if (a && b) {
    return { problem: `missing the target host:hostport or socket path after "${a.text}"` };
  } else {
    return { problem: a ? `missing the target host:hostport after "${a.text}"` : "empty forwarding spec" };
  }
  if (isProblem(bind)) return bind;
  if (isProblem(target)) return target;
  return { bind, target, bindExplicit };
}

/** `[bind_address:]port`, the whole of -D and the reverse-dynamic form of -R. */
function parseListenOnly(
  fields: Field[],
  bindHost: (addr: string | undefined) => string,
): DynamicSpec | Problem {
  const [a, b] = fields;
  if (!a || fields.length > 2) return { problem: a ? "too many ':'-separated fields" : "empty forwarding spec" };
  const given = b ? a : undefined;
  const portField = b ?? a;
  if (portField.isPath || given?.isPath) return { problem: `expected a TCP port, received "${portField.text}"` };
  const bind = tcp(bindHost(given?.text), portField.text, "bind port");
  if (isProblem(bind)) return bind;
  return { bind, bindExplicit: given !== undefined };
}

function reject(flag: Flag, spec: string, p: Problem): Result<never> {
  return fail(new FwdError("E_CONFIG", `${flag} '${spec}': ${p.problem}`, HINTS[flag]));
}

/** Parses an `-L` spec (or a LocalForward value joined as `listen:target`). */
export function parseLocalSpec(spec: string): Result<LocalSpec> {
  const fields = splitFields(spec);
  if (isProblem(fields)) return reject("-L", spec, fields);
  const parsed = parseForward(fields, localBindHost);
  return isProblem(parsed) ? reject("-L", spec, parsed) : ok(parsed);
}

/** Parses an `-R` spec: a forward with the sides swapped, or `[bind_address:]port` alone for SOCKS. */
export function parseRemoteSpec(spec: string): Result<RemoteSpec> {
  const fields = splitFields(spec);
  if (isProblem(fields)) return reject("-R", spec, fields);
  // ssh tries the forward forms first and the dynamic one second; a non-path one- or two-field spec can
  // only be dynamic, so deciding by shape gives the same answer with a better error message.
  const dynamic = fields.length === 1 || (fields.length === 2 && !fields.some((f) => f.isPath));
  const parsed = dynamic ? parseListenOnly(fields, remoteBindHost) : parseForward(fields, remoteBindHost);
  return isProblem(parsed) ? reject("-R", spec, parsed) : ok(parsed);
}

/** Parses a `-D` spec: `[bind_address:]port`. */
export function parseDynamicSpec(spec: string): Result<DynamicSpec> {
  const fields = splitFields(spec);
  if (isProblem(fields)) return reject("-D", spec, fields);
  const parsed = parseListenOnly(fields, localBindHost);
  return isProblem(parsed) ? reject("-D", spec, parsed) : ok(parsed);
}
