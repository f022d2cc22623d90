#!/usr/bin/env bun
// fwd's entry point: pick the command, run it, turn its outcome into an exit code. The only place
// that exits; everything below returns values.
//
// Commands are imported when chosen, not before: ssh2, hono, valibot and the plugins cost ~100 ms
// and ~30 MiB to evaluate, and `fwd --version`, `fwd --help` or `fwd status` need none of them.

import { EXIT, exitCodeFor } from "./cli/exit-codes.ts";
import { isFwdError } from "./errors.ts";

type Command = (argv: string[]) => Promise<number>;

/**
 * The commands that carry traffic for as long as they run: they start again with tunnel JIT settings
 * (runtime/jit-options.ts). The ssh-style command decides for itself, once it knows its flags.
 */
const LONG_RUNNING = new Set(["run", "up", "demo"]);
const tuneJit = async () => (await import("./runtime/jit-options.ts")).reexecWithTunnelJit();

const COMMANDS: Record<string, () => Promise<Command>> = {
  demo: async () => (await import("./cli/demo.ts")).runDemo,
  run: async () => (await import("./cli/run.ts")).runScenario,
  check: async () => (await import("./cli/check.ts")).checkScenario,
  scenarios: async () => (await import("./cli/scenarios.ts")).listScenarios,
  plugin: async () => (await import("./cli/plugin-new.ts")).pluginCommand,
  status: async () => (await import("./cli/status.ts")).statusCommand,
  completion: async () => (await import("./cli/completion.ts")).completionCommand,
  man: async () => (await import("./cli/man.ts")).manCommand,
  // Hidden: what the completion scripts call for the words to offer.
  __complete: async () => (await import("./cli/completion.ts")).completeCommand,
  up: async () => (await import("./cli/up.ts")).upCommand,
  reload: async () => (await import("./cli/live-client.ts")).reloadCommand,
  forward: async () => (await import("./cli/live-client.ts")).forwardCommand,
  service: async () => (await import("./cli/service.ts")).serviceCommand,
};

/** `fwd help …`, `fwd COMMAND --help`, `fwd run PLUGIN --help`: from the command table, before any command loads. */
async function helpAnswer(argv: string[]): Promise<number | undefined> {
  const { helpRequest } = await import("./cli/help.ts");
  const req = helpRequest(argv);
  if (req === undefined) return undefined;
  if ("text" in req) {
    process.stdout.write(req.text);
    return EXIT.ok;
  }
  if ("error" in req) {
    process.stderr.write(`fwd: ${req.error}\n  hint: ${req.hint}\n`);
    return EXIT.config;
  }
  return (await import("./cli/scenarios.ts")).pluginHelp(req.plugin, req.pluginFiles, req.command);
}

/** `--version`/`-V` and `--help` answered without loading the forwarding code, as `ssh -V` does. */
async function quickAnswer(argv: string[]): Promise<number | undefined> {
  const { parseArgv } = await import("./cli/argv.ts");
  const parsed = parseArgv(argv);
  if (!parsed.ok) return undefined; // the full command reports it, in its own format
  const a = parsed.value;
  if (a.long.help) {
    process.stdout.write((await import("./cli/help.ts")).HELP);
    return EXIT.ok;
  }
  if (a.long.version || a.flags.V) {
    const [{ VERSION }, { runtimeInfo }] = await Promise.all([import("./version.ts"), import("./runtime/index.ts")]);
    const rt = runtimeInfo();
    process.stdout.write(`fwd ${VERSION} (${rt.name} ${rt.version}${rt.compiled ? ", standalone binary" : ""})\n`);
    return EXIT.ok;
  }
  return undefined;
}

async function main(argv: string[]): Promise<number> {
  const load = argv[0] !== undefined ? COMMANDS[argv[0]] : undefined;
  try {
    const help = await helpAnswer(argv);
    if (help !== undefined) return help;
    if (load) {
      if (LONG_RUNNING.has(argv[0]!)) await tuneJit();
      return await (await load())(argv.slice(1));
    }
    const quick = await quickAnswer(argv);
    if (quick !== undefined) return quick;
    return await (await import("./cli/ssh-command.ts")).runSsh(argv);
  } catch (e) {
    if (isFwdError(e)) {
      process.stderr.write(`fwd: ${e.toLine()}\n`);
      return exitCodeFor(e.code);
    }
    process.stderr.write(`fwd: internal error (a bug; please report it):\n${(e as Error)?.stack ?? e}\n`);
    return EXIT.bug;
  }
}

void main(process.argv.slice(2)).then((code) => process.exit(code));
