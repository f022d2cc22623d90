// A real OpenSSH sshd on a free loopback port, with its own host key, a client key in
// authorized_keys and a known_hosts file that trusts it. Stopped (and its temp dir removed) by stop().

import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./net.ts";

export interface Sshd {
  host: string;
  port: number;
  user: string;
  dir: string;
  /** Private key the server accepts. */
  clientKey: string;
  /** A known_hosts file holding the server's key for [127.0.0.1]:port. */
  knownHosts: string;
  /** The server's public host key line (`ssh-ed25519 AAAA… comment`). */
  hostKeyPub: string;
  /** The command-line flags that make `fwd` or `ssh` connect with none of the user's own settings. */
  clientArgs: string[];
  /** What sshd has written to its log (stderr) since it was started first. */
  output(): string;
  /** Stops sshd (SIGKILL if asked) without removing its files, so start() can bring it back. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** A server crash: SIGKILL to sshd and to every session process it started (they outlive it otherwise). */
  crash(): Promise<void>;
  /** A new host key (known_hosts is left as it was, so clients see a changed key). Restart to apply. */
  rekey(): void;
  /** Empties authorized_keys, so the client key no longer gets in. */
  revokeClient(): void;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface SshdOptions {
  /** Extra sshd_config lines, e.g. { AllowTcpForwarding: "no" }. */
  config?: Record<string, string>;
  /** Key type of the host key. */
  hostKeyType?: "ed25519" | "ecdsa" | "rsa";
  /** Run inside a test host (a network namespace) and listen on its address. */
  host?: { address: string; exec: string[] };
  /** The port inside a test host (default 2200). */
  port?: number;
}

const SSHD = "/usr/sbin/sshd";

export async function startSshd(opts: SshdOptions = {}): Promise<Sshd> {
  const dir = mkdtempSync(join(tmpdir(), "fwd-sshd-"));
  const keygen = (file: string, type: string) => {
    const r = spawnSync("ssh-keygen", ["-q", "-t", type, "-N", "", "-C", "fwd-test", "-f", file]);
    if (r.status !== 0) throw new Error(`ssh-keygen failed: ${r.stderr}`);
  };
  const hostKey = join(dir, "host_key");
  const clientKey = join(dir, "id_ed25519");
  keygen(hostKey, opts.hostKeyType ?? "ed25519");
  keygen(clientKey, "ed25519");
  writeFileSync(join(dir, "authorized_keys"), readFileSync(`${clientKey}.pub`));
  const hostKeyPub = readFileSync(`${hostKey}.pub`, "utf8").trim();
  const address = opts.host?.address ?? "127.0.0.1";
  // Inside a fresh namespace every port is free; on loopback ask the kernel for one.
  const port = opts.host ? (opts.port ?? 2200) : await freePort();
  const knownHosts = join(dir, "known_hosts");
  writeFileSync(knownHosts, `[${address}]:${port} ${hostKeyPub}\n`);
  const user = (spawnSync("id", ["-un"]).stdout?.toString().trim() || process.env.USER) ?? "root";
  const config: Record<string, string> = {
    Port: String(port),
    ListenAddress: address,
    HostKey: hostKey,
    PidFile: join(dir, "sshd.pid"),
    AuthorizedKeysFile: join(dir, "authorized_keys"),
    StrictModes: "no",
    UsePAM: "no",
    PermitRootLogin: "prohibit-password",
    PasswordAuthentication: "no",
    KbdInteractiveAuthentication: "no",
    AllowTcpForwarding: "yes",
    AllowStreamLocalForwarding: "yes",
    LogLevel: "VERBOSE",
    MaxStartups: "1000",
    MaxSessions: "1000",
    ...opts.config,
  };
  writeFileSync(join(dir, "sshd_config"), Object.entries(config).map(([k, v]) => `${k} ${v}`).join("\n") + "\n");
  // sshd started by root refuses to run without its privilege-separation directory.
  mkdirSync("/run/sshd", { recursive: true });

  let child: ChildProcess | undefined;
  const output: string[] = [];
  const start = async () => {
    const argv = [...(opts.host?.exec ?? []), SSHD, "-D", "-e", "-f", join(dir, "sshd_config")];
    const p = spawn(argv[0]!, argv.slice(1), { stdio: ["ignore", "ignore", "pipe"] });
    child = p;
    const log: string[] = [];
    // sshd says when it listens; waiting on that works for hosts this namespace cannot reach too.
    const listening = new Promise<void>((resolve) =>
      p.stderr!.on("data", (d: Buffer) => {
        log.push(d.toString());
        output.push(d.toString());
        if (log.join("").includes("Server listening on")) resolve();
      }),
    );
    const exited = new Promise<never>((_, reject) =>
      p.once("exit", (code) => reject(new Error(`sshd exited (${code}): ${log.join("")}`))),
    );
    exited.catch(() => {});
    const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`sshd did not listen within 10 s: ${log.join("")}`)), 10_000).unref());
    await Promise.race([listening, exited, timeout]);
  };
  const kill = async (signal: NodeJS.Signals = "SIGTERM") => {
    const p = child;
    child = undefined;
    if (!p || p.exitCode !== null) return;
    const gone = new Promise((r) => p.once("exit", r));
    p.kill(signal);
    // An sshd that does not go within 3 s is killed outright: a test must not leave one behind.
    const force = setTimeout(() => p.kill("SIGKILL"), 3_000);
    await gone;
    clearTimeout(force);
  };
  const crash = async () => {
    const pid = child?.pid;
    if (pid === undefined) return;
    // Session processes call setsid(), so they are found by parent, not by process group.
    const sessions = spawnSync("pgrep", ["-P", String(pid)], { encoding: "utf8" }).stdout.split("\n").filter(Boolean);
    for (const s of sessions) {
      try {
        process.kill(Number(s), "SIGKILL");
      } catch {}
    }
    await kill("SIGKILL");
  };
  await start();
  return {
    host: address,
    crash,
    output: () => output.join(""),
    rekey: () => {
      rmSync(hostKey, { force: true });
      rmSync(`${hostKey}.pub`, { force: true });
      keygen(hostKey, opts.hostKeyType ?? "ed25519");
    },
    revokeClient: () => writeFileSync(join(dir, "authorized_keys"), ""),
    port,
    user,
    dir,
    clientKey,
    knownHosts,
    hostKeyPub,
    clientArgs: [
      "-F", "none",
      "-p", String(port),
      "-l", user,
      "-i", clientKey,
      "-o", "IdentitiesOnly=yes",
      "-o", `UserKnownHostsFile=${knownHosts}`,
      "-o", "StrictHostKeyChecking=yes",
    ],
    kill,
    start,
    stop: async () => {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
