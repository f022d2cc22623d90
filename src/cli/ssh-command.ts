// `fwd [options] [user@]host[:port]`: the ssh-compatible command. Reads argv and ssh_config into one
// resolved target and a list of forwards, then hands them to the engine.

import type { HostConfig } from "../config/ssh-config.ts";
import { DEFAULT_RECONNECT, type ReconnectPolicy } from "../engine/backoff.ts";
import { DEFAULT_MAX_CONNECTIONS } from "../engine/connections.ts";
import { formatEndpoint, isUnix, reachableHost, type TcpEndpoint } from "../vocab/endpoint.ts";
import type { ForwardSpec } from "../vocab/forward.ts";
import { hostNameProblem } from "../vocab/host-name.ts";
import { parseHostPort, parseDestination } from "../vocab/address.ts";
import { FwdError, fail, ok, type Result } from "../errors.ts";
import type { ExecOptions } from "../engine/link.ts";
import type { SshDeps, SshTarget } from "../ssh/connect.ts";
import { connectRoute, routeLabel } from "../ssh/route.ts";
import { MAX_WINDOW_BYTES, MIN_WINDOW_BYTES, parseSize } from "../ssh/window.ts";
import { VERSION } from "../version.ts";
import { runtimeInfo } from "../runtime/index.ts";
import { checkSupported, parseArgv, type ParsedArgs } from "./argv.ts";
import { EXIT } from "./exit-codes.ts";
import { buildForwards, buildRoute } from "./forwards.ts";
import { preflight } from "../route/nft.ts";
import { HELP } from "./help.ts";
import { COMMANDS } from "./commands.ts";
import { Logger } from "./logger.ts";
import { ProgressLine } from "./progress.ts";
import { nearest } from "./suggest.ts";
import { dryRunLines, sshGLines } from "./resolved-settings.ts";
import { runRemoteCommand } from "./remote-command.ts";
import { x11Setup } from "./x11.ts";
import { engineFor, logEvents, report, serve } from "./serve.ts";
import { runStdioForward } from "./stdio-forward.ts";
import { liveControl } from "./forward-live.ts";
import { statusFlags } from "./status-flag.ts";
import { resolveRoute } from "../config/route.ts";
import { loadConfigContext } from "../config/target.ts";
import { ttyPrompter } from "./tty-prompt.ts";
import { reexecWithTunnelJit } from "../runtime/jit-options.ts";

const SUPPORTED = new Set(["L", "R", "D", "J", "W", "A", "a", "X", "Y", "x", "p", "l", "i", "F", "o", "c", "v", "q", "N", "T", "n", "C", "V", "G"]);

