// Reads OpenSSH client config (ssh_config(5)) and resolves one host's settings the way ssh does:
// -o options first, then the file in order, the first value of each option winning.
//
// The `ssh-config` package tokenizes the files (quotes, `=` separators, comments, Host sections). Its
// `compute()` is not used: it leaves Include alone, matches `?` as "zero or one character", runs
// `Match exec` commands and `nslookup` by default, and cannot express a Host inside an Included file
// inside a Host. So Includes are expanded here into a flat list of entries, each carrying the
// conditions (Host patterns, Match criteria) that must all hold for it to apply.

import { readdir } from "node:fs/promises";
import { isAbsolute, join } from "node:path";
import { LineType, parse, type Line } from "ssh-config";
import type { OpenRule } from "../vocab/forward.ts";
import { FwdError, fail, ok, type Result } from "../errors.ts";
import { readTrusted, trustContext, UNTRUSTED } from "../file-trust.ts";
import { buildHostConfig, HARMLESS_OPTIONS, REPEATABLE_OPTIONS, SUPPORTED_OPTIONS } from "./ssh-config-schema.ts";

/** One host's settings, resolved and validated; paths are expanded, forwards are in -L/-R/-D form. */
export interface HostConfig {
  alias: string;
  /** HostName with %h expanded, lower case as ssh makes it; the alias when none is set. */
  hostName: string;
  /** Unset means "the local user", left to the CLI. */
  user?: string;
  port: number;
  identityFiles: string[];
  /** No IdentityFile was configured and these are ssh's defaults: a missing one is not worth a warning. */
  identityFilesAreDefault: boolean;
  identitiesOnly: boolean;
  /** A socket path, or as written when it is "none", "SSH_AUTH_SOCK" or an environment variable. */
  identityAgent?: string;
  localForwards: string[];
  remoteForwards: string[];
  dynamicForwards: string[];
  userKnownHostsFiles: string[];
  globalKnownHostsFiles: string[];
  strictHostKeyChecking: "yes" | "accept-new" | "no" | "ask";
  /** Seconds; unset (or 0/none in the config) means no timeout of fwd's own choosing. */
  connectTimeout?: number;
  serverAliveInterval: number;
  serverAliveCountMax: number;
  exitOnForwardFailure: boolean;
  proxyJump?: string;
  forwardAgent: boolean;
  batchMode: boolean;
  hostKeyAlgorithms?: string;
  /** Cipher preference (Ciphers, or -c). */
  ciphers?: string[];
  /** Compression yes (or -C): offer zlib@openssh.com and zlib, as ssh does; off by default, as in ssh. */
  compression: boolean;
  /** Where a reverse SOCKS forward may connect (PermitRemoteOpen); absent means any, empty none. */
  permitRemoteOpen?: readonly OpenRule[];
  /** Options from the files that apply here but that fwd ignores (ProxyCommand, …): worth a warning. */
  ignoredOptions: string[];
}

/** Match criteria fwd evaluates; any other criterion (exec, canonical, final, …) makes its block not apply. */
export interface MatchCriterion {
  name: string;
  negate: boolean;
  /** A comma-separated pattern list; empty for `all`. */
  patterns: string;
}

export type Condition = { kind: "host"; patterns: string[] } | { kind: "match"; criteria: MatchCriterion[] };

/** One option line, with every Host/Match condition (outer ones first) that must hold for it to apply. */
export interface ConfigEntry {
  /** Lower case, for lookups. */
  key: string;
  /** As fwd spells it in messages (`Port`), or as written for options fwd does not know. */
  name: string;
  /** A string for single-valued options, a list for ssh's multi-valued ones (UserKnownHostsFile, …). */
  value: string | string[];
  /** The file, shown with `~` for the home directory, or "-o". */
  source: string;
  when: readonly Condition[];
}

export interface SshConfigSource {
  /** Every file read, Includes included, in reading order. */
  files: string[];
  entries: readonly ConfigEntry[];
}

/** OpenSSH's READCONF_MAX_DEPTH. */
const MAX_INCLUDE_DEPTH = 16;

const configError = (message: string, hint?: string): FwdError => new FwdError("E_CONFIG", message, hint);

const displayPath = (path: string, home: string): string =>
  path.startsWith(`${home}/`) ? `~${path.slice(home.length)}` : path;

/**
 * Reads `file` (ssh's -F) or, when it is undefined, ~/.ssh/config if that exists. `-F none` reads nothing,
 * as in ssh. /etc/ssh/ssh_config is not read.
 */
export async function loadSshConfig(file: string | undefined, home: string): Promise<Result<SshConfigSource>> {
  const source = { files: [], entries: [] };
  if (file === "none") return ok(source);
  const path = file ?? join(home, ".ssh", "config");
  const read = await readConfigFile(path, { home, source, depth: 0 }, [], file === undefined);
  return read.ok ? ok(source) : read;
}

interface ReadContext {
  home: string;
  /** Filled in while reading; handed out read-only. */
  source: { files: string[]; entries: ConfigEntry[] };
  depth: number;
}

