// Scenario plugins end to end: mysql-via-bastion against a real MariaDB behind a real sshd (queried by
// the real mariadb client), fwd check, scenario files, custom plugins, and every validation path.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runFwd, runFwdToEnd } from "../harness/fwd.ts";
import { startMariaDb, type MariaDb } from "../harness/mariadb.ts";
import { exchange, startEcho, startHttp } from "../harness/net.ts";
import { startSshd, type Sshd } from "../harness/sshd.ts";

let sshd: Sshd;
let db: MariaDb;
let dir: string;
beforeAll(async () => {
  [sshd, db] = await Promise.all([startSshd(), startMariaDb()]);
  dir = mkdtempSync(join(tmpdir(), "fwd-scenarios-"));
}, 60_000);
afterAll(async () => {
  await Promise.all([sshd?.stop(), db?.stop()]);
  rmSync(dir, { recursive: true, force: true });
});

/** ssh settings for every hop: this test's known_hosts, nothing from the user's config. */
const ssh = () => ["-F", "none", "-o", `UserKnownHostsFile=${sshd.knownHosts}`, "-o", "StrictHostKeyChecking=yes", "-o", "IdentitiesOnly=yes"];
const bastion = () => ["--bastion", `${sshd.user}@127.0.0.1:${sshd.port}`, "--identity", sshd.clientKey];

function mariadb(port: number, sql: string): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const p = spawn("mariadb", ["-h", "127.0.0.1", "-P", String(port), "-u", "root", "--protocol=TCP", "-N", "-B", "-e", sql], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    p.stdout.on("data", (d) => (out += d));
    p.stderr.on("data", (d) => (out += d));
    p.on("close", (code) => resolve({ code: code ?? -1, out: out.trim() }));
  });
}

