// `fwd -G` and `fwd --dry-run`: what a command line resolves to, printed instead of connecting.
// -G speaks `ssh -G`'s format (lower-case `key value` lines, forwards as ssh dumps them), for the
// keys fwd reads; --dry-run prints fwd's plan (hops, forwards, the equivalent ssh command).

import { parseDynamicSpec, parseLocalSpec, parseRemoteSpec } from "../config/forward-spec.ts";
import type { HostConfig } from "../config/ssh-config.ts";
import type { ForwardSpec } from "../vocab/forward.ts";
import { formatEndpoint, isUnix, type Endpoint } from "../vocab/endpoint.ts";
import { sshCommandLines } from "../plugin/to-engine.ts";
import type { ConcretePlan } from "../plugin/to-engine.ts";
import { redact } from "../redact.ts";
import { DEFAULT_CIPHERS } from "../ssh/algorithms.ts";
import type { SshTarget } from "../ssh/connect.ts";
import { routeLabel } from "../ssh/route.ts";

const yesNo = (b: boolean) => (b ? "yes" : "no");

/** ssh's dump of a forward's end: a path, a bare port (no bind address given) or `[host]:port`. */
function end(e: Endpoint, explicit = true): string {
  if (isUnix(e)) return e.path;
  return explicit ? `[${e.host === "" ? "*" : e.host}]:${e.port}` : String(e.port);
}

/** Forward lines as ssh -G prints them: `localforward 8080 [db]:80`, `remoteforward 7000 [socks]:0`, … */
function forwardLines(kind: "L" | "R" | "D", specs: string[]): string[] {
  return specs.flatMap((s) => {
    if (kind === "L") {
      const f = parseLocalSpec(s);
      return f.ok ? [`localforward ${end(f.value.bind, f.value.bindExplicit)} ${end(f.value.target)}`] : [];
    }
    if (kind === "R") {
      const f = parseRemoteSpec(s);
      // ssh dumps a reverse dynamic forward's missing target as the placeholder "[socks]:0".
      return f.ok ? [`remoteforward ${end(f.value.bind, f.value.bindExplicit)} ${f.value.target ? end(f.value.target) : "[socks]:0"}`] : [];
    }
    const f = parseDynamicSpec(s);
    return f.ok ? [`dynamicforward ${end(f.value.bind, f.value.bindExplicit)}`] : [];
  });
}

export interface GInput {
  /** The alias as given on the command line. */
  alias: string;
  host: HostConfig;
  /** The final hop as fwd will connect to it (user filled in, timeouts in ms). */
  target: SshTarget;
  /** -L/-R/-D from the command line (they come before ssh_config's, as in ssh). */
  local: string[];
  remote: string[];
  dynamic: string[];
  jump?: string;
  forwardAgent: boolean;
}

/** `ssh -G`'s lines for the options fwd reads, with fwd's values where its defaults differ. */
export function sshGLines(g: GInput): string[] {
  const h = g.host;
  const t = g.target;
  const jump = g.jump === "none" ? undefined : (g.jump ?? h.proxyJump);
  return [
    `host ${g.alias}`,
    `user ${t.user}`,
    `hostname ${h.hostName}`,
    `port ${h.port}`,
    `batchmode ${yesNo(h.batchMode)}`,
    `compression ${yesNo(h.compression)}`,
    `exitonforwardfailure ${yesNo(h.exitOnForwardFailure)}`,
    `forwardagent ${yesNo(g.forwardAgent)}`,
    `identitiesonly ${yesNo(h.identitiesOnly)}`,
    `serveralivecountmax ${h.serverAliveCountMax}`,
    `serveraliveinterval ${h.serverAliveInterval}`,
    // ConnectTimeout unset is "none" for ssh (TCP's own timeout); fwd bounds the whole login by default.
    `connecttimeout ${Math.round(t.connectTimeoutMs / 1000)}`,
    `ciphers ${(h.ciphers ?? DEFAULT_CIPHERS).join(",")}`,
    `stricthostkeychecking ${h.strictHostKeyChecking === "yes" ? "true" : h.strictHostKeyChecking === "no" ? "false" : h.strictHostKeyChecking}`,
    `globalknownhostsfile ${h.globalKnownHostsFiles.join(" ")}`,
    `userknownhostsfile ${h.userKnownHostsFiles.join(" ")}`,
    ...(h.identityAgent !== undefined ? [`identityagent ${h.identityAgent}`] : []),
    ...(h.hostKeyAlgorithms !== undefined ? [`hostkeyalgorithms ${h.hostKeyAlgorithms}`] : []),
    ...(jump !== undefined ? [`proxyjump ${jump}`] : []),
    `permitremoteopen ${h.permitRemoteOpen === undefined ? "any" : h.permitRemoteOpen.length === 0 ? "none" : h.permitRemoteOpen.map((r) => `${r.host}:${r.port}`).join(" ")}`,
    ...h.identityFiles.map((f) => `identityfile ${f}`),
    ...forwardLines("D", [...g.dynamic, ...h.dynamicForwards]),
    ...forwardLines("L", [...g.local, ...h.localForwards]),
    ...forwardLines("R", [...g.remote, ...h.remoteForwards]),
  ];
}

/** `--dry-run` on the ssh-style command: the hops, each forward, the ssh command that does the same. */
export function dryRunLines(hops: SshTarget[], forwards: ForwardSpec[], command?: string): string[] {
  const plan = { targets: { main: hops }, engine: { sessions: [], forwards: forwards.map((f) => ({ ...f, via: "main" })) } } as unknown as ConcretePlan;
  const target = (f: ForwardSpec) =>
    f.kind === "route"
      ? `whatever ${f.networks.join(", ")} it is sent to${f.exclude?.length ? ` (not ${f.exclude.join(", ")})` : ""}`
      : f.kind === "dynamic" || (f.kind === "remote" && !f.target)
        ? "SOCKS"
        : formatEndpoint(f.target!);
  // A forward with no address of its own (X11) takes its connections on the session.
  const where = (f: ForwardSpec) => ("bind" in f && f.bind ? formatEndpoint(f.bind) : "(session)");
  const lines = [
    `session main: ${routeLabel(hops)}`,
    ...hops.map((h, i) => `hop ${i + 1}: ${h.user}@${h.host}:${h.port}${h.identityFiles.length ? `, keys ${h.identityFiles.map((k) => k.path).join(" ")}` : ""}, host keys ${h.hostKey.strict}`),
    ...forwards.map((f) => `forward ${f.id}: ${f.kind} ${f.kind === "remote" ? "on the server " : ""}${where(f)} -> ${target(f)}${socksAuth(f)}`),
    ...(command !== undefined ? [`command: ${command}`] : []),
    ...sshCommandLines(plan).map((l) => `equivalent: ${l}${command !== undefined ? ` -- ${command}` : ""}`),
  ];
  return lines;
}

/** A SOCKS forward's credentials as the redactor shows them: the user, never the password. */
function socksAuth(f: ForwardSpec): string {
  const socks = "socks" in f ? f.socks : undefined;
  if (!socks?.auth) return "";
  const shown = redact(socks).auth!;
  return `, SOCKS user ${shown.user} password ${shown.password}`;
}
