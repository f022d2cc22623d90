#!/usr/bin/env bun
// fwd's entry point: pick the command, run it, turn its outcome into an exit code. The only place
// that exits; everything below returns values.

import { checkScenario } from "./cli/check.ts";
import { runDemo } from "./cli/demo.ts";
import { pluginCommand } from "./cli/plugin-new.ts";
import { runScenario } from "./cli/run.ts";
import { listScenarios } from "./cli/scenarios.ts";
import { statusCommand } from "./cli/status.ts";
import { EXIT, exitCodeFor } from "./cli/exit-codes.ts";
import { runSsh } from "./cli/ssh-command.ts";
import { isFwdError } from "./errors.ts";

const COMMANDS: Record<string, (argv: string[]) => Promise<number>> = {
  demo: runDemo,
  run: runScenario,
  check: checkScenario,
  scenarios: listScenarios,
  plugin: pluginCommand,
  status: statusCommand,
};

async function main(argv: string[]): Promise<number> {
  const command = argv[0] !== undefined ? COMMANDS[argv[0]] : undefined;
  try {
    return command ? await command(argv.slice(1)) : await runSsh(argv);
  } catch (e) {
    if (isFwdError(e)) {
      process.stderr.write(`fwd: ${e.toLine()}\n`);
      return exitCodeFor(e.code);
    }
    process.stderr.write(`fwd: internal error (a bug; please report it):\n${(e as Error)?.stack ?? e}\n`);
    return EXIT.bug;
  }
}

process.exit(await main(process.argv.slice(2)));