async function readConfigFile(path: string, ctx: ReadContext, when: readonly Condition[], missingOk: boolean): Promise<Result<void>> {
  const shown = displayPath(path, ctx.home);
  // Owner you or root and writable by nobody else, the file and the directories above it: OpenSSH
  // refuses ("Bad owner or permissions") a config others can change, as it could run any ProxyJump.
  const read = readTrusted(path, { what: "ssh config" }, trustContext(ctx.home));
  if (!read.ok) {
    const code = read.error.reason;
    if (code === UNTRUSTED) return read;
    if (code === "ENOENT" && missingOk) return ok(undefined);
    if (code === "ENOENT") return fail(configError(`-F ${shown}: no such file`, "check the path, or leave -F out to read ~/.ssh/config"));
    return fail(configError(`${shown}: cannot read: ${(read.error.cause as Error | undefined)?.message ?? "not a regular file"}`));
  }
  const text = read.value.toString("utf8");
  let lines: Line[];
  try {
    lines = parse(text);
  } catch (e) {
    // the package throws on unbalanced quotes, a Host with no pattern, a Match criterion with no value
    return fail(configError(`${shown}: cannot parse: ${(e as Error).message}`, "fix the line it names; see ssh_config(5)"));
  }
  ctx.source.files.push(path);
  return walk(lines, when, shown, ctx);
}

/** A directive's value as its words; the package gives a string when there is only one. */
const words = (value: string | { val: string }[]): string[] =>
  Array.isArray(value) ? value.map((w) => w.val) : value === "" ? [] : [value];

async function walk(lines: Line[], when: readonly Condition[], shown: string, ctx: ReadContext): Promise<Result<void>> {
  for (const line of lines) {
    if (line.type !== LineType.DIRECTIVE) continue;
    // the package reads a keyword with no value as a keyword ending in "\n" whose value is the next line
    if (/\s/.test(line.param) || words(line.value).length === 0) {
      return fail(configError(`${shown}: ${line.param.trim()}: missing value`, "every option needs a value; see ssh_config(5)"));
    }
    const key = line.param.toLowerCase();
    if ("config" in line && (key === "host" || key === "match")) {
      const cond = key === "host" ? ok<Condition>({ kind: "host", patterns: words(line.value) }) : parseMatch(words(line.value), shown);
      if (!cond.ok) return cond;
      // Host and Match end the previous section, so a section's conditions are its file's plus its own
      const done = await walk(line.config, [...when, cond.value], shown, ctx);
      if (!done.ok) return done;
    } else if (key === "include") {
      const done = await include(words(line.value), when, shown, ctx);
      if (!done.ok) return done;
    } else {
      ctx.source.entries.push({
        key,
        name: SUPPORTED_OPTIONS.get(key) ?? line.param,
        value: Array.isArray(line.value) ? words(line.value) : line.value,
        source: shown,
        when,
      });
    }
  }
  return ok(undefined);
}

function parseMatch(args: string[], shown: string): Result<Condition> {
  const criteria: MatchCriterion[] = [];
  for (let i = 0; i < args.length; i++) {
    const word = args[i] ?? "";
    const negate = word.startsWith("!");
    const name = (negate ? word.slice(1) : word).toLowerCase();
    if (name === "all" || name === "canonical" || name === "final") {
      criteria.push({ name, negate, patterns: "" });
      continue;
    }
    const patterns = args[++i];
    if (patterns === undefined) return fail(configError(`${shown}: Match ${word}: missing argument`));
    criteria.push({ name, negate, patterns });
  }
  return ok({ kind: "match", criteria });
}

/**
 * Include as OpenSSH does it: relative paths live in ~/.ssh, globs are sorted, files that do not exist
 * are skipped, and the included lines apply only where the Include line itself applies.
 */
async function include(args: string[], when: readonly Condition[], shown: string, ctx: ReadContext): Promise<Result<void>> {
  if (ctx.depth >= MAX_INCLUDE_DEPTH) {
    return fail(configError(`${shown}: Include nested more than ${MAX_INCLUDE_DEPTH} deep`, "look for a file that includes itself"));
  }
  for (const arg of args) {
    const path = arg === "~" || arg.startsWith("~/") ? ctx.home + arg.slice(1) : isAbsolute(arg) ? arg : join(ctx.home, ".ssh", arg);
    for (const file of await expandGlob(path)) {
      const done = await readConfigFile(file, { ...ctx, depth: ctx.depth + 1 }, when, true);
      if (!done.ok) return done;
    }
  }
  return ok(undefined);
}

const hasWildcard = (s: string): boolean => /[*?]/.test(s);

/** glob(3) for `*` and `?` only: one path component at a time, sorted, hidden names only by a '.' pattern. */
async function expandGlob(pattern: string): Promise<string[]> {
  if (!hasWildcard(pattern)) return [pattern];
  let paths = [pattern.startsWith("/") ? "/" : "."];
  for (const part of pattern.split("/").filter(Boolean)) {
    const next: string[] = [];
    for (const dir of paths) {
      if (!hasWildcard(part)) {
        next.push(join(dir, part));
        continue;
      }
      const names = await readdir(dir).catch(() => [] as string[]);
      for (const name of names.sort()) {
        if (patternMatches(name, part) && (!name.startsWith(".") || part.startsWith("."))) next.push(join(dir, name));
      }
    }
    paths = next;
  }
  return paths;
}