export async function runSsh(argv: string[]): Promise<number> {
  const parsed = parseArgv(argv);
  const quickLog = new Logger({ json: argv.includes("--json"), verbosity: 1 });
  if (!parsed.ok) return report(quickLog, parsed.error);
  const a = parsed.value;
  if (a.long.help) return print(HELP);
  if (a.long.version || a.flags.V) {
    const rt = runtimeInfo();
    return print(`fwd ${VERSION} (${rt.name} ${rt.version}${rt.compiled ? ", standalone binary" : ""})\n`);
  }
  // Before anything is read or printed: -G and --dry-run connect nowhere and need no second start.
  if (!a.flags.G && !a.long["dry-run"]) await reexecWithTunnelJit();
  const verbosity = a.flags.q ? 0 : 1 + (a.flags.v ?? 0);
  const progress = ProgressLine.forTerminal({ json: a.long.json, verbosity });
  const log = new Logger({
    json: a.long.json,
    verbosity,
    out: progress.around((l) => process.stdout.write(l + "\n")),
    err: progress.around((l) => process.stderr.write(l + "\n")),
  });

  const plan = await buildPlan(a);
  if (!plan.ok) return report(log, plan.error);
  const { hops, forwards, host, command, stdio } = plan.value;
  if (host.hostKeyAlgorithms !== undefined) log.log("warn", "ssh config: HostKeyAlgorithms is not supported yet and has no effect");
  if (host.ignoredOptions.length > 0)
    log.log("warn", `ssh config: fwd ignores ${host.ignoredOptions.join(", ")} for ${host.alias}`, "these options have no effect in fwd; the connection goes direct");
  // -G and --dry-run print what this command line resolves to and connect nowhere.
  if (a.flags.G) {
    const lines = sshGLines({
      alias: host.alias,
      host,
      target: hops.at(-1)!,
      local: a.values.L ?? [],
      remote: a.values.R ?? [],
      dynamic: a.values.D ?? [],
      ...(a.values.J ? { jump: a.values.J.at(-1)! } : {}),
      forwardAgent: !a.flags.a && (a.flags.A !== undefined || host.forwardAgent),
    });
    return print(lines.join("\n") + "\n");
  }
  if (a.long["dry-run"]) {
    for (const line of dryRunLines(hops, forwards, command)) log.print(line);
    if (stdio) log.print(`stdio: stdin/stdout to ${formatEndpoint(stdio)} through the server`);
    return EXIT.ok;
  }

  // -X/-Y (or ForwardX11 in a later version): only for a command, as there is no shell to give it to.
  const wantX11 = !a.flags.x && (a.flags.X !== undefined || a.flags.Y !== undefined);
  let x11: Pick<ExecOptions, "x11"> = {};
  if (wantX11) {
    if (command === undefined) return report(log, new FwdError("E_CONFIG", "-X/-Y need a command to run", "e.g. fwd -X host -- xterm"));
    const setup = x11Setup(process.env.DISPLAY, a.flags.Y !== undefined);
    if (!setup.ok) return report(log, setup.error);
    x11 = { x11: setup.value.exec };
    forwards.push(setup.value.forward);
  }
  const asker = ttyPrompter(host.batchMode);
  const deps: SshDeps = {
    // A question must not share a line with the progress line.
    prompt: asker && ((q, o) => (progress.clear(), asker(q, o))),
    log: (level, m) => log.log(level, m),
    progress: (label, stage) => progress.set(`connecting: ${label}: ${stage}`),
  };
  if (stdio) {
    // -W serves a ProxyCommand: its stderr is often the user's terminal, and the line would never be erased.
    progress.done();
    return runStdioForward(hops, stdio, deps, log);
  }
  const engine = engineFor(
    { sessions: [{ name: "main", host: routeLabel(hops), connect: (signal) => connectRoute(hops, deps, signal) }], forwards },
    { exitOnForwardFailure: host.exitOnForwardFailure, reconnect: plan.value.reconnect, maxConnections: plan.value.maxConnections },
  );
  return serve(engine, {
    log,
    progress,
    // With only a command to run there are no forwards to open: no such line.
    events: logEvents(log, forwards.length > 0 ? progress : undefined),
    status: statusFlags(a, liveControl(engine)),
    beforeStart: () => {
      for (const f of forwards)
        if (f.kind === "remote" && !isUnix(f.bind) && !["localhost", "127.0.0.1", "::1"].includes(f.bind.host))
          log.log("info", `${f.id}: the server listens on ${f.bind.host || "every address"} only if its GatewayPorts is yes or clientspecified; otherwise on loopback`);
    },
    afterStart: async (bound) => {
      if (command !== undefined) return runRemoteCommand(engine, command, { agent: hops.at(-1)!.forwardAgent === true, ...x11 }, log);
      if (bound.length === 0) return report(log, new FwdError("E_BIND", "no forward could listen", "see the warnings above"));
      for (const b of bound)
        if (b.spec.kind === "dynamic" && b.spec.socks.pac && !isUnix(b.bound))
          log.print(`pac http://${formatEndpoint({ host: reachableHost(b.bound.host), port: b.bound.port })}/proxy.pac`);
      return undefined;
    },
  });
}

interface Plan {
  host: HostConfig;
  reconnect: ReconnectPolicy;
  maxConnections?: number;
  /** Jump hosts, then the server. */
  hops: SshTarget[];
  /** A command to run on the server (its status becomes fwd's). */
  command?: string;
  /** -W: stdin/stdout to this target, instead of forwards. */
  stdio?: TcpEndpoint;
  forwards: ForwardSpec[];
}

