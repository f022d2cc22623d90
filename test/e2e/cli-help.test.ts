// Help for every command, from the table the commands parse with; and help that stays cheap
// (no ssh2, hono or valibot for the command list or the ssh command's help).

import { describe, expect, test } from "bun:test";
import { FLAGS, LONG_FLAGS, LONG_WITH_VALUE, NOT_SUPPORTED, WITH_VALUE } from "../../src/cli/argv.ts";
import { COMMANDS, SSH_OPTIONS } from "../../src/cli/commands.ts";
import { HELP } from "../../src/cli/help.ts";
import { fwdSync } from "../cli/run-cli.ts";

describe("the ssh command's options", () => {
  // What the parser accepts and fwd does (not the letters it refuses with a reason).
  const accepted = [
    ...[...Object.keys(WITH_VALUE), ...FLAGS].filter((l) => NOT_SUPPORTED[l] === undefined || NOT_SUPPORTED[l] === "").map((l) => `-${l}`),
    ...[...LONG_FLAGS, ...LONG_WITH_VALUE].map((n) => `--${n}`),
  ].sort();

  test("every option the parser accepts is documented, and nothing else", () => {
    expect(SSH_OPTIONS.map((o) => o.flag).sort()).toEqual(accepted);
  });

  test("a documented option takes a value exactly when the parser expects one", () => {
    for (const o of SSH_OPTIONS) {
      const takes = o.flag.startsWith("--") ? LONG_WITH_VALUE.has(o.flag.slice(2)) : o.flag.slice(1) in WITH_VALUE;
      expect([o.flag, takes]).toEqual([o.flag, o.value !== undefined]);
    }
  });

  test("fwd --help names every one of them and every command", () => {
    for (const o of SSH_OPTIONS) expect([o.flag, HELP.includes(o.flag)]).toEqual([o.flag, true]);
    for (const c of COMMANDS) expect(HELP).toContain(`fwd ${c.usage[0]}`);
  });
});

describe("fwd help and --help", () => {
  test.each([[["help"]], [["--help"]], [["help", "--help"]]])("fwd %p prints the command list without loading ssh2", (args: string[]) => {
    const r = fwdSync(args);
    expect(r.code).toBe(0);
    expect(r.stdout.startsWith("fwd — SSH port forwarding in one binary\n\nusage:\n")).toBe(true);
    expect(r.stdout).toContain("  fwd completion bash|zsh|fish ");
    expect(r.loaded).toEqual([]);
  });

  // Before: run said "no scenario or plugin named", demo "unknown argument", status connected,
  // completion tried a host named "completion".
  test.each(COMMANDS.filter((c) => c.name !== "help").map((c) => c.name))("fwd %s --help and fwd help %s print its usage and flags", (name) => {
    const a = fwdSync([name, "--help"]);
    const b = fwdSync(["help", name]);
    expect(a.code).toBe(0);
    expect(a.stderr).toBe("");
    expect(a.stdout).toBe(b.stdout);
    const doc = COMMANDS.find((c) => c.name === name)!;
    expect(a.stdout.startsWith(`usage: fwd ${doc.usage[0]}\n`)).toBe(true);
    for (const f of doc.flags) expect(a.stdout).toMatch(new RegExp(`^  ${f.flag.replace(/[-[\]]/g, "\\$&")}${f.value ? " " : ""}`, "m"));
    expect(a.loaded).toEqual([]);
  });

  test("fwd --version still loads none of the heavy packages", () => {
    const r = fwdSync(["--version"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toStartWith("fwd ");
    expect(r.loaded).toEqual([]);
  });

  test("fwd status --help connects nowhere, even with a URL given", () => {
    const r = fwdSync(["status", "http://127.0.0.1:9/", "--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toStartWith("usage: fwd status [URL] [--json]\n");
  });

  test("fwd run PLUGIN --help lists that plugin's options with types, defaults and descriptions", () => {
    const r = fwdSync(["run", "mysql-via-bastion", "--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toStartWith("usage: fwd run mysql-via-bastion [--option value …] [--dry-run]\n\nmysql-via-bastion — ");
    expect(r.stdout).toContain("  bastion (--bastion)  string, required\n      the SSH server that reaches the database");
    expect(r.stdout).toContain("  jump (--jump)  list, default []\n");
    expect(r.stdout).toContain("example scenario");
    const h = fwdSync(["help", "check", "mysql-via-bastion"]);
    expect(h.stdout).toStartWith("usage: fwd check mysql-via-bastion [--option value …]\n");
  });

  test("the ssh command's --help, after a destination too, but not after -- (a remote command's)", () => {
    expect(fwdSync(["-L", "1:h:2", "host", "--help"]).stdout).toBe(HELP);
    const r = fwdSync(["host", "--", "ls", "--help"]);
    expect(r.stdout).not.toContain("usage:");
  });

  test("an unknown command in fwd help is named, with the near one", () => {
    const r = fwdSync(["help", "complection"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('fwd: help: no command named "complection"\n  hint: did you mean completion?\n');
  });

  test("demo's flags come from its table: an unknown one is refused with the near one", () => {
    const r = fwdSync(["demo", "--jsn"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("demo: unknown option --jsn\n  hint: did you mean --json?");
  });
});