/** OpenSSH's match_pattern: `*` is any run of characters, `?` exactly one; case-sensitive like ssh. */
function patternMatches(text: string, pattern: string): boolean {
  const body = pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".");
  return new RegExp(`^${body}$`, "s").test(text);
}

/** A pattern list matches when a positive pattern matches and no `!` pattern does (Host lines, Match lists). */
function patternListMatches(patterns: readonly string[], text: string): boolean {
  let hit = false;
  for (const p of patterns) {
    const negated = p.startsWith("!");
    if (patternMatches(text, negated ? p.slice(1) : p)) {
      if (negated) return false;
      hit = true;
    }
  }
  return hit;
}

/** Parses `-o` options (`Key=Value` or `Key Value`, any case) into entries that apply everywhere. */
function parseOverrides(overrides: readonly string[]): Result<ConfigEntry[]> {
  const entries: ConfigEntry[] = [];
  const hint = `fwd accepts -o for ${[...SUPPORTED_OPTIONS.values()].join(", ")}`;
  for (const o of overrides) {
    let lines: Line[];
    try {
      lines = parse(o);
    } catch (e) {
      return fail(configError(`-o '${o}': ${(e as Error).message}`, hint));
    }
    const directives = lines.filter((l) => l.type === LineType.DIRECTIVE);
    const d = directives[0];
    if (directives.length !== 1 || d === undefined || d.type !== LineType.DIRECTIVE) {
      return fail(configError(`-o '${o}': expected one Key=Value`, hint));
    }
    if (words(d.value).length === 0) return fail(configError(`-o '${o}': missing value`, hint));
    const key = d.param.toLowerCase();
    if (key === "host" || key === "match" || key === "include") {
      return fail(configError(`-o '${o}': ${d.param} is not supported on the command line`, hint));
    }
    if (!SUPPORTED_OPTIONS.has(key) && !HARMLESS_OPTIONS.has(key)) {
      return fail(configError(`-o '${o}': unknown or unsupported option "${d.param}"`, hint));
    }
    const value = Array.isArray(d.value) ? words(d.value) : d.value;
    entries.push({ key, name: SUPPORTED_OPTIONS.get(key) ?? d.param, value, source: "-o", when: [] });
  }
  return ok(entries);
}

/** The entries that apply to a host, as ssh picks them: the first of each option, every repeatable one. */
export interface PickedOptions {
  first: Map<string, ConfigEntry>;
  all: Map<string, ConfigEntry[]>;
  /** Options that apply to the host but that fwd neither acts on nor counts as harmless, and skipped Match kinds. */
  ignored: string[];
}

function pick(entries: readonly ConfigEntry[], alias: string, localUser: string): PickedOptions {
  const first = new Map<string, ConfigEntry>();
  const all = new Map<string, ConfigEntry[]>();
  const ignored = new Set<string>();
  // a Match is decided once, where it stands in the file, with the HostName and User known at that point
  const decided = new Map<Condition, boolean>();
  const current = (key: string, fallback: string): string => {
    const e = first.get(key);
    return e === undefined ? fallback : String(e.value).replaceAll("%h", alias);
  };
  const holds = (c: Condition): boolean => {
    if (c.kind === "host") return patternListMatches(c.patterns, alias);
    const known = decided.get(c);
    if (known !== undefined) return known;
    const subject: Record<string, string> = {
      host: current("hostname", alias),
      originalhost: alias,
      user: current("user", localUser),
      localuser: localUser,
    };
    const result = c.criteria.every((m) => {
      if (m.name === "all") return !m.negate;
      const text = subject[m.name];
      if (text === undefined) {
        ignored.add(`Match ${m.name}`);
        return false;
      }
      return patternListMatches(m.patterns.split(","), text) !== m.negate;
    });
    decided.set(c, result);
    return result;
  };
  for (const e of entries) {
    if (!e.when.every(holds)) continue;
    if (!SUPPORTED_OPTIONS.has(e.key) && !HARMLESS_OPTIONS.has(e.key)) ignored.add(e.name);
    if (REPEATABLE_OPTIONS.has(e.key)) all.set(e.key, [...(all.get(e.key) ?? []), e]);
    else if (!first.has(e.key)) first.set(e.key, e);
  }
  return { first, all, ignored: [...ignored] };
}

/**
 * The settings for `alias`: `overrides` (-o, and whatever the CLI turns into -o such as `user@`) first,
 * then the config in order. Values that apply are validated; ones that do not apply are not looked at.
 */
export function resolveHost(
  src: SshConfigSource,
  alias: string,
  overrides: readonly string[],
  ctx: { localUser: string; home: string },
): Result<HostConfig> {
  const cli = parseOverrides(overrides);
  if (!cli.ok) return cli;
  return buildHostConfig(pick([...cli.value, ...src.entries], alias, ctx.localUser), alias, ctx);
}
