// Files that steer fwd are believed only when nobody but you (or root) can change them — and keys and
// passwords only when nobody else can read them — end to end with the real fwd and a real sshd. The
// other user is `nobody` (files chowned to it; the suite runs as root).

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, chownSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runFwd, runFwdToEnd } from "../harness/fwd.ts";
import { exchange, startEcho } from "../harness/net.ts";
import { startSshd, type Sshd } from "../harness/sshd.ts";

const NOBODY = 65534;
let sshd: Sshd;
let echo: Awaited<ReturnType<typeof startEcho>>;
let dir: string;
beforeAll(async () => {
  expect(process.getuid?.()).toBe(0);
  [sshd, echo] = await Promise.all([startSshd(), startEcho()]);
  dir = mkdtempSync(join(tmpdir(), "fwd-trust-e2e-"));
});
afterAll(async () => {
  await Promise.all([sshd?.stop(), echo?.close()]);
  rmSync(dir, { recursive: true, force: true });
});

let n = 0;
/** A fresh home directory (0700, like mkdtemp's) for one test. */
function home(): string {
  const h = join(dir, `home${++n}`);
  mkdirSync(h, { mode: 0o700 });
  return h;
}

/** clientArgs with `flag`'s value replaced. */
const withArg = (flag: string, value: string) => sshd.clientArgs.map((a, i, all) => (all[i - 1] === flag ? value : a));

describe("identity files", () => {
  test("a key others can read (0644) is never offered: OpenSSH's warning, then authentication fails; at 0600 it works", async () => {
    const key = join(dir, "id_copy");
    copyFileSync(sshd.clientKey, key);
    chmodSync(key, 0o644);
    const r = await runFwdToEnd([...withArg("-i", key), sshd.host, "--", "true"]);
    expect(r.stderr).toContain(`UNPROTECTED PRIVATE KEY FILE: identity file ${key}: permissions 0644 are too open: group and others can read it; this key is ignored (\`chmod 600 ${key}\`: it must be accessible by you alone)`);
    expect(r.stderr).toContain(`authentication failed (tried nothing; skipped password and keyboard-interactive (no terminal to ask), key ${key} (refused: its permissions or owner are unsafe))`);
    expect(r.code).toBe(4); // E_AUTH: the only key was not used
    chmodSync(key, 0o600);
    const fixed = await runFwdToEnd([...withArg("-i", key), sshd.host, "--", "true"]);
    expect(fixed.code).toBe(0);
    expect(fixed.stderr).not.toContain("UNPROTECTED");
  }, 30_000);
});

describe("ssh config", () => {
  test("an -F file the group can write is refused before anything connects", async () => {
    const cfg = join(dir, "group-writable.conf");
    writeFileSync(cfg, `Host lab\n  HostName 127.0.0.1\n  Port ${sshd.port}\n`);
    chmodSync(cfg, 0o664);
    const r = await runFwdToEnd([...withArg("-F", cfg), "lab", "--", "true"]);
    expect(r.stderr).toContain(`ssh config ${cfg}: permissions 0664 let group change it`);
    expect(r.stderr).toContain(`hint: \`chmod go-w ${cfg}\``);
    expect(r.code).toBe(2);
  });

  test("~/.ssh/config's Include of a file owned by another user is refused", async () => {
    const h = home();
    mkdirSync(join(h, ".ssh"), { mode: 0o700 });
    writeFileSync(join(h, ".ssh", "config"), "Include extra.conf\n");
    const extra = join(h, ".ssh", "extra.conf");
    writeFileSync(extra, "Host *\n  ProxyJump attacker.example\n");
    chownSync(extra, NOBODY, NOBODY);
    const args = sshd.clientArgs.filter((a, i, all) => a !== "-F" && all[i - 1] !== "-F"); // read ~/.ssh/config
    const r = await runFwdToEnd([...args, sshd.host, "--", "true"], { env: { HOME: h } });
    expect(r.stderr).toContain(`ssh config ${extra}: it is owned by uid ${NOBODY}, not by root (you)`);
    expect(r.code).toBe(2);
  });
});

describe("known_hosts", () => {
  test("a known_hosts others can write is refused: whoever writes it picks the keys believed", async () => {
    const known = join(dir, "known_hosts_open");
    copyFileSync(sshd.knownHosts, known);
    chmodSync(known, 0o666);
    const r = await runFwdToEnd([...sshd.clientArgs.map((a) => (a === `UserKnownHostsFile=${sshd.knownHosts}` ? `UserKnownHostsFile=${known}` : a)), sshd.host, "--", "true"]);
    expect(r.stderr).toContain(`known_hosts ${known}: permissions 0666 let group and others change it`);
    expect(r.code).toBe(2);
  }, 30_000);
});

describe("SOCKS password file", () => {
  test("a password file others can read is refused at start", async () => {
    const pw = join(dir, "socks-pw");
    writeFileSync(pw, "s3cret\n", { mode: 0o644 });
    chmodSync(pw, 0o644);
    const r = await runFwdToEnd([...sshd.clientArgs, "-D", "0", "--socks-user", "alice", "--socks-password-file", pw, sshd.host, "--", "true"]);
    expect(r.stderr).toContain(`--socks-password-file ${pw}: permissions 0644 are too open: group and others can read it`);
    expect(r.code).toBe(2);
  });
});

