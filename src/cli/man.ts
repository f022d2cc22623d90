// `fwd man`: the manual page as roff, from the same tables as --help and completion, so
// `fwd man | man -l -` (or a copy in man1/fwd.1) never says something the parser does not.

import { COMMANDS, SSH_OPTIONS, type FlagDoc } from "./commands.ts";
import { EXIT } from "./exit-codes.ts";
import { VERSION } from "../version.ts";

/** Text made safe for roff: backslashes and dashes escaped, no line starting with a control character. */
const esc = (s: string) =>
  s
    .replace(/\\/g, "\\e")
    .replace(/-/g, "\\-")
    .replace(/^['.]/gm, "\\&$&")
    // Non-ASCII as roff's named code points, so the page needs no input encoding (groff without -k).
    .replace(/[^\x00-\x7f]/g, (c) => `\\[u${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")}]`);

const flagItem = (f: FlagDoc) => `.TP\n.B ${esc(f.flag)}${f.value ? ` \\fI${esc(f.value)}\\fR` : ""}\n${esc(f.summary)}`;

export function manPage(): string {
  const out = [
    `.TH FWD 1 "" "fwd ${esc(VERSION)}" "User Commands"`,
    ".SH NAME",
    "fwd \\- SSH port forwarding in one binary",
    ".SH SYNOPSIS",
    ".B fwd",
    "[\\fIoptions\\fR] [\\fIuser\\fR@]\\fIhost\\fR[:\\fIport\\fR] [\\fB\\-\\-\\fR \\fIcommand\\fR]",
    ...COMMANDS.flatMap((c) => c.usage.map((u) => `.br\n.B fwd\n${esc(u)}`)),
    ".SH DESCRIPTION",
    "fwd carries the forwards given by \\fB\\-L\\fR, \\fB\\-R\\fR and \\fB\\-D\\fR over one SSH session, reads",
    "ssh_config(5) as ssh(1) does, reconnects when the session is lost, and runs scenarios: plugins that",
    "describe the tunnels a task needs and check the far end answers.",
    ".SH OPTIONS",
    ...SSH_OPTIONS.map(flagItem),
    ".SH COMMANDS",
    ...COMMANDS.flatMap((c) => [
      `.SS ${esc(c.name)}`,
      ...c.usage.map((u) => `.B fwd ${esc(u)}\n.br`),
      esc(c.summary),
      ...(c.flags.length > 0 ? [".RS", ...c.flags.map(flagItem), ".RE"] : []),
      ...(c.notes ?? []).map((n) => `.PP\n${esc(n)}`),
    ]),
    ".SH EXIT STATUS",
    "0 stopped cleanly, 1 internal error, 2 bad flags or config, 3 could not connect, 4 authentication failed,",
    "5 host key refused, 6 a forward failed, 7 session lost, 8 probe failed (fwd check), 130 forced stop.",
    ".SH FILES",
    ".TP\n.I ~/.ssh/config\nssh client configuration (or \\fB\\-F\\fR)",
    ".TP\n.I ~/.config/fwd/scenarios/NAME.toml\nyour scenarios",
    ".TP\n.I ~/.config/fwd/plugins/\nyour plugins",
    ".SH SEE ALSO",
    "ssh(1), ssh_config(5)",
  ];
  return out.join("\n") + "\n";
}

export async function manCommand(argv: string[]): Promise<number> {
  if (argv.length > 0) {
    process.stderr.write(`fwd: man: unexpected argument '${argv[0]}'\n  hint: fwd man | man -l -\n`);
    return EXIT.config;
  }
  process.stdout.write(manPage());
  return EXIT.ok;
}
