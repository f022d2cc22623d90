// Table tests for ssh-style argv parsing and the destination argument.

import { describe, expect, test } from "bun:test";
import { checkSupported, parseArgv } from "../../src/cli/argv.ts";

describe("parseArgv", () => {
  test.each([
    [["-L", "8080:h:80", "host"], { L: ["8080:h:80"] }, {}, "host", []],
    [["-L8080:h:80", "host"], { L: ["8080:h:80"] }, {}, "host", []],
    [["-NvL", "8080:h:80", "host"], { L: ["8080:h:80"] }, { N: 1, v: 1 }, "host", []],
    [["-vvv", "host"], {}, { v: 3 }, "host", []],
    [["host", "-L", "1:h:2", "-p", "2222"], { L: ["1:h:2"], p: ["2222"] }, {}, "host", []],
    [["-o", "User=x", "-oPort=2", "host"], { o: ["User=x", "Port=2"] }, {}, "host", []],
    [["host", "uptime", "-v"], {}, {}, "host", ["uptime", "-v"]],
    [["-L", "1:h:2", "--", "host", "cmd"], { L: ["1:h:2"] }, {}, "host", ["cmd"]],
    [["-i", "a", "-i", "b", "h"], { i: ["a", "b"] }, {}, "h", []],
  ])("%p", (argv, values, flags, destination, command) => {
    const r = parseArgv(argv);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.values).toEqual(values);
    expect(r.value.flags).toEqual(flags);
    expect(r.value.destination).toBe(destination);
    expect(r.value.command).toEqual(command);
  });

  test.each([
    [["-L"], "-L needs a forward spec"],
    [["-Z", "h"], "unknown option -Z"],
    [["--nope"], "unknown option --nope"],
  ])("%p fails: %s", (argv, message) => {
    const r = parseArgv(argv);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.message).toBe(message);
  });

  test("long options", () => {
    const r = parseArgv(["--json", "--help", "--version"]);
    expect(r.ok && r.value.long).toEqual({ json: true, help: true, version: true, pac: false, "no-reconnect": false, once: false, "dry-run": false, "status-open-metrics": false, dns: false, lan: false });
  });

  test("long options with values, both spellings, repeatable", () => {
    const r = parseArgv(["--allow", "10.0.0.0/8", "--allow=fd00::/8", "--socks-user=u", "--pac", "-D", "1080", "h"]);
    expect(r.ok && r.value.longValues).toEqual({ allow: ["10.0.0.0/8", "fd00::/8"], "socks-user": ["u"] });
    expect(r.ok && r.value.long.pac).toBe(true);
    const missing = parseArgv(["--allow"]);
    expect(!missing.ok && missing.error.message).toBe("--allow needs a value");
  });

  test("an OpenSSH option fwd does not do is named, with what to do instead", () => {
    const r = parseArgv(["-f", "h"]);
    if (!r.ok) throw r.error;
    const s = checkSupported(r.value, new Set(["L"]));
    expect(s.ok).toBe(false);
    if (!s.ok) {
      expect(s.error.message).toBe("-f is not supported");
      expect(s.error.hint).toContain("service manager");
    }
    const harmless = parseArgv(["-NTC", "h"]);
    expect(harmless.ok && checkSupported(harmless.value, new Set()).ok).toBe(true);
  });
});
