// Shell completion, as bash runs it: the script from `fwd completion bash` sourced, COMP_WORDS and
// COMP_CWORD set, the function called, COMPREPLY read. And the manual page through groff and man.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { COMMANDS, SSH_OPTIONS } from "../../src/cli/commands.ts";
import { fwdSync } from "../cli/run-cli.ts";

const MAIN = join(import.meta.dir, "..", "..", "src", "main.ts");
let dir: string;
let home: string;
let bin: string;
let script: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "fwd-completion-"));
  home = join(dir, "home");
  bin = join(dir, "bin");
  mkdirSync(join(home, ".ssh"), { recursive: true, mode: 0o700 });
  mkdirSync(join(home, ".config", "fwd", "scenarios"), { recursive: true, mode: 0o700 });
  mkdirSync(bin);
  writeFileSync(join(home, ".ssh", "config"), "Host bastion bastion-eu *.internal !nope\n  User deploy\nHost db-prod\n  HostName 10.0.0.5\n", { mode: 0o600 });
  writeFileSync(join(home, ".config", "fwd", "scenarios", "orders-db.toml"), 'plugin = "mysql-via-bastion"\n[options]\nbastion = "bastion"\n', { mode: 0o600 });
  // The `fwd` the script calls: this source tree.
  writeFileSync(join(bin, "fwd"), `#!/bin/sh\nexec "${process.execPath}" "${MAIN}" "$@"\n`);
  chmodSync(join(bin, "fwd"), 0o755);
  const r = fwdSync(["completion", "bash"]);
  expect(r.code).toBe(0);
  expect(r.loaded).toEqual([]);
  script = join(dir, "fwd.bash");
  writeFileSync(script, r.stdout);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** COMPREPLY for `fwd WORDS…` with the cursor on the last word. */
function complete(...words: string[]): string[] {
  const r = spawnSync("bash", ["-c", `source "$0"; COMP_WORDS=(fwd "$@"); COMP_CWORD=$#; _fwd; printf '%s\\n' "\${COMPREPLY[@]}"`, script, ...words], {
    env: { PATH: `${bin}:${process.env.PATH ?? "/usr/bin:/bin"}`, HOME: home },
    timeout: 20_000,
  });
  expect(r.stderr.toString()).toBe("");
  return r.stdout.toString().split("\n").filter(Boolean);
}

describe("bash completion", () => {
  test("the first word: every command, and the Host aliases of ~/.ssh/config (no patterns)", () => {
    expect(complete("")).toEqual([...COMMANDS.map((c) => c.name), "bastion", "bastion-eu", "db-prod"]);
    expect(complete("sc")).toEqual(["scenarios"]);
    expect(complete("bas")).toEqual(["bastion", "bastion-eu"]);
  });

  test("ssh-style flags, and destinations after them; a jump host after -J; nothing (files) after -i", () => {
    expect(complete("--dr")).toEqual(["--dry-run"]);
    expect(complete("-")).toEqual(SSH_OPTIONS.map((o) => o.flag));
    expect(complete("-L", "8080:db:3306", "db")).toEqual(["db-prod"]);
    expect(complete("-J", "b")).toEqual(["bastion", "bastion-eu"]);
    expect(complete("-i", "")).toEqual([]);
    // -F on the line: that file's aliases instead of ~/.ssh/config's.
    const other = join(dir, "other_config");
    writeFileSync(other, "Host lab-a lab-b\n  Port 2200\n", { mode: 0o600 });
    expect(complete("-F", other, "lab")).toEqual(["lab-a", "lab-b"]);
    // After the destination comes a remote command: fwd offers nothing of its own.
    expect(complete("db-prod", "")).toEqual([]);
  });

  test("run and check: plugin and scenario names, then that plugin's options and their choices", () => {
    expect(complete("run", "mysql-")).toEqual(["mysql-via-bastion"]);
    expect(complete("check", "ord")).toEqual(["orders-db"]);
    expect(complete("run", "mysql-via-bastion", "--b")).toEqual(["--bastion"]);
    expect(complete("run", "mysql-via-bastion", "--flavor", "")).toEqual(["mysql", "postgres"]);
    expect(complete("run", "mysql-via-bastion", "--bastion", "x", "--dr")).toEqual(["--dry-run"]);
    // A user's scenario completes its plugin's options.
    expect(complete("run", "orders-db", "--d")).toEqual(["--db", "--dry-run"]);
    expect(complete("run", "-f", "")).toEqual([]);
  });

  test("the other commands: their words and flags", () => {
    expect(complete("completion", "")).toEqual(["bash", "zsh", "fish"]);
    expect(complete("scenarios", "")).toEqual(["show"]);
    expect(complete("scenarios", "show", "rdp")).toEqual(["rdp-home"]);
    expect(complete("plugin", "")).toEqual(["new"]);
    expect(complete("demo", "--no")).toEqual(["--no-status"]);
    expect(complete("help", "c")).toEqual(["check", "completion"]);
    expect(complete("help", "run", "ssh-")).toEqual(["ssh-via-bastion"]);
  });
});

