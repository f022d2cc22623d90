// `fwd host -- command`: runs a command on the server with stdin, stdout and stderr passed through
// and its exit status returned, while the forwards stay up — as ssh does. -A lends it the local
// agent; -X/-Y give it the local X display.

import os from "node:os";
import type { Engine } from "../engine/engine.ts";
import type { ExecOptions } from "../engine/link.ts";
import { FwdError } from "../errors.ts";
import type { Logger } from "./logger.ts";
import { report } from "./serve.ts";


export async function runRemoteCommand(engine: Engine, command: string, opts: ExecOptions, log: Logger): Promise<number> {
  const link = await engine.link();
  if (!link.ok) return report(log, link.error);
  if (!link.value.exec) return report(log, new FwdError("E_CONFIG", "this connection cannot run commands", "only SSH sessions can"));
  const proc = await link.value.exec(command, opts);
  if (!proc.ok) return report(log, proc.error);
  const { stdin, stdout, stderr, exit } = proc.value;
  process.stdin.pipe(stdin);
  stdout.pipe(process.stdout, { end: false });
  stderr.pipe(process.stderr, { end: false });
  const { code, signal } = await exit;
  process.stdin.unpipe(stdin);
  process.stdin.pause();
  // As ssh: the command's own status, or 128 + the signal that ended it, or 255 when neither came.
  // ssh2 names signals as the protocol does ("TERM"), or with the prefix ("SIGTERM").
  const number = signal ? (os.constants.signals as Record<string, number>)[`SIG${signal.replace(/^SIG/, "")}`] : undefined;
  return code ?? (number ? 128 + number : 255);
}