describe("mysql-via-bastion", () => {
  test("fwd run: a working database port, the command to use it, and the probe's verdict", async () => {
    const fwd = runFwd(["run", "mysql-via-bastion", ...bastion(), "--db", `127.0.0.1:${db.port}`, "--listen", "127.0.0.1:0", ...ssh()]);
    try {
      await fwd.waitFor(/^listening 127\.0\.0\.1:\d+ -> 127\.0\.0\.1:\d+$/);
      const port = fwd.ports[0]!;
      await fwd.waitFor(new RegExp(`^mysql -h 127\\.0\\.0\\.1 -P ${port} -u <user> -p$`));
      await fwd.waitFor(/probe ok: MariaDB \d+\.\d+/);
      const r = await mariadb(port, "SELECT 6*7, @@port");
      expect(r).toEqual({ code: 0, out: `42\t${db.port}` });
    } finally {
      expect(await fwd.stop()).toBe(0);
    }
  }, 30_000);

  test("fwd check reports each step and exits 0; against something that is not MySQL, exit 8", async () => {
    const good = await runFwdToEnd(["check", "mysql-via-bastion", ...bastion(), "--db", `127.0.0.1:${db.port}`, "--listen", "127.0.0.1:0", ...ssh()]);
    expect(good.stdout).toContain(`✓ ssh: connected to ${sshd.user}@127.0.0.1:${sshd.port}`);
    expect(good.stdout).toMatch(/✓ forward: mysql-via-bastion\/db listening on 127\.0\.0\.1:\d+/);
    expect(good.stdout).toMatch(/✓ probe: MariaDB \d+/);
    expect(good.code).toBe(0);
    const web = await startHttp();
    try {
      const bad = await runFwdToEnd(["check", "mysql-via-bastion", ...bastion(), "--db", `127.0.0.1:${web.port}`, "--listen", "127.0.0.1:0", ...ssh()]);
      expect(bad.stdout).toMatch(/✗ probe: /);
      expect(bad.code).toBe(8);
    } finally {
      await web.close();
    }
  }, 30_000);

  test("a scenario file with -f, its options overridden by flags", async () => {
    const file = join(dir, "orders.toml");
    writeFileSync(
      file,
      `plugin = "mysql-via-bastion"\nname = "orders"\n[options]\nbastion = "${sshd.user}@127.0.0.1:${sshd.port}"\nidentity = "${sshd.clientKey}"\ndb = "127.0.0.1:1"\nlisten = "127.0.0.1:0"\n[reconnect]\nmax_retries = 3\n`,
    );
    const fwd = runFwd(["run", "-f", file, "--db", `127.0.0.1:${db.port}`, ...ssh()]);
    try {
      await fwd.waitFor(/orders: probe ok: MariaDB/);
      expect((await mariadb(fwd.ports[0]!, "SELECT 1")).out).toBe("1");
    } finally {
      expect(await fwd.stop()).toBe(0);
    }
  }, 30_000);

  test("--dry-run prints the plan and the equivalent ssh command line", async () => {
    const r = await runFwdToEnd(["run", "mysql-via-bastion", "--bastion", "deploy@bastion.example.com:2222", "--db", "orders.internal", "--flavor", "postgres", "--dry-run", "-F", "none"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("forward mysql-via-bastion/db: local 127.0.0.1:5432 -> orders.internal:5432");
    expect(r.stdout).toContain("equivalent: ssh -N -p 2222 -L 127.0.0.1:5432:orders.internal:5432 deploy@bastion.example.com");
  });
});

describe("the example scenarios", () => {
  test.each(readdirSync(join(import.meta.dir, "..", "..", "scenarios")).filter((f) => f.endsWith(".toml")).map((f) => f.slice(0, -5)))("scenarios/%s.toml is valid and plans", async (name) => {
    const r = await runFwdToEnd(["run", "-f", join(import.meta.dir, "..", "..", "scenarios", `${name}.toml`), "--dry-run", "-F", "none"]);
    expect(r.stderr).toBe("");
    expect(r.stdout).toContain(`plugin ${name}`);
    expect(r.stdout).toContain("equivalent: ssh -N");
    expect(r.code).toBe(0);
  });
});

describe("validation", () => {
  const run = (...args: string[]) => runFwdToEnd(["run", ...args, "-F", "none"]);
  test.each([
    [["mysql-via-bastion", "--db", "x"], /mysql-via-bastion options:\n× missing required option bastion\n/],
    [["mysql-via-bastion", "--bastion", "h", "--db", "db:99999"], /Expected host\[:port\] but received "db:99999"\n\s+→ at db/],
    [["mysql-via-bastion", "--bastion", "h", "--db", "x", "--flavor", "oracle"], /→ at flavor/],
    [["mysql-via-bastion", "--bastion", "h", "--db", "x", "--listen", "70000"], /Expected \[address:\]port \(0-65535\) but received "70000"/],
    [["mysql-via-bastion", "--bastion", "h", "--db", "x", "--colour", "red"], /unknown option --colour/],
    [["no-such-plugin"], /no plugin or scenario named "no-such-plugin"/],
    [[], /no scenario or plugin named/],
  ])("%p", async (args, re) => {
    const r = await run(...args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(re);
  });

  test("a scenario file with an unknown key, a wrong type, or broken TOML names the file and field", async () => {
    const cases: [string, RegExp][] = [
      [`plugin = "mysql-via-bastion"\ncolour = "red"\n`, /Invalid key: Expected never but received "colour"|colour/],
      [`plugin = "mysql-via-bastion"\n[options]\nbastion = "h"\ndb = "x"\nsocks = true\n`, /unknown option socks/],
      [`plugin = "mysql-via-bastion"\n[reconnect]\nmax_retries = "many"\n`, /→ at reconnect\.max_retries/],
      [`plugin = "mysql-via-bastion\n`, /not valid TOML/],
      [`plugin = "egress-ip-rotation"\n[options]\nservers = ["a.example", { server = "b.example", label = "exit1" }]\n`, /Expected each server to have its own label/],
    ];
    for (const [i, [text, re]] of cases.entries()) {
      const file = join(dir, `bad${i}.toml`);
      writeFileSync(file, text);
      const r = await runFwdToEnd(["run", "-f", file, "-F", "none"]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(file);
      expect(r.stderr).toMatch(re);
    }
  });

  test("a broken plugin file is named, and the other plugins still work", async () => {
    const broken = join(dir, "broken.ts");
    writeFileSync(broken, "export default { name: 'Not Kebab', summary: 1 };\n");
    const r = await runFwdToEnd(["scenarios", "--plugin", broken]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`plugin ${broken}: is not a plugin`);
    expect(r.stdout).toContain("mysql-via-bastion");
    const syntax = join(dir, "syntax.ts");
    writeFileSync(syntax, "export default {{\n");
    const s = await runFwdToEnd(["scenarios", "--plugin", syntax]);
    expect(s.stderr).toContain(`plugin ${syntax}: cannot load`);
    expect(s.stdout).toContain("intranet-wiki");
  });
});

describe("the user's config folder", () => {
  test("fwd run NAME finds ~/.config/fwd/scenarios/NAME.toml, and plugins/ there load by themselves", async () => {
    const home = join(dir, "home");
    mkdirSync(join(home, ".config", "fwd", "scenarios"), { recursive: true });
    writeFileSync(
      join(home, ".config", "fwd", "scenarios", "reports.toml"),
      `plugin = "mysql-via-bastion"\ndescription = "the reports db"\n[options]\nbastion = "${sshd.user}@127.0.0.1:${sshd.port}"\nidentity = "${sshd.clientKey}"\ndb = "127.0.0.1:${db.port}"\nlisten = "127.0.0.1:0"\n`,
    );
    const listed = await runFwdToEnd(["scenarios"], { env: { HOME: home } });
    expect(listed.stdout).toMatch(/reports\s+mysql-via-bastion: the reports db/);
    const fwd = runFwd(["run", "reports", ...ssh()], { env: { HOME: home } });
    try {
      await fwd.waitFor(/reports: probe ok: MariaDB/);
    } finally {
      expect(await fwd.stop()).toBe(0);
    }
    expect((await runFwdToEnd(["plugin", "new", "auto-loaded"], { env: { HOME: home } })).code).toBe(0);
    const shown = await runFwdToEnd(["scenarios"], { env: { HOME: home } });
    expect(shown.stdout).toMatch(/auto-loaded\s+a local port to a service/);
    expect(shown.stderr).toBe("");
  }, 30_000);
});

describe("custom plugins", () => {
  test("fwd plugin new writes a plugin that runs as written, with a real tunnel", async () => {
    const pdir = join(dir, "plugins");
    const made = await runFwdToEnd(["plugin", "new", "echo-service", pdir]);
    expect(made.code).toBe(0);
    const file = join(pdir, "echo-service.ts");
    const echo = await startEcho();
    const fwd = runFwd(["run", "echo-service", "--plugin", file, ...bastion().slice(0, 2), "--target", `127.0.0.1:${echo.port}`, "-i", sshd.clientKey, ...ssh()]);
    try {
      await fwd.waitFor(/probe ok: connected through the tunnel/);
      expect((await exchange(fwd.ports[0]!, "custom")).reply.toString()).toBe("custom");
    } finally {
      expect(await fwd.stop()).toBe(0);
      await echo.close();
    }
    const shown = await runFwdToEnd(["scenarios", "show", "echo-service", "--plugin", file]);
    expect(shown.stdout).toContain("target (--target)  string, required");
  }, 30_000);
});

test("every built-in plugin has an example scenario, and every example names a built-in plugin", async () => {
  const { BUILTIN_PLUGINS } = await import("../../plugins/index.ts");
  const { BUILTIN_SCENARIOS } = await import("../../scenarios/index.ts");
  expect(Object.keys(BUILTIN_SCENARIOS).sort()).toEqual(BUILTIN_PLUGINS.map((p) => p.name).sort());
});
