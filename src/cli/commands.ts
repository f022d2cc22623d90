// The table of fwd's commands and their flags: what main.ts dispatches, what `--help`, `fwd help`,
// shell completion and `fwd man` show, and what the small commands (demo, status, …) parse with.
// Imports nothing heavy (suggest.ts only), so help and completion stay as cheap as `fwd --version`.

import { didYouMean } from "./suggest.ts";

/** What a flag's value or a positional argument is, for completion. */
export type Complete = "file" | "host" | "plugin" | "scenario" | "shell" | "command" | "none";

export interface FlagDoc {
  /** `--port`, or a letter option `-f`. */
  flag: string;
  /** The value's name in usage lines (`N`, `FILE`); absent for a switch. */
  value?: string;
  summary: string;
  complete?: Complete;
}

export interface CommandDoc {
  name: string;
  /** Usage lines after `fwd `. */
  usage: string[];
  summary: string;
  /** Positional arguments in order, for completion. */
  args: Complete[];
  flags: FlagDoc[];
  /** Shown at the end of `fwd help COMMAND`. */
  notes?: string[];
}

const JSON_FLAG: FlagDoc = { flag: "--json", summary: "one JSON object per line on stdout" };
const HELP_FLAG: FlagDoc = { flag: "--help", summary: "this help" };
const TO_FLAG: FlagDoc = { flag: "--to", value: "URL", summary: "the running fwd's status page (default: the one started last)" };
const MAX_CONNECTIONS_FLAG: FlagDoc = { flag: "--max-connections", value: "N", summary: "forwarded connections carried at once" };
/** The ssh settings every scenario command passes to each hop. */
const HOP_FLAGS: FlagDoc[] = [
  { flag: "-F", value: "FILE", summary: "ssh config file (or 'none')", complete: "file" },
  { flag: "-o", value: "Key=Value", summary: "an ssh_config option for every hop" },
  { flag: "-i", value: "FILE", summary: "identity file (repeatable)", complete: "file" },
];
const OUTPUT_FLAGS: FlagDoc[] = [
  { flag: "-v", summary: "more detail (-vv: debug)" },
  { flag: "-q", summary: "errors only" },
  JSON_FLAG,
];
/** What `fwd run` and `fwd check` take besides a plugin's own --options. */
const SCENARIO_FLAGS: FlagDoc[] = [
  { flag: "-f", value: "FILE", summary: "a scenario file instead of NAME", complete: "file" },
  { flag: "--plugin", value: "FILE", summary: "load a plugin from this file too (repeatable)", complete: "file" },
  ...HOP_FLAGS,
  { flag: "-c", value: "CIPHERS", summary: "cipher preference" },
  ...OUTPUT_FLAGS,
];

