// The ssh_config options fwd understands: their names, valibot schemas for their values (accepting the
// spellings ssh accepts), %-token/tilde expansion, and the step from the options picked for a host to
// a validated HostConfig.

import * as v from "valibot";
import type { OpenRule } from "../vocab/forward.ts";
import { FwdError, fail, ok, type Result } from "../errors.ts";
import { resolveCiphers } from "../ssh/algorithms.ts";
import { parseDynamicSpec, parseLocalSpec, parseRemoteSpec } from "./forward-spec.ts";
import type { ConfigEntry, HostConfig, PickedOptions } from "./ssh-config.ts";

/** Options fwd acts on, by lower-case key, with the spelling used in messages. */
export const SUPPORTED_OPTIONS: ReadonlyMap<string, string> = new Map(
  [
    "HostName", "User", "Port", "IdentityFile", "IdentitiesOnly", "IdentityAgent", "LocalForward",
    "RemoteForward", "DynamicForward", "UserKnownHostsFile", "GlobalKnownHostsFile", "StrictHostKeyChecking",
    "ConnectTimeout", "ServerAliveInterval", "ServerAliveCountMax", "ExitOnForwardFailure", "ProxyJump",
    "ForwardAgent", "BatchMode", "HostKeyAlgorithms", "Ciphers", "Compression", "PermitRemoteOpen",
  ].map((name) => [name.toLowerCase(), name]),
);

/**
 * Options fwd accepts and ignores, because ignoring them changes nothing a forward depends on: logging,
 * interactive-session settings and known_hosts bookkeeping. Anything else given with -o is
 * an error, so that e.g. `-o ProxyCommand=…` is never silently dropped.
 */
export const HARMLESS_OPTIONS: ReadonlySet<string> = new Set([
  "loglevel", "tcpkeepalive", "checkhostip", "hashknownhosts", "visualhostkey",
  "updatehostkeys", "requesttty", "sendenv", "setenv", "escapechar",
]);

/** Options that accumulate across lines instead of taking the first value. */
export const REPEATABLE_OPTIONS: ReadonlySet<string> = new Set([
  "identityfile", "localforward", "remoteforward", "dynamicforward", "certificatefile",
]);

/** fwd's keepalive default (seconds); OpenSSH's is 0 (off). */
export const DEFAULT_ALIVE_INTERVAL_S = 15;

const got = (issue: { received: string }): string => `received ${issue.received}`;

export const Port = v.pipe(
  v.string(),
  v.check((s) => /^\d{1,5}$/.test(s) && Number(s) >= 1 && Number(s) <= 65535, (i) => `expected an integer 1–65535, ${got(i)}`),
  v.transform(Number),
);

/** ssh's multistate yes/no: yes, no, true or false in any case. */
export const YesNo = v.pipe(
  v.string(),
  v.check((s) => /^(yes|no|true|false)$/i.test(s), (i) => `expected yes or no, ${got(i)}`),
  v.transform((s) => /^(yes|true)$/i.test(s)),
);

/** "off" and true/false are ssh's aliases for no/yes. */
export const StrictHostKeyChecking = v.pipe(
  v.string(),
  v.check((s) => /^(yes|no|ask|accept-new|off|true|false)$/i.test(s), (i) => `expected yes, accept-new, no or ask, ${got(i)}`),
  v.transform((s): "yes" | "accept-new" | "no" | "ask" => {
    const l = s.toLowerCase();
    if (l === "true") return "yes";
    if (l === "false" || l === "off") return "no";
    return l === "yes" || l === "ask" || l === "accept-new" ? l : "no";
  }),
);

const TIME_UNITS: Record<string, number> = { "": 1, s: 1, m: 60, h: 3600, d: 86400, w: 604800 };

