// One live line on a terminal while fwd connects ("connecting: deploy@bastion: key exchange"),
// rewritten in place and erased once the tunnels are up. Nothing at all on a pipe or with --json:
// the line is for eyes, and a log or a script must not see carriage returns.

const CLEAR = "\r\x1b[2K";

export class ProgressLine {
  private shown = false;
  private enabled: boolean;

  constructor(
    enabled: boolean,
    private readonly write: (s: string) => void = (s) => process.stderr.write(s),
    private readonly columns: () => number = () => process.stderr.columns || 80,
  ) {
    this.enabled = enabled;
  }

  /** On stderr's terminal only, and not for --json or -q. */
  static forTerminal(o: { json: boolean; verbosity: number }): ProgressLine {
    return new ProgressLine(process.stderr.isTTY === true && !o.json && o.verbosity >= 1);
  }

  set(text: string): void {
    if (!this.enabled) return;
    // Cut to the terminal's width: a wrapped line could not be erased with one \r.
    const width = Math.max(10, this.columns() - 1);
    const line = text.length > width ? `${text.slice(0, width - 1)}…` : text;
    this.write(`${CLEAR}${line}`);
    this.shown = true;
  }

  /** Erases the line (before another line is printed, or a prompt asks); it may be set again. */
  clear(): void {
    if (!this.shown) return;
    this.write(CLEAR);
    this.shown = false;
  }

  /** Erases the line for good: the tunnels are up, or fwd gave up. */
  done(): void {
    this.clear();
    this.enabled = false;
  }

  /** A writer for other stderr lines that first erases the progress line. */
  around(write: (line: string) => void): (line: string) => void {
    return (line) => {
      this.clear();
      write(line);
    };
  }
}
