// From -L/-R/-D (and LocalForward/RemoteForward/DynamicForward) plus the SOCKS options to the
// engine's forward list. The engine refuses what would make fwd an open proxy (engine/open-proxy.ts).

import { parseDynamicSpec, parseLocalSpec, parseRemoteSpec } from "../config/forward-spec.ts";
import type { HostConfig } from "../config/ssh-config.ts";
import { cidrProblem } from "../vocab/cidr.ts";
import type { ForwardSpec, SocksPolicy } from "../vocab/forward.ts";
import { readTrusted, UNTRUSTED } from "../file-trust.ts";
import { FwdError, fail, ok, type Result } from "../errors.ts";
import { markSecret } from "../redact.ts";
import { routeForward } from "../config/route-spec.ts";
import { validateForward } from "../engine/kinds.ts";
import type { ParsedArgs } from "./argv.ts";

export function buildForwards(a: ParsedArgs, h: HostConfig): Result<ForwardSpec[]> {
  const socks = socksPolicy(a);
  if (!socks.ok) return socks;
  const out: ForwardSpec[] = [];
  for (const spec of [...(a.values.L ?? []), ...h.localForwards]) {
    const f = parseLocalSpec(spec);
    if (!f.ok) return f;
    out.push({ kind: "local", id: `-L ${spec}`, bind: f.value.bind, target: f.value.target });
  }
  for (const spec of [...(a.values.R ?? []), ...h.remoteForwards]) {
    const f = parseRemoteSpec(spec);
    if (!f.ok) return f;
    const id = `-R ${spec}`;
    const reverseSocks = { socks: socks.value, ...(h.permitRemoteOpen ? { permitOpen: h.permitRemoteOpen } : {}) };
    out.push({ kind: "remote", id, bind: f.value.bind, ...(f.value.target ? { target: f.value.target } : reverseSocks) });
  }
  for (const spec of [...(a.values.D ?? []), ...h.dynamicForwards]) {
    const f = parseDynamicSpec(spec);
    if (!f.ok) return f;
    const id = `-D ${spec}`;
    out.push({ kind: "dynamic", id, bind: f.value.bind, socks: socks.value });
  }
  if (a.long.pac && !out.some((f) => f.kind === "dynamic"))
    return fail(new FwdError("E_CONFIG", "--pac needs a SOCKS proxy to point at", "add -D [bind_address:]port"));
  // The engine would refuse these at start; asked now, before connecting, --dry-run refuses them too.
  for (const f of out) {
    const bad = validateForward(f);
    if (bad) return fail(bad);
  }
  return ok(out);
}

/** --route CIDR … [--exclude CIDR …] [--lan --allow CIDR …] [--dns [--dns-server IP]]; none without --route. */
export function buildRoute(a: ParsedArgs, server: string): Result<ForwardSpec | undefined> {
  const networks = a.longValues.route ?? [];
  if (networks.length === 0) {
    const stray = a.long.lan ? "--lan" : a.long.dns ? "--dns" : a.longValues.exclude ? "--exclude" : a.longValues["dns-server"] ? "--dns-server" : undefined;
    return stray ? fail(new FwdError("E_CONFIG", `${stray} goes with --route`, "e.g. fwd --route 10.0.0.0/8 " + stray.replace("--exclude", "--exclude 10.9.0.0/16").replace("--dns-server", "--dns-server 10.0.0.53") + " host")) : ok(undefined);
  }
  const dnsServer = a.longValues["dns-server"]?.at(-1);
  if (dnsServer !== undefined && !a.long.dns) return fail(new FwdError("E_CONFIG", "--dns-server goes with --dns", "add --dns"));
  const r = routeForward(`--route ${networks.join(",")}`, {
    networks,
    exclude: a.longValues.exclude ?? [],
    server,
    ...(a.long.lan ? { lan: { allow: a.longValues.allow ?? [] } } : {}),
    ...(a.long.dns ? { dns: dnsServer !== undefined ? { server: dnsServer } : {} } : {}),
  });
  if (!r.ok) return r;
  // As for the others: the engine's check (a LAN route needs an allow-list), asked before connecting.
  const bad = validateForward(r.value);
  return bad ? fail(bad) : ok(r.value);
}

function socksPolicy(a: ParsedArgs): Result<SocksPolicy> {
  const allow = a.longValues.allow ?? [];
  for (const c of allow) {
    const problem = cidrProblem(c);
    if (problem) return fail(new FwdError("E_CONFIG", `--allow '${c}': ${problem}`, "e.g. --allow 192.168.1.0/24, --allow 10.0.0.7, --allow fd00::/8"));
  }
  const user = a.longValues["socks-user"]?.at(-1);
  const passwordFile = a.longValues["socks-password-file"]?.at(-1);
  if ((user === undefined) !== (passwordFile === undefined))
    return fail(new FwdError("E_CONFIG", "--socks-user and --socks-password-file go together", "give both, or neither for a proxy without authentication"));
  let auth: SocksPolicy["auth"];
  if (user !== undefined && passwordFile !== undefined) {
    // A password others can read is no secret, and one they can change lets them in: refused like a key.
    const read = readTrusted(passwordFile, { what: "--socks-password-file", secret: true });
    if (!read.ok) return read.error.reason === UNTRUSTED ? read : fail(new FwdError("E_CONFIG", read.error.message, "put the password alone in a file readable only by you (chmod 600)"));
    const password = read.value.toString("utf8").replace(/\r?\n$/, "");
    if (!user || !password || Buffer.byteLength(user) > 255 || Buffer.byteLength(password) > 255)
      return fail(new FwdError("E_CONFIG", "SOCKS username and password must each be 1-255 bytes", "RFC 1929 carries each in one length byte"));
    // Marked, so the redactor hides it wherever the spec is shown, whatever the field is called.
    auth = markSecret({ user, password }, "password");
  }
  const pac = a.long.pac || a.longValues["pac-domain"] ? { domains: a.longValues["pac-domain"] ?? [] } : undefined;
  return ok({ allow, ...(auth ? { auth } : {}), ...(pac ? { pac } : {}) });
}
