// Table tests for ssh_config loading and host resolution over real files in a temp home: Include, host
// patterns, first-value-wins, -o precedence, tokens, validation messages, forwards; plus a cross-check
// of the resolved values against OpenSSH's own `ssh -G`.

import { afterEach, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { type HostConfig, loadSshConfig, resolveHost } from "../../src/config/ssh-config.ts";
import type { Result } from "../../src/errors.ts";

const SSH = "/usr/bin/ssh";
const LOCAL_USER = "alice";
const homes: string[] = [];

afterEach(async () => {
  await Promise.all(homes.splice(0).map((h) => rm(h, { recursive: true, force: true })));
});

/** Writes `files` (paths relative to the home, ~/.ssh/config among them) into a fresh temp home. */
async function makeHome(files: Record<string, string>): Promise<string> {
  const home = await mkdtemp(join(tmpdir(), "fwd-sshcfg-"));
  homes.push(home);
  for (const [rel, text] of Object.entries(files)) {
    await mkdir(dirname(join(home, rel)), { recursive: true });
    await writeFile(join(home, rel), text.replaceAll("$HOME", home));
  }
  return home;
}

async function resolve(home: string, alias: string, overrides: string[] = []): Promise<Result<HostConfig>> {
  const src = await loadSshConfig(undefined, home);
  if (!src.ok) return src;
  return resolveHost(src.value, alias, overrides, { localUser: LOCAL_USER, home });
}

async function host(files: Record<string, string>, alias: string, overrides: string[] = []): Promise<HostConfig> {
  const home = await makeHome(files);
  const r = await resolve(home, alias, overrides);
  if (!r.ok) throw new Error(`expected ok, got ${r.error.message}`);
  return r.value;
}

async function failure(files: Record<string, string>, alias: string, overrides: string[] = []) {
  const home = await makeHome(files);
  const r = await resolve(home, alias, overrides);
  if (r.ok) throw new Error(`expected an error, got ${JSON.stringify(r.value)}`);
  return { code: r.error.code, message: r.error.message, hint: r.error.hint ?? "" };
}

const CONFIG = ".ssh/config";

describe("defaults", () => {
  test("an alias nothing matches", async () => {
    const h = await host({}, "box");
    expect(h).toMatchObject({ alias: "box", hostName: "box", port: 22, identityFilesAreDefault: true, strictHostKeyChecking: "ask" });
    expect(h.user).toBeUndefined();
    expect(h.serverAliveInterval).toBe(15); // fwd's keepalive default, unlike ssh's 0
    expect(h.serverAliveCountMax).toBe(3);
    expect(h.connectTimeout).toBeUndefined();
    expect(h.identityFiles.map((f) => f.split("/.ssh/")[1])).toEqual(["id_ed25519", "id_ecdsa", "id_rsa"]);
    expect(h.globalKnownHostsFiles).toEqual(["/etc/ssh/ssh_known_hosts", "/etc/ssh/ssh_known_hosts2"]);
    expect(h.userKnownHostsFiles[0]?.endsWith("/.ssh/known_hosts")).toBe(true);
    expect([h.identitiesOnly, h.exitOnForwardFailure, h.forwardAgent, h.batchMode]).toEqual([false, false, false, false]);
    expect(h.ignoredOptions).toEqual([]);
  });

  test("a missing -F file is an error, a missing ~/.ssh/config is not, -F none reads nothing", async () => {
    const home = await makeHome({ [CONFIG]: "Port 1\n" });
    const missing = await loadSshConfig(join(home, "nope"), home);
    expect(missing.ok ? "" : missing.error.message).toBe("-F ~/nope: no such file");
    const none = await loadSshConfig("none", home);
    expect(none.ok && none.value.entries.length).toBe(0);
    const empty = await loadSshConfig(undefined, join(home, "elsewhere"));
    expect(empty.ok && empty.value.entries.length).toBe(0);
  });
});

describe("patterns and first value wins", () => {
  const config = [
    "Host web h?st",
    "  Port 1001",
    "Host *.prod !db.prod",
    "  Port 1002",
    "  User deploy",
    "Host !nothing",
    "  Port 1003",
    "Host db.*",
    "  User dba",
    "  Port 1004",
    "Host *",
    "  Port 1005",
    "  User everyone",
    "  Port 1006",
  ].join("\n");
  const cases: [string, number, string][] = [
    ["web", 1001, "everyone"],
    ["host", 1001, "everyone"],
    ["hst", 1005, "everyone"], // ? is exactly one character
    ["hoost", 1005, "everyone"],
    ["api.prod", 1002, "deploy"],
    ["db.prod", 1004, "dba"], // negation excludes db.prod from *.prod
    ["nothing", 1005, "everyone"], // a Host line of negations alone never matches
    ["WEB", 1005, "everyone"], // ssh matches case-sensitively
  ];
  test.each(cases)("%s → port %d, user %s", async (alias, port, user) => {
    const h = await host({ [CONFIG]: config }, alias);
    expect([h.port, h.user]).toEqual([port, user]);
  });
});

describe("Include", () => {
  const files = {
    [CONFIG]: ["Include conf.d/*.conf", "Host web", "  Include web.inc", "  HostName web.example", "Host *", "  User last"].join("\n"),
    ".ssh/conf.d/b.conf": "Host api\n  Port 2002\n  User from-b\n",
    ".ssh/conf.d/a.conf": "Host api\n  Port 2001\nInclude nested/deeper.conf\n",
    ".ssh/conf.d/.hidden.conf": "Host api\n  Port 9999\n",
    ".ssh/nested/deeper.conf": "Host api\n  ConnectTimeout 7\n",
    ".ssh/web.inc": "User incuser\nHost other\n  Port 2200\n",
  };
  test("a relative glob is read from ~/.ssh in sorted order, nested includes too, hidden files skipped", async () => {
    const h = await host(files, "api");
    expect([h.port, h.user, h.connectTimeout]).toEqual([2001, "from-b", 7]);
  });
  test("an Include inside a Host applies only there, and the block goes on after it", async () => {
    const web = await host(files, "web");
    expect([web.user, web.hostName]).toEqual(["incuser", "web.example"]);
    const other = await host(files, "other");
    expect([other.user, other.port]).toEqual(["last", 22]);
  });
  test("an absolute path and ~/ work, a missing file is skipped", async () => {
    const h = await host({ [CONFIG]: "Include $HOME/abs.conf ~/tilde.conf /no/such/file\n", "abs.conf": "Port 3001\n", "tilde.conf": "User t\n" }, "x");
    expect([h.port, h.user]).toEqual([3001, "t"]);
  });
  test("an Include loop stops at depth 16", async () => {
    const e = await failure({ [CONFIG]: "Include config\n" }, "x");
    expect(e.message).toBe("~/.ssh/config: Include nested more than 16 deep");
  });
});

describe("-o overrides", () => {
  const files = { [CONFIG]: "Host db\n  Port 5000\n  User file-user\n  IdentityFile ~/.ssh/file_key\n" };
  const cases: [string[], number, string | undefined][] = [
    [[], 5000, "file-user"],
    [["Port=6000"], 6000, "file-user"],
    [["port 6001"], 6001, "file-user"],
    [["PORT = 6002", "Port=6003"], 6002, "file-user"], // the first -o wins too
    [["User=bob", "LogLevel=DEBUG3"], 5000, "bob"], // LogLevel is accepted and ignored
  ];
  test.each(cases)("%j", async (overrides, port, user) => {
    const h = await host(files, "db", overrides);
    expect([h.port, h.user]).toEqual([port, user]);
  });
  test("-o IdentityFile comes before the file's", async () => {
    const h = await host(files, "db", ["IdentityFile=/k/cli"]);
    expect(h.identityFiles.map((f) => f.replace(/^.*\/\.ssh\//, "~/.ssh/"))).toEqual(["/k/cli", "~/.ssh/file_key"]);
    expect(h.identityFilesAreDefault).toBe(false);
  });
  const bad: [string, string][] = [
    ["Bogus=1", `-o 'Bogus=1': unknown or unsupported option "Bogus"`],
    ["ProxyCommand=nc %h %p", `-o 'ProxyCommand=nc %h %p': unknown or unsupported option "ProxyCommand"`],
    ["Host=x", "-o 'Host=x': Host is not supported on the command line"],
    ["Port=0", `-o Port: expected an integer 1–65535, received "0"`],
    ["Port=", "-o 'Port=': missing value"],
  ];
  test.each(bad)("rejects %p", async (o, message) => {
    const e = await failure(files, "db", [o]);
    expect([e.code, e.message]).toEqual(["E_CONFIG", message]);
  });
});

describe("tokens", () => {
  test("~ and %-tokens in IdentityFile, UserKnownHostsFile, IdentityAgent and HostName", async () => {
    const config = [
      "Host Box",
      "  HostName %h.Example.org",
      "  User bob",
      "  Port 2222",
      "  IdentityFile ~/.ssh/%n-%h-%r-%u-%p-%%",
      '  IdentityFile "%d/with space"',
      "  UserKnownHostsFile ~/kh/%h /etc/kh2",
      "  IdentityAgent ~/agent.sock",
      "  GlobalKnownHostsFile /etc/g1 ~/g2",
    ].join("\n");
    const home = await makeHome({ [CONFIG]: config });
    const h = await resolve(home, "Box");
    if (!h.ok) throw h.error;
    expect(h.value.hostName).toBe("box.example.org");
    expect(h.value.identityFiles).toEqual([`${home}/.ssh/Box-box.example.org-bob-alice-2222-%`, `${home}/with space`]);
    expect(h.value.userKnownHostsFiles).toEqual([`${home}/kh/box.example.org`, "/etc/kh2"]);
    expect(h.value.identityAgent).toBe(`${home}/agent.sock`);
    expect(h.value.globalKnownHostsFiles).toEqual(["/etc/g1", "~/g2"]);
  });
  test("%r is the local user when no User is set; special IdentityAgent values stay as written", async () => {
    const h = await host({ [CONFIG]: "IdentityFile /k/%r\nIdentityAgent SSH_AUTH_SOCK\n" }, "x");
    expect([h.identityFiles, h.identityAgent]).toEqual([["/k/alice"], "SSH_AUTH_SOCK"]);
  });
  const bad: [string, string][] = [
    ["IdentityFile ~/.ssh/%C", `~/.ssh/config: IdentityFile: "~/.ssh/%C": unknown token %C`],
    ["HostName %d.example", `~/.ssh/config: HostName: "%d.example": unknown token %d`],
    ["UserKnownHostsFile ~bob/kh", `~/.ssh/config: UserKnownHostsFile: "~bob/kh": ~user paths are not supported`],
  ];
  test.each(bad)("rejects %p", async (line, message) => {
    expect((await failure({ [CONFIG]: line }, "x")).message).toBe(message);
  });
});

describe("values", () => {
  const good: [string, Partial<HostConfig>][] = [
    ["BatchMode True\nExitOnForwardFailure YES\nForwardAgent false\nIdentitiesOnly yes", { batchMode: true, exitOnForwardFailure: true, forwardAgent: false, identitiesOnly: true }],
    ["StrictHostKeyChecking accept-new", { strictHostKeyChecking: "accept-new" }],
    ["StrictHostKeyChecking off", { strictHostKeyChecking: "no" }],
    ["StrictHostKeyChecking True", { strictHostKeyChecking: "yes" }],
    ["ConnectTimeout 1m30s\nServerAliveInterval 15\nServerAliveCountMax 0", { connectTimeout: 90, serverAliveInterval: 15, serverAliveCountMax: 0 }],
    ["ProxyJump bastion,jump2:2200\nHostKeyAlgorithms ssh-ed25519", { proxyJump: "bastion,jump2:2200", hostKeyAlgorithms: "ssh-ed25519" }],
    ["Port=2200\nUser = carol", { port: 2200, user: "carol" }],
  ];
  test.each(good)("%p", async (text, want) => {
    expect(await host({ [CONFIG]: text }, "x")).toMatchObject(want);
  });
  test("ProxyJump none and ConnectTimeout 0 mean unset", async () => {
    const h = await host({ [CONFIG]: "ProxyJump none\nConnectTimeout 0\n" }, "x");
    expect([h.proxyJump, h.connectTimeout]).toEqual([undefined, undefined]);
  });

  const bad: [string, string, string][] = [
    ["Port abc", `~/.ssh/config: Port: expected an integer 1–65535, received "abc"`, "Port 22"],
    ["Port 70000", `~/.ssh/config: Port: expected an integer 1–65535, received "70000"`, "Port 22"],
    ["BatchMode maybe", `~/.ssh/config: BatchMode: expected yes or no, received "maybe"`, "yes or no"],
    ["StrictHostKeyChecking sometimes", `~/.ssh/config: StrictHostKeyChecking: expected yes, accept-new, no or ask, received "sometimes"`, "accept-new"],
    ["ConnectTimeout soon", `~/.ssh/config: ConnectTimeout: expected a time such as 30, 90s or 1m30s, received "soon"`, "ConnectTimeout"],
    ["ServerAliveCountMax -1", `~/.ssh/config: ServerAliveCountMax: expected a whole number, received "-1"`, "count"],
    ["HostName two words", `~/.ssh/config: HostName: expected one value, received "two words"`, "HostName"],
    ["ForwardAgent /tmp/agent", `~/.ssh/config: ForwardAgent: expected yes or no, received "/tmp/agent"`, "not a socket path"],
    ['User "unterminated', "~/.ssh/config: cannot parse: Unexpected line break at unterminated", "ssh_config(5)"],
    ["User\n  Port 22", "~/.ssh/config: User: missing value", "needs a value"],
    ["Port", "~/.ssh/config: Port: missing value", "needs a value"],
  ];
  test.each(bad)("rejects %p", async (text, message, hint) => {
    const e = await failure({ [CONFIG]: `Host x\n  ${text}\n` }, "x");
    expect([e.code, e.message]).toEqual(["E_CONFIG", message]);
    expect(e.hint).toContain(hint);
  });
  test("a bad value for another host is not looked at", async () => {
    expect((await host({ [CONFIG]: "Host other\n  Port abc\n" }, "x")).port).toBe(22);
  });
});

describe("forwards", () => {
  test("LocalForward/RemoteForward/DynamicForward become -L/-R/-D specs, all of them, -o first", async () => {
    const config = [
      "Host x",
      "  LocalForward 8080 db:5432",
      "  LocalForward [::1]:8443 [fe80::1]:443",
      "  LocalForward /tmp/l.sock /run/r.sock",
      "  RemoteForward 9000 localhost:3000",
      "  RemoteForward 1080",
      "  DynamicForward 127.0.0.1:1081",
    ].join("\n");
    const h = await host({ [CONFIG]: config }, "x", ["LocalForward=7000 web:80"]);
    expect(h.localForwards).toEqual(["7000:web:80", "8080:db:5432", "[::1]:8443:[fe80::1]:443", "/tmp/l.sock:/run/r.sock"]);
    expect(h.remoteForwards).toEqual(["9000:localhost:3000", "1080"]);
    expect(h.dynamicForwards).toEqual(["127.0.0.1:1081"]);
  });
  const bad: [string, string][] = [
    ["LocalForward 8080", `~/.ssh/config: LocalForward: expected 2 values, received "8080"`],
    ["LocalForward 8080 db:http", `~/.ssh/config: LocalForward: -L '8080:db:http': target port: expected an integer 1–65535, received "http"`],
    ["RemoteForward 1 2 3", `~/.ssh/config: RemoteForward: expected 1 or 2 values, received "1 2 3"`],
    ["DynamicForward x", `~/.ssh/config: DynamicForward: -D 'x': bind port: expected an integer 0–65535, received "x"`],
  ];
  test.each(bad)("rejects %p", async (line, message) => {
    expect((await failure({ [CONFIG]: line }, "x")).message).toBe(message);
  });
});

describe("Match and options fwd ignores", () => {
  const config = [
    "Host x",
    "  ProxyCommand nc %h %p",
    "  LogLevel ERROR",
    "  HostName x.example",
    "Match originalhost x user bob",
    "  Port 4001",
    "Match host x.example !localuser root",
    "  Port 4002",
    "Match exec true",
    "  Port 4003",
    "Match all",
    "  User fallback",
  ].join("\n");
  test.each([
    [[], 4002, "fallback"],
    [["User=bob"], 4001, "bob"],
  ] as [string[], number, string][])("%j", async (overrides, port, user) => {
    const h = await host({ [CONFIG]: config }, "x", overrides);
    expect([h.port, h.user]).toEqual([port, user]);
  });
  test("Match host uses the HostName set before the Match", async () => {
    const h = await host({ [CONFIG]: "HostName real.example\nMatch host *.example\n  Port 4010\n" }, "alias");
    expect([h.hostName, h.port]).toEqual(["real.example", 4010]);
  });
  test("ignored options and Match kinds are listed, harmless ones are not", async () => {
    const h = await host({ [CONFIG]: config }, "x");
    expect(h.ignoredOptions).toEqual(["ProxyCommand", "Match exec"]);
  });
});

describe("agrees with ssh -G", () => {
  const config = [
    "Host web h?st",
    "  Port 1001",
    "  Include $HOME/inc.conf",
    "Host *.prod !db.prod",
    "  User deploy",
    "  ConnectTimeout 1m",
    "Host db.*",
    "  HostName %h.internal",
    "  StrictHostKeyChecking accept-new",
    "Match originalhost api.* user deploy",
    "  ServerAliveInterval 5",
    "Match host *.internal !originalhost db.prod",
    "  ConnectTimeout 3",
    "Host *",
    "  ServerAliveInterval 20",
    "  Port 1005",
  ].join("\n");
  const inc = "User inc\nHost other\n  Port 2200\n";
  test.each(["web", "host", "hst", "api.prod", "db.prod", "db.test", "other", "WEB"])("%s", async (alias) => {
    const home = await makeHome({ [CONFIG]: config, "inc.conf": inc });
    const r = spawnSync(SSH, ["-G", "-F", join(home, CONFIG), alias], { encoding: "utf8" });
    expect(r.status).toBe(0);
    const ssh = new Map(r.stdout.split("\n").map((l) => [l.slice(0, l.indexOf(" ")), l.slice(l.indexOf(" ") + 1)]));
    const src = await loadSshConfig(join(home, CONFIG), home);
    if (!src.ok) throw src.error;
    const localUser = ssh.get("user") ?? "";
    const mine = resolveHost(src.value, alias, [], { localUser, home });
    if (!mine.ok) throw mine.error;
    const h = mine.value;
    expect({
      hostname: h.hostName,
      port: String(h.port),
      user: h.user ?? localUser,
      connecttimeout: h.connectTimeout === undefined ? "none" : String(h.connectTimeout),
      serveraliveinterval: String(h.serverAliveInterval),
      stricthostkeychecking: String(h.strictHostKeyChecking),
    }).toEqual({
      hostname: ssh.get("hostname") ?? "",
      port: ssh.get("port") ?? "",
      user: ssh.get("user") ?? "",
      connecttimeout: ssh.get("connecttimeout") ?? "",
      serveraliveinterval: ssh.get("serveraliveinterval") ?? "",
      stricthostkeychecking: ssh.get("stricthostkeychecking") ?? "",
    });
  });
});

describe("PermitRemoteOpen", () => {
  const cases: [string, HostConfig["permitRemoteOpen"]][] = [
    ["any", undefined],
    ["none", []],
    ["127.0.0.1:8080", [{ host: "127.0.0.1", port: 8080 }]],
    ["*:443 db.internal:*", [{ host: "*", port: 443 }, { host: "db.internal", port: "*" }]],
    ["[::1]:22", [{ host: "::1", port: 22 }]],
  ];
  for (const [value, want] of cases)
    test(`PermitRemoteOpen ${value}`, async () => {
      expect((await host({ [CONFIG]: `PermitRemoteOpen ${value}\n` }, "x")).permitRemoteOpen).toEqual(want as never);
      expect((await host({}, "x", [`PermitRemoteOpen=${value}`])).permitRemoteOpen).toEqual(want as never);
    });

  test("unset means any, the first line wins, and it is no longer an option fwd ignores", async () => {
    const h = await host({ [CONFIG]: "Host x\n  PermitRemoteOpen none\nHost *\n  PermitRemoteOpen any\n" }, "x");
    expect([h.permitRemoteOpen, h.ignoredOptions]).toEqual([[], []]);
    expect((await host({}, "x")).permitRemoteOpen).toBeUndefined();
  });

  const bad: [string, string][] = [
    ["any b:1", '~/.ssh/config: PermitRemoteOpen: "any" must appear alone'],
    ["a:0", '~/.ssh/config: PermitRemoteOpen: "a:0": expected a port 1–65535 or *'],
    ["a:b", '~/.ssh/config: PermitRemoteOpen: "a:b": expected a port 1–65535 or *'],
    ["a", '~/.ssh/config: PermitRemoteOpen: expected host:port, received "a"'],
    [":80", '~/.ssh/config: PermitRemoteOpen: expected host:port, received ":80"'],
  ];
  for (const [value, message] of bad)
    test(`PermitRemoteOpen ${value} is refused`, async () => {
      const e = await failure({ [CONFIG]: `PermitRemoteOpen ${value}\n` }, "x");
      expect([e.code, e.message, e.hint]).toEqual(["E_CONFIG", message, "use PermitRemoteOpen any, none, or host:port … (`*` for any host or any port)"]);
    });
});
