// Did-you-mean for commands, flags, plugins, scenarios and options; a TOML error at file:line:column
// with its line; every problem of a scenario file in one report.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { editDistance, nearest } from "../../src/cli/suggest.ts";
import { fwdSync } from "../cli/run-cli.ts";
import { freePort } from "../harness/net.ts";

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "fwd-cli-errors-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("edit distance", () => {
  test.each([
    ["bastoin", "bastion", 1], // a swap of neighbours is one edit (Damerau)
    ["kitten", "sitting", 3],
    ["", "abc", 3],
    ["run", "run", 0],
    ["rnu", "run", 1],
    ["ab", "ba", 1],
    ["ca", "abc", 3], // optimal string alignment: no edits of a swapped pair
  ])("%s → %s: %d", (a, b, d) => expect(editDistance(a, b)).toBe(d));

  test("the near one, or none when every candidate is another word", () => {
    expect(nearest("mysql-via-bastoin", ["ssh-via-bastion", "mysql-via-bastion"])).toBe("mysql-via-bastion");
    expect(nearest("redis", ["run", "check", "demo"])).toBeUndefined();
    expect(nearest("--jsn", ["--json", "--once"])).toBe("--json");
  });
});

describe("did you mean", () => {
  test.each([
    [["run", "mysql-via-bastoin"], 'fwd: no plugin or scenario named "mysql-via-bastoin"\n  hint: did you mean mysql-via-bastion?\n'],
    [["check", "mysql-via-bastoin"], 'fwd: no plugin or scenario named "mysql-via-bastoin"\n  hint: did you mean mysql-via-bastion?\n'],
    [["hepl"], 'fwd: unknown command "hepl"\n  hint: did you mean fwd help? (for a host of that name, write user@hepl or give -L/-R/-D)\n'],
    [["rnu", "mysql-via-bastion"], 'fwd: unknown command "rnu"\n  hint: did you mean fwd run? (for a host of that name, write user@rnu or give -L/-R/-D)\n'],
    [["--jsn", "-L", "1:h:2", "host"], "fwd: unknown option --jsn\n  hint: did you mean --json?\n"],
    [["run", "mysql-via-bastion", "--bastoin", "h", "--db", "x"], "fwd: unknown option --bastoin\n  hint: did you mean --bastion? (mysql-via-bastion takes --bastion --identity --jump --db --flavor --listen, and ssh's -F -o -i -c -v -q)\n"],
    [["run", "mysql-via-bastion", "--db", "x"], "fwd: mysql-via-bastion options:\n× missing required option bastion\n  hint: `fwd scenarios show PLUGIN` lists every option with its type\n"],
  ])("fwd %p", (args, stderr) => {
    const r = fwdSync([...args, "-F", "none"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(stderr);
  });

  test("a user's scenario is suggested too", () => {
    const home = join(dir, "home");
    mkdirSync(join(home, ".config", "fwd", "scenarios"), { recursive: true, mode: 0o700 });
    writeFileSync(join(home, ".config", "fwd", "scenarios", "orders-db.toml"), 'plugin = "mysql-via-bastion"\n', { mode: 0o600 });
    const r = fwdSync(["run", "ordres-db", "-F", "none"], { HOME: home });
    expect(r.stderr).toBe('fwd: no plugin or scenario named "ordres-db"\n  hint: did you mean orders-db?\n');
  });

  test("a host of a command's near name is still reached when it is asked to forward", () => {
    const r = fwdSync(["--dry-run", "-F", "none", "-L", "0:h:1", "hepl"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("session main: ");
  });
});

describe("scenario files", () => {
  const runFile = (text: string) => {
    const file = join(dir, `s${Math.random().toString(36).slice(2)}.toml`);
    writeFileSync(file, text, { mode: 0o600 });
    return { file, r: fwdSync(["run", "-f", file, "-F", "none"]) };
  };

  test("broken TOML: file:line:column, the line itself, a caret under the spot", () => {
    const { file, r } = runFile('plugin = "mysql-via-bastion"\n[options]\nbastion = "h\ndb = "x"\n');
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`fwd: ${file}:3:13: not valid TOML: control characters are not allowed in strings\n   3 | bastion = "h\n     |             ^\n  hint: check the quotes and brackets on line 3\n`);
  });

  test("[reconnect], top-level and [options] problems come in one report", () => {
    const { file, r } = runFile('plugin = "mysql-via-bastion"\ncolour = "red"\n[options]\ndb = 5\nbastoin = "h"\n[reconnect]\nmax_retries = "many"\n');
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      [
        `fwd: ${file}:`,
        "× Invalid type: Expected number but received \"many\"",
        "  → at reconnect.max_retries",
        "× unknown key colour",
        "× unknown option bastoin (did you mean bastion?)",
        "  → at options.bastoin",
        "× missing required option bastion",
        "  → at options.bastion",
        '× Invalid type: Expected string but received 5',
        "  → at options.db",
        "  hint: a scenario has plugin, name, [options] and optionally [reconnect]; see `fwd scenarios show PLUGIN`",
        "",
      ].join("\n"),
    );
  });

  test("an option given as a flag is not reported missing from the file", () => {
    const { r } = runFile('plugin = "mysql-via-bastion"\n[options]\ndb = "db:3306"\n');
    const withFlag = fwdSync(["run", "-f", r.stderr.match(/^fwd: (\S+):/)?.[1] ?? "", "--bastion", "h", "--dry-run", "-F", "none"]);
    expect(r.stderr).toContain("× missing required option bastion");
    expect(withFlag.code).toBe(0);
  });

  test("a misspelt plugin in a file is named with the near one", () => {
    const { file, r } = runFile('plugin = "mysql-via-bastoin"\n');
    expect(r.stderr).toBe(`fwd: ${file}:\n× no plugin named "mysql-via-bastoin" (did you mean mysql-via-bastion?)\n  → at plugin\n  hint: a scenario has plugin, name, [options] and optionally [reconnect]; see \`fwd scenarios show PLUGIN\`\n`);
  });
});

test("a connection that fails is one line and its hint (the session's states only with -v)", async () => {
  const port = await freePort();
  const args = ["-F", "none", "-l", "tester", "-p", String(port), "-L", "0:127.0.0.1:9", "127.0.0.1"];
  const r = fwdSync(args);
  expect(r.code).toBe(3);
  expect(r.stderr).toBe(`fwd: tester@127.0.0.1:${port}: connection refused\n  hint: nothing listens there: check the host and port (-p), and that sshd is running\n`);
  const verbose = fwdSync(["-v", ...args]);
  expect(verbose.stderr).toContain(`tester@127.0.0.1:${port}: failed (`);
});