describe("fish and zsh, in the real shells", () => {
  const env = () => ({ PATH: `${bin}:${process.env.PATH ?? "/usr/bin:/bin"}`, HOME: home, XDG_CONFIG_HOME: join(home, ".config") });
  test("fish: `complete -C` offers what bash offers, from the same completer", () => {
    const file = join(dir, "fwd.fish");
    writeFileSync(file, fwdSync(["completion", "fish"]).stdout);
    const fish = (line: string) => {
      const r = spawnSync("fish", ["--no-config", "-c", `source ${file}; complete -C "${line}"`], { env: env(), timeout: 20_000 });
      expect(r.stderr.toString()).toBe("");
      return r.stdout.toString().split("\n").filter(Boolean);
    };
    expect(fish("fwd sc")).toEqual(["scenarios"]);
    expect(fish("fwd bas")).toEqual(["bastion", "bastion-eu"]);
    expect(fish("fwd run mysql-via-bas")).toEqual(["mysql-via-bastion"]);
    expect(fish("fwd --max-w")).toEqual(["--max-window"]);
    // Nothing of fwd's to offer after -i: file names, as in the other shells.
    expect(fish(`fwd -i ${dir}/fwd.fi`)).toEqual([`${dir}/fwd.fish`]);
  });

  test("zsh: the script loads under compinit and defines its completer for fwd", () => {
    const file = join(dir, "_fwd");
    writeFileSync(file, fwdSync(["completion", "zsh"]).stdout);
    const r = spawnSync("zsh", ["-f", "-c", `autoload -U compinit; compinit -u -D; source ${file}; whence -w _fwd; print -r -- $_comps[fwd]`], { env: env(), timeout: 20_000 });
    expect(r.stderr.toString()).toBe("");
    expect(r.stdout.toString()).toBe("_fwd: function\n_fwd\n");
  });
});

describe("the other shells and the manual", () => {
  test("zsh and fish scripts call the same completer; an unknown shell is refused with the near one", () => {
    expect(fwdSync(["completion", "zsh"]).stdout).toContain('fwd __complete "$((CURRENT - 2))"');
    expect(fwdSync(["completion", "fish"]).stdout).toContain("complete -c fwd -f -a '(__fwd_complete)'");
    const r = fwdSync(["completion", "bsh"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe("fwd: completion: no completion for 'bsh'\n  hint: did you mean bash?\n");
  });

  test("fwd man is roff that groff reads without a warning, and man shows every option and command", () => {
    const page = fwdSync(["man"]);
    expect(page.code).toBe(0);
    expect(page.loaded).toEqual([]);
    const warn = spawnSync("groff", ["-man", "-Tutf8", "-ww", "-z"], { input: page.stdout });
    expect(warn.status).toBe(0);
    expect(warn.stderr.toString()).toBe("");
    const shown = spawnSync("man", ["-l", "-"], { input: page.stdout, env: { PATH: process.env.PATH ?? "/usr/bin:/bin", MANWIDTH: "200", MANPAGER: "cat", PAGER: "cat", LANG: "C.UTF-8" } });
    expect(shown.status).toBe(0);
    const text = shown.stdout.toString().replace(/.\x08/g, "");
    expect(text).toContain("fwd - SSH port forwarding in one binary");
    for (const o of SSH_OPTIONS) expect([o.flag, text.includes(`${o.flag}${o.value ? ` ${o.value}` : ""}`)]).toEqual([o.flag, true]);
    for (const c of COMMANDS) expect(text).toContain(`fwd ${c.usage[0]}`);
  });
});
