// ssh-style command-line parsing: single-letter options bundled or not (`-vvv`, `-L8080:h:80`,
// `-L 8080:h:80`), options before and after the destination, then the remote command — as OpenSSH
// reads its own argv, plus a few long options of fwd's own.

import { FwdError, fail, ok, type Result } from "../errors.ts";
import { didYouMean } from "./suggest.ts";

/** Letters that take a value, and what we call the value in messages. */
export const WITH_VALUE: Record<string, string> = {
  L: "forward spec", R: "forward spec", D: "forward spec", J: "jump hosts", W: "host:port",
  p: "port", l: "user", i: "identity file", F: "config file", o: "Key=Value", c: "cipher list",
  E: "log file", b: "bind address", S: "control path", m: "MAC list", O: "control command",
};
/** Flags fwd accepts as OpenSSH does. -N/-T/-n are what fwd always does (no shell, no tty). */
export const FLAGS = new Set(["v", "q", "N", "T", "n", "4", "6", "C", "g", "A", "a", "x", "X", "Y", "f", "t", "M", "K", "k", "G", "s", "V"]);
/** Letters OpenSSH knows that fwd does not do; named so the error can say so, not "unknown". */
export const NOT_SUPPORTED: Record<string, string> = {
  f: "run fwd under a service manager (systemd, launchd) or with `&` instead",
  M: "connection sharing is not needed: one fwd process carries all its forwards",
  S: "connection sharing is not needed: one fwd process carries all its forwards",
  O: "connection sharing is not needed: one fwd process carries all its forwards",
  t: "fwd opens no terminal session",
  s: "subsystems are not supported",
  E: "fwd logs to stderr; redirect it with 2>file",
  m: "MAC choice is not configurable",
  K: "GSSAPI is not supported", k: "GSSAPI is not supported",
  b: "use the bind address in each -L spec instead",
  g: "give the bind address in each spec instead (e.g. -L '*:8080:host:80')",
  C: "", "4": "", "6": "", V: "", N: "", T: "", n: "",
};

/** fwd's own long options that take a value (`--allow 10.0.0.0/8` or `--allow=10.0.0.0/8`), repeatable. */
export const LONG_WITH_VALUE = new Set(["allow", "socks-user", "socks-password-file", "pac-domain", "max-retries", "max-connections", "status", "max-window", "route", "exclude", "dns-server"]);
export const LONG_FLAGS = new Set(["json", "version", "help", "pac", "no-reconnect", "once", "dry-run", "status-open-metrics", "dns", "lan"]);

export interface ParsedArgs {
  /** Values of letter options, in order: `o: ["User=x", …]`. */
  values: Record<string, string[]>;
  /** How many times each flag was given (`-vvv` → v: 3). */
  flags: Record<string, number>;
  long: { json: boolean; version: boolean; help: boolean; pac: boolean; "no-reconnect": boolean; once: boolean; "dry-run": boolean; "status-open-metrics": boolean; dns: boolean; lan: boolean };
  /** Values of long options, e.g. `allow: ["10.0.0.0/8"]`. */
  longValues: Record<string, string[]>;
  destination: string | undefined;
  command: string[];
}

export function parseArgv(argv: string[]): Result<ParsedArgs> {
  const out: ParsedArgs = {
    values: {},
    flags: {},
    long: { json: false, version: false, help: false, pac: false, "no-reconnect": false, once: false, "dry-run": false, "status-open-metrics": false, dns: false, lan: false },
    longValues: {},
    destination: undefined,
    command: [],
  };
  let i = 0;
  while (i < argv.length) {
    const arg = argv[i]!;
    if (arg === "--") {
      i++;
      if (out.destination === undefined && i < argv.length) out.destination = argv[i++];
      out.command = argv.slice(i);
      break;
    }
    if (arg.startsWith("--")) {
      const eq = arg.indexOf("=");
      const name = arg.slice(2, eq < 0 ? undefined : eq);
      if (LONG_FLAGS.has(name) && eq < 0) out.long[name as keyof ParsedArgs["long"]] = true;
      else if (LONG_WITH_VALUE.has(name)) {
        const value = eq < 0 ? argv[++i] : arg.slice(eq + 1);
        if (value === undefined) return fail(usage(`--${name} needs a value`));
        (out.longValues[name] ??= []).push(value);
      } else return fail(usage(`unknown option ${arg}`, didYouMean(`--${name}`, [...LONG_FLAGS, ...LONG_WITH_VALUE].map((n) => `--${n}`))));
      i++;
      continue;
    }
    if (arg.startsWith("-") && arg.length > 1) {
      for (let j = 1; j < arg.length; j++) {
        const letter = arg[j]!;
        if (letter in WITH_VALUE) {
          const rest = arg.slice(j + 1);
          const value = rest !== "" ? rest : argv[++i];
          if (value === undefined) return fail(usage(`-${letter} needs a ${WITH_VALUE[letter]}`));
          (out.values[letter] ??= []).push(value);
          break;
        }
        if (!FLAGS.has(letter)) return fail(usage(`unknown option -${letter}`));
        out.flags[letter] = (out.flags[letter] ?? 0) + 1;
      }
      i++;
      continue;
    }
    if (out.destination !== undefined) {
      out.command = argv.slice(i);
      break;
    }
    out.destination = arg;
    i++;
  }
  return ok(out);
}

/** The options that were given but that fwd does not (yet) do, as an error naming the first. */
export function checkSupported(a: ParsedArgs, supported: Set<string>): Result<void> {
  for (const letter of [...Object.keys(a.values), ...Object.keys(a.flags)]) {
    if (supported.has(letter)) continue;
    const why = NOT_SUPPORTED[letter];
    if (why === "") continue; // harmless: fwd already behaves that way
    return fail(usage(`-${letter} is not supported`, why));
  }
  return ok(undefined);
}

const usage = (message: string, hint: string | undefined = undefined) => new FwdError("E_CONFIG", message, hint ?? "see `fwd --help`");