export const COMMANDS: CommandDoc[] = [
  {
    name: "run",
    usage: ["run NAME [--option value …] [--dry-run]", "run -f scenario.toml"],
    summary: "a scenario: yours (~/.config/fwd/scenarios) or a plugin, kept up",
    args: ["scenario"],
    flags: [
      { flag: "--dry-run", summary: "print the plan (sessions, forwards, the equivalent ssh command) and connect nowhere" },
      ...SCENARIO_FLAGS,
      { flag: "--status", value: "[addr:]port", summary: "a live status page" },
      { flag: "--max-retries", value: "N", summary: "give up after N reconnect attempts in a row" },
      { flag: "--no-reconnect", summary: "exit on the first disconnect" },
      MAX_CONNECTIONS_FLAG,
      HELP_FLAG,
    ],
    notes: ["`fwd run PLUGIN --help` lists that plugin's options with their types and defaults."],
  },
  {
    name: "check",
    usage: ["check NAME [--option value …]", "check -f scenario.toml"],
    summary: "connect, run the scenario's probe once, report, exit",
    args: ["scenario"],
    flags: [...SCENARIO_FLAGS, HELP_FLAG],
    notes: ["exit code 0 when the far end answered as it should, 8 when the probe failed."],
  },
  {
    name: "scenarios",
    usage: ["scenarios", "scenarios show PLUGIN"],
    summary: "list plugins and scenarios; explain a plugin's options",
    args: ["none", "plugin"],
    flags: [{ flag: "--plugin", value: "FILE", summary: "load a plugin from this file too", complete: "file" }, HELP_FLAG],
  },
  {
    name: "plugin",
    usage: ["plugin new NAME [DIR]"],
    summary: "write a plugin to start from",
    args: ["none", "none", "file"],
    flags: [HELP_FLAG],
  },
  {
    name: "status",
    usage: ["status [URL] [--json]"],
    summary: "the status page's summary in the terminal",
    args: ["none"],
    flags: [JSON_FLAG, HELP_FLAG],
    notes: ["without URL: the status page fwd started last on this machine."],
  },
  {
    name: "demo",
    usage: ["demo [--once] [--json] [--port N] [--status [address:]port | --no-status]"],
    summary: "a built-in SSH server, a sample service and a tunnel to it",
    args: [],
    flags: [
      { flag: "--once", summary: "check the tunnel end to end, then exit" },
      JSON_FLAG,
      { flag: "--port", value: "N", summary: "the tunnel's local port (default: a free one)" },
      { flag: "--status", value: "[addr:]port", summary: "where the status page listens (default 127.0.0.1, a free port)" },
      { flag: "--no-status", summary: "no status page" },
      HELP_FLAG,
    ],
  },
  {
    name: "completion",
    usage: ["completion bash|zsh|fish"],
    summary: "a shell completion script (see `fwd help completion`)",
    args: ["shell"],
    flags: [HELP_FLAG],
    notes: [
      "bash: echo 'source <(fwd completion bash)' >> ~/.bashrc",
      "zsh:  echo 'source <(fwd completion zsh)' >> ~/.zshrc",
      "fish: fwd completion fish > ~/.config/fish/completions/fwd.fish",
    ],
  },
  {
    name: "up",
    usage: ["up [NAME…] [--dir DIR] [--status [addr:]port]"],
    summary: "every scenario of your folder (or the named ones) in one process; SIGHUP re-reads the folder",
    args: ["scenario", "scenario", "scenario"],
    flags: [
      { flag: "--dir", value: "DIR", summary: "another scenarios folder", complete: "file" },
      { flag: "--status", value: "[addr:]port", summary: "one status page for all of them" },
      ...HOP_FLAGS,
      MAX_CONNECTIONS_FLAG,
      ...OUTPUT_FLAGS,
      HELP_FLAG,
    ],
    notes: ["a new file starts, a removed one stops, a changed one restarts; an unchanged one keeps its connections."],
  },
  {
    name: "reload",
    usage: ["reload [--to URL]"],
    summary: "make a running `fwd up` re-read its folder (as SIGHUP does)",
    args: [],
    flags: [TO_FLAG, HELP_FLAG],
  },
  {
    name: "forward",
    usage: ["forward add -L|-R|-D SPEC [--via SCENARIO|SESSION] [--allow CIDR …] [--to URL]", "forward cancel SPEC|ID [--to URL]"],
    summary: "add or cancel a forward in a running fwd, as ssh -O forward / -O cancel do",
    args: ["none"],
    flags: [
      { flag: "--via", value: "NAME", summary: "the scenario or session to carry it (needed when there are several)" },
      { flag: "--allow", value: "CIDR", summary: "clients allowed to use a -D beyond loopback (repeatable)" },
      TO_FLAG,
      HELP_FLAG,
    ],
  },
  {
    name: "service",
    usage: ["service print|install NAME|--all [--dir DIR] [-- fwd up options…]"],
    summary: "a systemd user unit that keeps `fwd up` running",
    args: ["none", "scenario"],
    flags: [
      { flag: "--all", summary: "every scenario of the folder in one unit" },
      { flag: "--dir", value: "DIR", summary: "another scenarios folder", complete: "file" },
      HELP_FLAG,
    ],
    notes: ["then: systemctl --user daemon-reload && systemctl --user enable --now fwd…; loginctl enable-linger keeps it running without a login."],
  },
  { name: "man", usage: ["man"], summary: "the manual page, as roff (fwd man | man -l -)", args: [], flags: [HELP_FLAG] },
  { name: "help", usage: ["help [COMMAND [PLUGIN]]"], summary: "this list, or one command's help", args: ["command", "plugin"], flags: [] },
];