/** ssh's convtime: `90`, `1m30s`, `2H` … in seconds; "none" (ssh accepts it for timeouts) is 0. */
export const Seconds = v.pipe(
  v.string(),
  v.check((s) => /^(none|(\d+[smhdw]?)+)$/i.test(s), (i) => `expected a time such as 30, 90s or 1m30s, ${got(i)}`),
  v.transform((s) =>
    [...s.toLowerCase().matchAll(/(\d+)([smhdw]?)/g)].reduce((sum, [, n, unit]) => sum + Number(n) * (TIME_UNITS[unit ?? ""] ?? 1), 0),
  ),
);

export const Count = v.pipe(
  v.string(),
  v.check((s) => /^\d{1,9}$/.test(s), (i) => `expected a whole number, ${got(i)}`),
  v.transform(Number),
);

/** A single value: ssh stops at the first space and rejects what follows ("garbage at end of line"). */
export const Word = v.pipe(v.string(), v.check((s) => /^\S+$/.test(s), (i) => `expected one value, ${got(i)}`));

/**
 * Validates one option value. `where` names the file and option (`~/.ssh/config: Port`). The summary's
 * "× " bullets are dropped because a config value has one issue and the message is one line.
 */
export function checkValue<T>(schema: v.GenericSchema<string, T>, raw: string, where: string, hint: string): Result<T> {
  const r = v.safeParse(schema, raw);
  if (r.success) return ok(r.output);
  return fail(new FwdError("E_CONFIG", `${where}: ${v.summarize(r.issues).replace(/^× /gm, "")}`, hint));
}

export const TOKEN_HINT = "supported tokens are %%, %d, %h, %n, %p, %r and %u; paths may start with ~/";

/**
 * Expands `~`/`~/` and the %-tokens given in `tokens` (keyed by letter). An unknown token is an error,
 * as in ssh, rather than a path with a literal "%C" in it.
 */
export function expandPath(raw: string, tokens: Readonly<Record<string, string>>, home: string): Result<string> {
  if (/^~[^/]/.test(raw)) {
    return fail(new FwdError("E_CONFIG", `"${raw}": ~user paths are not supported`, "use a full path or ~/…"));
  }
  const tilde = raw === "~" || raw.startsWith("~/") ? home + raw.slice(1) : raw;
  let bad: string | undefined;
  const out = tilde.replace(/%(.?)/g, (whole, letter: string) => {
    if (letter === "%") return "%";
    const value = tokens[letter];
    if (value === undefined) bad ??= whole;
    return value ?? whole;
  });
  if (bad !== undefined) return fail(new FwdError("E_CONFIG", `"${raw}": unknown token ${bad}`, TOKEN_HINT));
  return ok(out);
}

/** Where a value came from, for messages: `~/.ssh/config: Port` or `-o Port`. */
const where = (e: ConfigEntry): string => (e.source === "-o" ? `-o ${e.name}` : `${e.source}: ${e.name}`);

const inContext = <T>(r: Result<T>, e: ConfigEntry): Result<T> =>
  r.ok ? r : fail(new FwdError("E_CONFIG", `${where(e)}: ${r.error.message}`, r.error.hint));

const FORWARDS = {
  localforward: { min: 2, max: 2, usage: "LocalForward [bind_address:]port host:hostport", parse: parseLocalSpec },
  remoteforward: { min: 1, max: 2, usage: "RemoteForward [bind_address:]port host:hostport, or a port alone", parse: parseRemoteSpec },
  dynamicforward: { min: 1, max: 1, usage: "DynamicForward [bind_address:]port", parse: parseDynamicSpec },
} as const;

/** ssh_config's `listen target` becomes the command line's `listen:target` (readconf.c does the same). */
function forwardSpec(e: ConfigEntry, kind: keyof typeof FORWARDS): Result<string> {
  const { min, max, usage, parse } = FORWARDS[kind];
  const args = String(e.value).split(/\s+/).filter(Boolean);
  if (args.length < min || args.length > max) {
    const count = min === max ? `${min}` : `${min} or ${max}`;
    return fail(new FwdError("E_CONFIG", `${where(e)}: expected ${count} values, received "${e.value}"`, `use ${usage}`));
  }
  const spec = args.join(":");
  const parsed = parse(spec);
  return parsed.ok ? ok(spec) : inContext(parsed, e);
}