describe("plugins", () => {
  /** A plugin file that proves it ran by writing `marker`. */
  const planted = (marker: string) =>
    `import { writeFileSync } from "node:fs";\nwriteFileSync(${JSON.stringify(marker)}, "ran as uid " + process.getuid());\n` +
    `export default ({ definePlugin, v }) => definePlugin({ name: "planted", summary: "written by someone else", options: v.object({}), plan: () => ({ sessions: {}, forwards: [] }) });\n`;

  function pluginsFolder(h: string): string {
    const p = join(h, ".config", "fwd", "plugins");
    mkdirSync(p, { recursive: true, mode: 0o755 });
    return p;
  }

  test("a plugin file owned by nobody in ~/.config/fwd/plugins does not run; the same file of yours does", async () => {
    const h = home();
    const plugins = pluginsFolder(h);
    const marker = join(dir, `marker${n}`);
    const file = join(plugins, "planted.ts");
    writeFileSync(file, planted(marker));
    chownSync(file, NOBODY, NOBODY);
    const r = await runFwdToEnd(["scenarios"], { env: { HOME: h } });
    expect(r.stderr).toContain(`plugin ${file}: it is owned by uid ${NOBODY}, not by root (you)`);
    expect(r.stdout).not.toContain("planted");
    expect(existsSync(marker)).toBe(false);
    chownSync(file, 0, 0); // the control: the marker really is what running it leaves
    const mine = await runFwdToEnd(["scenarios"], { env: { HOME: h } });
    expect(mine.stdout).toMatch(/planted\s+written by someone else/);
    expect(existsSync(marker)).toBe(true);
  });

  test("a world-writable plugins folder: nothing in it runs, not even your own files", async () => {
    const h = home();
    const plugins = pluginsFolder(h);
    chmodSync(plugins, 0o777);
    const marker = join(dir, `marker${n}`);
    writeFileSync(join(plugins, "planted.ts"), planted(marker));
    const r = await runFwdToEnd(["scenarios"], { env: { HOME: h } });
    expect(r.stderr).toContain(`plugins folder ${plugins}: it is writable by group and others (mode 0777): its plugins are not loaded`);
    expect(r.stderr).toContain(`\`chmod go-w ${plugins}\``);
    expect(existsSync(marker)).toBe(false);
  });

  test("--plugin PATH in a directory others can write is not run", async () => {
    const open = join(dir, `open${++n}`);
    mkdirSync(open);
    chmodSync(open, 0o777);
    const marker = join(dir, `marker${n}`);
    const file = join(open, "planted.ts");
    writeFileSync(file, planted(marker));
    const r = await runFwdToEnd(["scenarios", "--plugin", file]);
    expect(r.stderr).toContain(`plugin ${file}: directory ${open} is writable by group and others (mode 0777)`);
    expect(existsSync(marker)).toBe(false);
  });
});

describe("scenarios", () => {
  test("fwd run ../../etc/x is refused: a scenario name cannot leave the scenarios folder", async () => {
    const h = home();
    mkdirSync(join(h, ".config", "fwd", "scenarios"), { recursive: true });
    // where ~/.config/fwd/scenarios/../../etc/x.toml leads
    mkdirSync(join(h, ".config", "etc"));
    writeFileSync(join(h, ".config", "etc", "x.toml"), 'plugin = "from-outside"\n');
    for (const name of ["../../etc/x", "..", "sub/x"]) {
      const r = await runFwdToEnd(["run", name], { env: { HOME: h } });
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`scenario name "${name}": `);
      expect(r.stderr).not.toContain("from-outside");
    }
  });

  test("a scenario file the group can write is refused, in fwd run and in the listing", async () => {
    const h = home();
    const scenarios = join(h, ".config", "fwd", "scenarios");
    mkdirSync(scenarios, { recursive: true });
    const file = join(scenarios, "db.toml");
    writeFileSync(file, `plugin = "mysql-via-bastion"\n[options]\nbastion = "${sshd.user}@127.0.0.1:${sshd.port}"\n`);
    chmodSync(file, 0o664);
    const r = await runFwdToEnd(["run", "db"], { env: { HOME: h } });
    expect(r.stderr).toContain(`scenario ${file}: permissions 0664 let group change it`);
    expect(r.code).toBe(2);
    const listed = await runFwdToEnd(["scenarios"], { env: { HOME: h } });
    expect(listed.stdout).toContain(`db.toml: scenario ${file}: permissions 0664 let group change it`);
  });
});

test("the harness's own files (ssh-keygen keys 0600, temp dirs 0700 under sticky /tmp) are trusted", async () => {
  const fwd = runFwd([...sshd.clientArgs, "-L", `0:127.0.0.1:${echo.port}`, sshd.host]);
  try {
    await fwd.waitFor(/^listening /);
    expect((await exchange(fwd.ports[0]!, "trusted")).reply.toString()).toBe("trusted");
  } finally {
    expect(await fwd.stop()).toBe(0);
  }
}, 30_000);
