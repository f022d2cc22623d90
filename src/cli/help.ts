// The text of `fwd --help` (OpenSSH's flags as fwd reads them, with examples from the field) and of
// `fwd help COMMAND` / `fwd COMMAND --help`, both drawn from the command table in commands.ts.

import { COMMANDS, commandNamed, type CommandDoc, type FlagDoc } from "./commands.ts";
import { didYouMean } from "./suggest.ts";

/** `  usage   summary`, the summary on a line of its own when the usage is too long to share one. */
const row = (usage: string, summary: string, width: number) =>
  usage.length < width ? `  ${usage.padEnd(width)}${summary}` : `  ${usage}\n  ${"".padEnd(width)}${summary}`;

const commandList = () =>
  [row("fwd [options] [user@]host[:port]", "carry the forwards given by -L, -R and -D", 38), ...COMMANDS.map((c) => row(`fwd ${c.usage[0]}`, c.summary, 38))].join("\n");

export const HELP = `fwd — SSH port forwarding in one binary

usage:
${commandList()}

forwarding (repeatable, as in ssh):
  -L [bind_address:]port:host:hostport  a local port that reaches host:hostport as the server sees it
  -L [bind_address:]port:/remote.sock   ... or a unix socket on the server
  -R [bind_address:]port:host:hostport  a port on the server that reaches host:hostport from here
  -R [bind_address:]port                ... speaking SOCKS, connecting from here (reverse dynamic)
  -D [bind_address:]port                a local SOCKS4/4a/5 proxy whose connections leave from the server
     port 0 picks a free port (for -R the server picks); the bound port is printed.
     bind_address defaults to loopback; '*' means every address (for -R, if the server's GatewayPorts allows).

SOCKS (-D, and -R without a target):
  --socks-user NAME --socks-password-file FILE   require username/password (RFC 1929)
  --allow CIDR        clients allowed to use a -D port (repeatable); a -D bound beyond loopback
                      needs --allow or a password, so fwd is never an open proxy by accident
  --pac               serve http://<-D address>/proxy.pac for browsers (printed at start)
  --pac-domain GLOB   in the PAC file, send only these hosts through the proxy (e.g. '*.intranet')

transparent routing (Linux, root, nftables; no proxy settings in the programs):
  --route CIDR        TCP from this machine to CIDR goes through the server (repeatable)
  --exclude CIDR      never through the tunnel (repeatable); the server's own address never is
  --dns               DNS answered through the tunnel (the server's resolver, or --dns-server IP)
  --lan               also machines that use this one as their gateway, from --allow CIDR only

jump hosts, commands, agent, X11 (as ssh):
  -J [user@]host[:port][,…]   jump hosts (also ProxyJump in ssh config)
  -W host:port        stdin/stdout to host:port through the server (for ProxyCommand)
  host -- command     run a command on the server; fwd exits with its status
  -A / -a             forward the ssh-agent to that command / don't
  -X / -Y / -x        forward X11 to that command (untrusted / trusted) / don't

connection (as ssh):
  -p port  -l user  -i identity_file (repeatable)  -F config_file (or 'none')  -c cipher,...
  -o Key=Value   User, Port, HostName, IdentityFile, IdentitiesOnly, IdentityAgent, BatchMode,
                 StrictHostKeyChecking (yes | accept-new | no | ask), UserKnownHostsFile,
                 ConnectTimeout, ExitOnForwardFailure, ServerAliveInterval, ServerAliveCountMax,
                 LocalForward, RemoteForward, DynamicForward, ProxyJump, ForwardAgent, Ciphers,
                 Compression
  -C             compress (zlib@openssh.com), for thin links; same as -o Compression=yes
  -N -T -n -4 -6 accepted for compatibility (fwd never opens a shell)
  --max-window SIZE  how far each channel's receive window may grow (default 16M; 2M keeps
                 OpenSSH's fixed window): long links go faster with a larger one

staying up:
  --max-retries N     give up after N reconnect attempts in a row (default: never)
  --max-connections N forwarded connections carried at once (default: as ulimit -n allows)
  --no-reconnect      exit on the first disconnect, as ssh does (also --once)
  --status [addr:]port  a live status page (JSON API, /metrics); SIGHUP reconnects now
  --status-open-metrics  let /metrics be scraped without the status page's token

checking (connects nowhere):
  -G             print the resolved settings as \`ssh -G\` does (lower-case "key value" lines)
  --dry-run      print the plan: forwards, hops and the equivalent ssh command

output:
  -v / -vv       also log each connection / debug detail     -q   errors only
  --json         one JSON object per log line on stdout
  --version, -V  print the version                           --help  this text

examples:
  fwd -L 3306:db.internal:3306 deploy@bastion.example.com     MySQL on B, through bastion A
  fwd -L 8080:localhost:80 a.example.com                      a web server on A itself
  fwd -L 0:wiki.lan:80 -L 5901:desk.lan:5901 a.example.com    two forwards, one session
  fwd -L 127.0.0.1:5432:/var/run/postgresql/.s.PGSQL.5432 db   a unix socket on the server
  fwd -R 3389:localhost:3389 a.example.com                    a home RDP reachable on A's loopback
  fwd -R '*:8080:localhost:3000' a.example.com                a local web server on A's public address
  fwd -D 1080 a.example.com                                   browse through A (SOCKS on 127.0.0.1:1080)
  fwd -D '*:1080' --allow 192.168.1.0/24 a.example.com        ... shared with the LAN

exit codes:
  0 stopped cleanly   2 bad flags or config   3 could not connect   4 authentication failed
  5 host key refused  6 a forward failed      7 session lost        8 probe failed (fwd check)
  1 internal error    130 forced stop

authentication: ssh-agent (SSH_AUTH_SOCK), then -i / IdentityFile keys (default ~/.ssh/id_ed25519,
id_ecdsa, id_rsa), then keyboard-interactive and password when a terminal can ask.
host keys: checked against ~/.ssh/known_hosts and /etc/ssh/ssh_known_hosts; a changed key is refused.
more: fwd help COMMAND, fwd run PLUGIN --help, fwd man
`;