const PERMIT_OPEN_HINT = "use PermitRemoteOpen any, none, or host:port … (`*` for any host or any port)";

/**
 * PermitRemoteOpen as readconf.c reads it: `any` or `none` alone, or a list of host:port (IPv6 in
 * brackets), where `*` stands for any host or any port. Undefined means any.
 */
function permitRemoteOpen(e: ConfigEntry | undefined): Result<readonly OpenRule[] | undefined> {
  if (e === undefined) return ok(undefined);
  const args = (Array.isArray(e.value) ? e.value : [e.value]).flatMap((w) => w.split(/\s+/)).filter(Boolean);
  const bad = (why: string) => fail<never>(new FwdError("E_CONFIG", `${where(e)}: ${why}`, PERMIT_OPEN_HINT));
  const alone = args.find((a) => /^(any|none)$/i.test(a));
  if (alone !== undefined) {
    if (args.length > 1) return bad(`"${alone}" must appear alone`);
    return ok(/^any$/i.test(alone) ? undefined : []);
  }
  const rules: OpenRule[] = [];
  for (const arg of args) {
    const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):([^:]+)$/.exec(arg);
    const host = m?.[1] ?? m?.[2];
    const port = m?.[3];
    if (host === undefined || port === undefined) return bad(`expected host:port, received "${arg}"`);
    if (port !== "*" && !(/^\d{1,5}$/.test(port) && Number(port) >= 1 && Number(port) <= 65535)) return bad(`"${arg}": expected a port 1–65535 or *`);
    rules.push({ host, port: port === "*" ? "*" : Number(port) });
  }
  return ok(rules);
}

