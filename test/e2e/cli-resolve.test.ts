// `fwd -G` against `ssh -G` for the same arguments and config, key by key; `--dry-run` and `-G` on
// the ssh-style command print and exit without a single TCP connection to the server.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fwdSync } from "../cli/run-cli.ts";

let dir: string;
let cfg: string;
let key: string;
let server: net.Server;
let serverPort: number;
let accepted = 0;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "fwd-resolve-"));
  key = join(dir, "id_test");
  spawnSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", key]);
  cfg = join(dir, "config");
  writeFileSync(
    cfg,
    [
      "Host bast",
      "  HostName 10.1.2.3",
      "  User deploy",
      "  Port 2222",
      `  IdentityFile ${key}`,
      "  IdentitiesOnly yes",
      "  BatchMode yes",
      "  ExitOnForwardFailure yes",
      "  Compression yes",
      "  ConnectTimeout 7",
      "  ServerAliveInterval 30",
      "  ServerAliveCountMax 4",
      "  Ciphers aes256-gcm@openssh.com,aes128-ctr",
      "  StrictHostKeyChecking accept-new",
      `  UserKnownHostsFile ${join(dir, "known_hosts")}`,
      "  GlobalKnownHostsFile /etc/ssh/ssh_known_hosts",
      "  PermitRemoteOpen localhost:80 *:443",
      "  LocalForward 3306 db.internal:3306",
      "  ForwardAgent yes",
      "Host *",
      "  User nobody",
      "",
    ].join("\n"),
  );
  // Stands in for an SSH server: --dry-run and -G must never reach it.
  server = net.createServer((s) => {
    accepted++;
    s.destroy();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  serverPort = (server.address() as net.AddressInfo).port;
});
afterAll(() => {
  server?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** `key value` lines grouped by key, in order. */
function byKey(text: string): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const line of text.trim().split("\n")) {
    const sp = line.indexOf(" ");
    const k = line.slice(0, sp);
    m.set(k, [...(m.get(k) ?? []), line.slice(sp + 1)]);
  }
  return m;
}

const sshG = (args: string[]) => {
  const r = spawnSync("ssh", ["-G", ...args], { env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: "/root" } });
  expect(r.status).toBe(0);
  return byKey(r.stdout.toString());
};

describe("fwd -G, key by key against ssh -G", () => {
  test("everything set in ssh_config and on the command line agrees for every key fwd prints", () => {
    const args = ["-F", cfg, "-L", "127.0.0.1:8080:web:80", "-L", "9090:[::1]:90", "-R", "7000", "-R", "0.0.0.0:7001:localhost:22", "-D", "[::1]:1080", "-D", "1081", "-J", "jumper:2200", "-o", "ServerAliveCountMax=5", "bast"];
    const r = fwdSync(["-G", ...args], { HOME: "/root" });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const mine = byKey(r.stdout);
    const theirs = sshG(args);
    expect([...mine.keys()].length).toBeGreaterThanOrEqual(22);
    for (const [k, values] of mine) expect([k, values]).toEqual([k, theirs.get(k) ?? []]);
    // The lines that prove the forwards came through, as ssh spells them.
    expect(mine.get("localforward")).toEqual(["[127.0.0.1]:8080 [web]:80", "9090 [::1]:90", "3306 [db.internal]:3306"]);
    expect(mine.get("remoteforward")).toEqual(["7000 [socks]:0", "[0.0.0.0]:7001 [localhost]:22"]);
    expect(mine.get("dynamicforward")).toEqual(["[::1]:1080", "1081"]);
  });

  test("with nothing configured, only fwd's own defaults differ, each for a reason", () => {
    const empty = join(dir, "empty_config");
    writeFileSync(empty, "");
    const args = ["-F", empty, "-L", "8080:web:80", "plain.example"];
    const mine = byKey(fwdSync(["-G", ...args], { HOME: "/root", USER: "root" }).stdout);
    const theirs = sshG(args);
    const differ = [...mine.keys()].filter((k) => JSON.stringify(mine.get(k)) !== JSON.stringify(theirs.get(k))).sort();
    expect(differ).toEqual(["ciphers", "connecttimeout", "identityfile", "serveraliveinterval"]);
    // fwd keeps tunnels alive by default (ssh: 0, off) and bounds the whole login (ssh: TCP's timeout).
    expect([mine.get("serveraliveinterval"), theirs.get("serveraliveinterval")]).toEqual([["15"], ["0"]]);
    expect([mine.get("connecttimeout"), theirs.get("connecttimeout")]).toEqual([["30"], ["none"]]);
    // ssh2 under Bun prefers AES-GCM; fwd tries the three key types it can load, not DSA/XMSS/FIDO ones.
    expect(mine.get("identityfile")).toEqual(["/root/.ssh/id_ed25519", "/root/.ssh/id_ecdsa", "/root/.ssh/id_rsa"]);
    for (const f of ["id_ed25519", "id_ecdsa", "id_rsa"]) expect(theirs.get("identityfile")).toContain(`~/.ssh/${f}`);
  });
});

describe("nothing connects", () => {
  test("--dry-run on the ssh-style command prints the plan, redacts the SOCKS password, exits 0", () => {
    const pw = join(dir, "socks_pw");
    writeFileSync(pw, "hunter2-secret\n", { mode: 0o600 });
    const before = accepted;
    const r = fwdSync(["--dry-run", "-F", "none", "-o", "User=alice", "-p", String(serverPort), "-i", key, "-L", "0:127.0.0.1:9", "-D", "0", "--socks-user", "bob", "--socks-password-file", pw, "127.0.0.1"]);
    expect(r.code).toBe(0);
    expect(r.stdout.split("\n")).toEqual([
      `session main: alice@127.0.0.1:${serverPort}`,
      `hop 1: alice@127.0.0.1:${serverPort}, keys ${key}, host keys ask`,
      "forward -L 0:127.0.0.1:9: local 127.0.0.1:0 -> 127.0.0.1:9",
      "forward -D 0: dynamic 127.0.0.1:0 -> SOCKS, SOCKS user bob password ••••••",
      `equivalent: ssh -N -p ${serverPort} -L 127.0.0.1:0:127.0.0.1:9 -D 127.0.0.1:0 alice@127.0.0.1`,
      "",
    ]);
    expect(r.stdout + r.stderr).not.toContain("hunter2");
    expect(accepted).toBe(before);
  });

  test("-G connects nowhere either", () => {
    const before = accepted;
    const r = fwdSync(["-G", "-F", "none", "-p", String(serverPort), "-L", "0:127.0.0.1:9", "127.0.0.1"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`port ${serverPort}\n`);
    expect(accepted).toBe(before);
  });

  test("--dry-run with nothing to forward is still the usual error", () => {
    const r = fwdSync(["--dry-run", "-F", "none", "127.0.0.1"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("nothing to forward");
  });
});