const flagLine = (f: FlagDoc) => row(`${f.flag}${f.value ? ` ${f.value}` : ""}`, f.summary, 26);

/** `fwd help run`, `fwd run --help`: usage, summary, the flags the command parses, notes. */
export function commandHelp(doc: CommandDoc): string {
  const [first, ...more] = doc.usage;
  const lines = [`usage: fwd ${first}`, ...more.map((u) => `       fwd ${u}`), "", doc.summary];
  if (doc.flags.length > 0) lines.push("", "options:", ...doc.flags.map(flagLine));
  if (doc.notes) lines.push("", ...doc.notes);
  return lines.join("\n") + "\n";
}

export type HelpRequest = { text: string } | { plugin: string; pluginFiles: string[]; command: string } | { error: string; hint: string };

/**
 * What `fwd help …` or `fwd COMMAND … --help` asks for, or undefined when argv is no help request.
 * `--help` after `--` belongs to a remote command, not to fwd.
 */
export function helpRequest(argv: string[]): HelpRequest | undefined {
  if (argv[0] === "help") {
    const [, name, plugin] = argv;
    if (name === undefined || name.startsWith("-")) return { text: HELP };
    const doc = commandNamed(name);
    if (!doc) return { error: `help: no command named "${name}"`, hint: didYouMean(name, COMMANDS.map((c) => c.name)) ?? `commands: ${COMMANDS.map((c) => c.name).join(", ")}` };
    if (plugin !== undefined && (name === "run" || name === "check")) return { plugin, pluginFiles: [], command: name };
    return { text: commandHelp(doc) };
  }
  const doc = argv[0] === undefined ? undefined : commandNamed(argv[0]);
  if (!doc) return undefined;
  const rest = argv.slice(1);
  const end = rest.indexOf("--");
  const mine = end < 0 ? rest : rest.slice(0, end);
  if (!mine.includes("--help") && !mine.includes("-h")) return undefined;
  if (doc.name === "run" || doc.name === "check") {
    // A name given too (`fwd run mysql-via-bastion --help`): that plugin's options.
    const pluginFiles: string[] = [];
    let name: string | undefined;
    for (let i = 0; i < mine.length; i++) {
      const a = mine[i]!;
      if (a === "--plugin" || a === "-f") {
        if (a === "--plugin" && mine[i + 1] !== undefined) pluginFiles.push(mine[i + 1]!);
        i++;
      } else if (!a.startsWith("-") && name === undefined) name = a;
    }
    if (name !== undefined) return { plugin: name, pluginFiles, command: doc.name };
  }
  return { text: commandHelp(doc) };
}