/** Validates and expands the picked options into a HostConfig; the first bad value is the error. */
export function buildHostConfig(picked: PickedOptions, alias: string, ctx: { localUser: string; home: string }): Result<HostConfig> {
  const { first, all } = picked;
  const { home, localUser } = ctx;
  let failure: FwdError | undefined;
  const take = <T>(r: Result<T>): T | undefined => {
    if (r.ok) return r.value;
    failure ??= r.error;
    return undefined;
  };
  const option = <T>(key: string, schema: v.GenericSchema<string, T>, hint: string): T | undefined => {
    const e = first.get(key);
    return e === undefined ? undefined : take(checkValue(schema, String(e.value), where(e), hint));
  };
  const list = (key: string): string[] => {
    const e = first.get(key);
    return e === undefined ? [] : Array.isArray(e.value) ? e.value : [e.value];
  };

  const hostNameEntry = first.get("hostname");
  const hostNameRaw = option("hostname", Word, "set HostName to one host name or address");
  const hostName =
    hostNameEntry && hostNameRaw !== undefined
      ? (take(inContext(expandPath(hostNameRaw, { h: alias }, home), hostNameEntry))?.toLowerCase() ?? alias)
      : alias.toLowerCase();
  const user = option("user", Word, "set User to one user name");
  const port = option("port", Port, "set Port to the SSH server's TCP port, e.g. Port 22") ?? 22;
  const tokens = { d: home, h: hostName, n: alias, p: String(port), r: user ?? localUser, u: localUser };
  const path = (raw: string, e: ConfigEntry): string => take(inContext(expandPath(raw, tokens, home), e)) ?? raw;

  const identityEntries = all.get("identityfile") ?? [];
  const identityFiles = [...new Set(identityEntries.map((e) => path(String(e.value), e)))];
  const agentEntry = first.get("identityagent");
  const agent = agentEntry === undefined ? undefined : String(agentEntry.value);
  // "none", "SSH_AUTH_SOCK" and $VARs name no file here: the CLI reads the environment, not this module
  const identityAgent =
    agentEntry === undefined || agent === undefined || /^(none|SSH_AUTH_SOCK|\$.*)$/.test(agent) ? agent : path(agent, agentEntry);
  const userKnown = first.get("userknownhostsfile");
  const userKnownHostsFiles = userKnown
    ? list("userknownhostsfile").filter((f) => f !== "none").map((f) => path(f, userKnown))
    : [`${home}/.ssh/known_hosts`, `${home}/.ssh/known_hosts2`];
  // ssh expands neither tokens nor ~ in GlobalKnownHostsFile
  const globalKnown = list("globalknownhostsfile").filter((f) => f !== "none");
  const forwards = (kind: keyof typeof FORWARDS): string[] =>
    (all.get(kind) ?? []).map((e) => take(forwardSpec(e, kind)) ?? "");
  const proxyJump = option("proxyjump", Word, "use ProxyJump [user@]host[:port][,…] or none");
  const connectTimeout = option("connecttimeout", Seconds, "use ConnectTimeout seconds, e.g. ConnectTimeout 10");
  const hostKeyAlgorithms = option("hostkeyalgorithms", Word, "use HostKeyAlgorithms alg1,alg2,…");
  const ciphersEntry = first.get("ciphers");
  const ciphersRaw = option("ciphers", Word, "use Ciphers cipher1,cipher2,… e.g. Ciphers aes128-gcm@openssh.com");
  const ciphers = ciphersEntry && ciphersRaw !== undefined ? take(inContext(resolveCiphers(ciphersRaw), ciphersEntry)) : undefined;
  const permitOpen = take(permitRemoteOpen(first.get("permitremoteopen")));

  const config: HostConfig = {
    alias,
    hostName,
    ...(user !== undefined ? { user } : {}),
    port,
    identityFiles: identityFiles.length > 0 ? identityFiles : ["id_ed25519", "id_ecdsa", "id_rsa"].map((f) => `${home}/.ssh/${f}`),
    identityFilesAreDefault: identityFiles.length === 0,
    identitiesOnly: option("identitiesonly", YesNo, "use IdentitiesOnly yes or no") ?? false,
    ...(identityAgent !== undefined ? { identityAgent } : {}),
    localForwards: forwards("localforward"),
    remoteForwards: forwards("remoteforward"),
    dynamicForwards: forwards("dynamicforward"),
    userKnownHostsFiles,
    globalKnownHostsFiles: first.has("globalknownhostsfile") ? globalKnown : ["/etc/ssh/ssh_known_hosts", "/etc/ssh/ssh_known_hosts2"],
    strictHostKeyChecking:
      option("stricthostkeychecking", StrictHostKeyChecking, "use StrictHostKeyChecking yes, accept-new, no or ask") ?? "ask",
    ...(connectTimeout ? { connectTimeout } : {}),
    // Unlike ssh (0, off), fwd keeps tunnels alive by default so a dead peer is noticed; 0 turns it off.
    serverAliveInterval: option("serveraliveinterval", Seconds, "use ServerAliveInterval seconds, e.g. ServerAliveInterval 15") ?? DEFAULT_ALIVE_INTERVAL_S,
    serverAliveCountMax: option("serveralivecountmax", Count, "use ServerAliveCountMax count, e.g. ServerAliveCountMax 3") ?? 3,
    exitOnForwardFailure: option("exitonforwardfailure", YesNo, "use ExitOnForwardFailure yes or no") ?? false,
    ...(proxyJump !== undefined && proxyJump !== "none" ? { proxyJump } : {}),
    forwardAgent: option("forwardagent", YesNo, "fwd supports ForwardAgent yes or no, not a socket path") ?? false,
    batchMode: option("batchmode", YesNo, "use BatchMode yes or no") ?? false,
    ...(hostKeyAlgorithms !== undefined ? { hostKeyAlgorithms } : {}),
    ...(ciphers !== undefined ? { ciphers } : {}),
    compression: option("compression", YesNo, "use Compression yes or no") ?? false,
    ...(permitOpen !== undefined ? { permitRemoteOpen: permitOpen } : {}),
    ignoredOptions: picked.ignored,
  };
  return failure ? fail(failure) : ok(config);
}