async function buildPlan(a: ParsedArgs): Promise<Result<Plan>> {
  const supported = checkSupported(a, SUPPORTED);
  if (!supported.ok) return supported;
  if (a.destination === undefined)
    return fail(new FwdError("E_CONFIG", "no destination given", "usage: fwd [options] [user@]host[:port] — see `fwd --help`"));
  const dest = parseDestination(a.destination);
  if (!dest.ok) return dest;

  const ctx = await loadConfigContext(a.values.F?.at(-1));
  if (!ctx.ok) return ctx;
  const route = resolveRoute(ctx.value, dest.value, sshOverrides(a), a.values.J?.at(-1));
  if (!route.ok) return route;
  const { host: h, hops } = route.value;
  // `fwd hepl`, `fwd rnu NAME`: a slip for a command, not a host (one with no settings and nothing to forward).
  const bare = !/[@.:[\]]/.test(a.destination) && h.hostName === a.destination.toLowerCase();
  const asked = [a.values.L, a.values.R, a.values.D, a.values.W, h.localForwards, h.remoteForwards, h.dynamicForwards].some((x) => x && x.length > 0);
  const slip = bare && !asked ? nearest(a.destination, COMMANDS.map((c) => c.name)) : undefined;
  if (slip !== undefined)
    return fail(new FwdError("E_CONFIG", `unknown command "${a.destination}"`, `did you mean fwd ${slip}? (for a host of that name, write user@${a.destination} or give -L/-R/-D)`));

  const reconnect = reconnectPolicy(a);
  if (!reconnect.ok) return reconnect;
  const limit = maxConnections(a);
  if (!limit.ok) return limit;
  const forwards = buildForwards(a, h);
  if (!forwards.ok) return forwards;
  const routed = buildRoute(a, hops[0]!.host);
  if (!routed.ok) return routed;
  if (routed.value) {
    // Root and nft are checked before connecting, so their error comes first and alone.
    const can = preflight("--route");
    if (!can.ok) return can;
    forwards.value.push(routed.value);
  }
  const command = a.command.length > 0 ? a.command.join(" ") : undefined;
  const stdioSpec = a.values.W?.at(-1);
  const stdio = stdioSpec === undefined ? undefined : parseHostPort(stdioSpec, 0);
  if (stdioSpec !== undefined && (!stdio || stdio.port === 0)) {
    // Say what is wrong with the host when that is what failed (a control character, a 300-byte name).
    const why = hostNameProblem(stdioSpec.replace(/:[^:\]]*$/, "").replace(/^\[(.*)\]$/, "$1"));
    return fail(new FwdError("E_CONFIG", `-W '${stdioSpec}': ${why ? `target host: ${why}` : "expected host:port"}`, "e.g. -W db.internal:22, or in ssh_config: ProxyCommand fwd -W %h:%p bastion"));
  }
  if (forwards.value.length === 0 && command === undefined && !stdio && !a.flags.G)
    return fail(new FwdError("E_CONFIG", "nothing to forward", "add -L, -R, -D or --route (or LocalForward/RemoteForward/DynamicForward in ssh config), or a command to run"));
  // -A, or ForwardAgent yes (and -a wins, as in ssh): the agent goes to the final host only.
  const agent = !a.flags.a && (a.flags.A !== undefined || h.forwardAgent);
  const last = hops.at(-1)!;
  if (agent && !a.flags.G) {
    if (!last.agentSocket) return fail(new FwdError("E_CONFIG", "-A: there is no agent to forward", "start ssh-agent and ssh-add your key (SSH_AUTH_SOCK must be set)"));
    last.forwardAgent = true;
  }
  const windowFlag = a.longValues["max-window"]?.at(-1);
  if (windowFlag !== undefined) {
    const bytes = parseSize(windowFlag);
    if (bytes === undefined || bytes < MIN_WINDOW_BYTES || bytes > MAX_WINDOW_BYTES)
      return fail(new FwdError("E_CONFIG", `--max-window '${windowFlag}': expected a size from 2M to 1G`, "e.g. --max-window 64M for a fast link far away, --max-window 2M to keep OpenSSH's fixed window"));
    for (const hop of hops) hop.maxWindowBytes = bytes;
  }

  return ok({ host: h, reconnect: reconnect.value, ...(limit.value !== undefined ? { maxConnections: limit.value } : {}), forwards: forwards.value, hops, ...(command !== undefined ? { command } : {}), ...(stdio ? { stdio } : {}) });
}

/** -l -p -i -c -C and -o, as -o settings in command-line order (they win over ssh_config). */
export function sshOverrides(a: ParsedArgs): string[] {
  return [
    ...(a.flags.C !== undefined ? ["Compression=yes"] : []),
    ...(a.values.l ?? []).map((u) => `User=${u}`),
    ...(a.values.p ?? []).map((p) => `Port=${p}`),
    ...(a.values.i ?? []).map((f) => `IdentityFile=${f}`),
    ...(a.values.c ?? []).map((c) => `Ciphers=${c}`),
    ...(a.values.o ?? []),
  ];
}

/** --max-connections N: forwarded connections carried at once by this process. */
export function maxConnections(a: ParsedArgs): Result<number | undefined> {
  const raw = a.longValues["max-connections"]?.at(-1);
  if (raw === undefined) return ok(undefined);
  if (!/^\d+$/.test(raw) || Number(raw) < 1)
    return fail(new FwdError("E_CONFIG", `--max-connections '${raw}': expected a whole number of at least 1`, `e.g. --max-connections 10000 (the default is ${DEFAULT_MAX_CONNECTIONS})`));
  return ok(Number(raw));
}

/** --no-reconnect / --once (exit on the first disconnect, as ssh does) and --max-retries N. */
export function reconnectPolicy(a: ParsedArgs): Result<ReconnectPolicy> {
  const raw = a.longValues["max-retries"]?.at(-1);
  const max = raw === undefined ? Infinity : Number(raw);
  if (raw !== undefined && (!/^\d+$/.test(raw) || max < 0))
    return fail(new FwdError("E_CONFIG", `--max-retries '${raw}': expected a whole number`, "e.g. --max-retries 10, or --no-reconnect to exit on the first disconnect"));
  return ok({ ...DEFAULT_RECONNECT, enabled: !a.long["no-reconnect"] && !a.long.once, maxRetries: max });
}

function print(text: string): number {
  process.stdout.write(text);
  return EXIT.ok;
}