/** The ssh-style command's options as help, completion and the manual describe them; argv.ts parses them. */
export const SSH_OPTIONS: FlagDoc[] = [
  { flag: "-L", value: "[bind:]port:host:hostport", summary: "a local port that reaches host:hostport as the server sees it" },
  { flag: "-R", value: "[bind:]port[:host:hostport]", summary: "a port on the server that reaches host:hostport from here (SOCKS without a target)" },
  { flag: "-D", value: "[bind:]port", summary: "a local SOCKS4/4a/5 proxy whose connections leave from the server" },
  { flag: "-J", value: "[user@]host[:port][,…]", summary: "jump hosts", complete: "host" },
  { flag: "-W", value: "host:port", summary: "stdin/stdout to host:port through the server" },
  { flag: "-p", value: "port", summary: "the server's port" },
  { flag: "-l", value: "user", summary: "the user to log in as" },
  { flag: "-i", value: "identity_file", summary: "a private key (repeatable)", complete: "file" },
  { flag: "-F", value: "config_file", summary: "ssh config file, or 'none'", complete: "file" },
  { flag: "-o", value: "Key=Value", summary: "an ssh_config option" },
  { flag: "-c", value: "cipher_list", summary: "cipher preference" },
  { flag: "-A", summary: "forward the ssh-agent to the command" },
  { flag: "-a", summary: "do not forward the agent" },
  { flag: "-X", summary: "forward X11 to the command (untrusted)" },
  { flag: "-Y", summary: "forward X11 to the command (trusted)" },
  { flag: "-x", summary: "do not forward X11" },
  { flag: "-C", summary: "compress (zlib@openssh.com)" },
  { flag: "-G", summary: "print the resolved settings as ssh -G does and connect nowhere" },
  { flag: "-N", summary: "accepted for compatibility (fwd never opens a shell)" },
  { flag: "-T", summary: "accepted for compatibility" },
  { flag: "-n", summary: "accepted for compatibility" },
  { flag: "-4", summary: "accepted for compatibility" },
  { flag: "-6", summary: "accepted for compatibility" },
  { flag: "-v", summary: "log each connection (-vv: debug detail)" },
  { flag: "-q", summary: "errors only" },
  { flag: "-V", summary: "print the version" },
  { flag: "--dry-run", summary: "print the plan (forwards, hops, the equivalent ssh command) and connect nowhere" },
  { flag: "--socks-user", value: "NAME", summary: "SOCKS username (with --socks-password-file)" },
  { flag: "--socks-password-file", value: "FILE", summary: "SOCKS password, alone in a file only you can read", complete: "file" },
  { flag: "--allow", value: "CIDR", summary: "clients allowed to use a -D port (repeatable)" },
  { flag: "--pac", summary: "serve a PAC file on the -D port" },
  { flag: "--pac-domain", value: "GLOB", summary: "in the PAC file, only these hosts go through the proxy" },
  { flag: "--route", value: "CIDR", summary: "TCP from this machine to CIDR goes through the server (root, nftables; repeatable)" },
  { flag: "--exclude", value: "CIDR", summary: "with --route: never this network (repeatable)" },
  { flag: "--dns", summary: "with --route: DNS answered through the tunnel" },
  { flag: "--dns-server", value: "IP", summary: "with --dns: this resolver, as the server reaches it" },
  { flag: "--lan", summary: "with --route: also machines that use this one as their gateway, from --allow CIDR only" },
  { flag: "--max-window", value: "SIZE", summary: "how far a channel's receive window may grow (default 16M)" },
  { flag: "--max-retries", value: "N", summary: "give up after N reconnect attempts in a row" },
  { flag: "--max-connections", value: "N", summary: "forwarded connections carried at once (default: as ulimit -n allows)" },
  { flag: "--no-reconnect", summary: "exit on the first disconnect, as ssh does" },
  { flag: "--once", summary: "same as --no-reconnect" },
  { flag: "--status", value: "[addr:]port", summary: "a live status page (JSON API, /metrics)" },
  { flag: "--status-open-metrics", summary: "let /metrics be scraped without the page's token" },
  JSON_FLAG,
  { flag: "--version", summary: "print the version" },
  HELP_FLAG,
];

export const commandNamed = (name: string): CommandDoc | undefined => COMMANDS.find((c) => c.name === name);

export interface CommandFlags {
  /** Switches as true, valued flags as their last value. */
  flags: Record<string, string | true>;
  positionals: string[];
}

/** Reads argv by a command's own flag table: an unknown flag is an error that names the near one. */
export function parseCommandFlags(doc: CommandDoc, argv: string[]): { ok: true; value: CommandFlags } | { ok: false; message: string; hint: string } {
  const byFlag = new Map(doc.flags.map((f) => [f.flag, f]));
  const flags: Record<string, string | true> = {};
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith("-") || arg === "-") {
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf("=");
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    const f = byFlag.get(name);
    const usage = `usage: ${doc.usage.map((u) => `fwd ${u}`).join(" | ")}`;
    if (!f) return { ok: false, message: `${doc.name}: unknown option ${name}`, hint: didYouMean(name, byFlag.keys()) ?? usage };
    if (f.value === undefined) {
      if (eq > 0) return { ok: false, message: `${doc.name}: ${name} takes no value`, hint: usage };
      flags[name] = true;
      continue;
    }
    const value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined) return { ok: false, message: `${doc.name}: ${name} needs a value (${f.value})`, hint: usage };
    flags[name] = value;
  }
  return { ok: true, value: { flags, positionals } };
}

