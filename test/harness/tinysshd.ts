// A real TinySSH server (Debian's tinysshd) on a free loopback port. tinysshd serves one connection
// on stdin/stdout, so ucspi-tcp's tcpserver runs one per connection. It reads authorized_keys from
// the user's home in the password database (for root, /root): it runs in its own mount namespace
// with a temp dir bound over /root, so the machine's own keys are neither read nor touched.

import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./net.ts";

export interface Tinysshd {
  host: string;
  port: number;
  user: string;
  /** Private key tinysshd accepts. */
  clientKey: string;
  /** The command-line flags that make `fwd` connect with none of the user's own settings. */
  clientArgs: string[];
  stop(): Promise<void>;
}

/** Why TinySSH cannot run here, or undefined when it can. */
export function tinysshMissing(): string | undefined {
  if (process.getuid?.() !== 0) return "TinySSH tests need root (a mount namespace hides /root)";
  for (const bin of ["/usr/sbin/tinysshd", "/usr/sbin/tinysshd-makekey", "/usr/sbin/tinysshd-printkey", "/usr/bin/tcpserver", "/usr/bin/unshare"])
    if (spawnSync("test", ["-x", bin]).status !== 0) return `${bin} is missing: run scripts/test-deps.sh`;
  return undefined;
}

export async function startTinysshd(): Promise<Tinysshd> {
  const dir = mkdtempSync(join(tmpdir(), "fwd-tinysshd-"));
  const keys = join(dir, "keys");
  const made = spawnSync("tinysshd-makekey", ["-q", keys], { encoding: "utf8" });
  if (made.status !== 0) throw new Error(`tinysshd-makekey failed: ${made.stderr}`);
  const hostKeyPub = spawnSync("tinysshd-printkey", [keys], { encoding: "utf8" }).stdout.trim().split("\n")[0]!;
  const clientKey = join(dir, "id_ed25519");
  const kg = spawnSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "fwd-test", "-f", clientKey], { encoding: "utf8" });
  if (kg.status !== 0) throw new Error(`ssh-keygen failed: ${kg.stderr}`);
  // tinysshd refuses an authorized_keys that others could have written, as sshd's StrictModes does.
  const home = join(dir, "home");
  mkdirSync(join(home, ".ssh"), { recursive: true });
  chmodSync(home, 0o700);
  chmodSync(join(home, ".ssh"), 0o700);
  writeFileSync(join(home, ".ssh", "authorized_keys"), readFileSync(`${clientKey}.pub`), { mode: 0o600 });
  const port = await freePort();
  const knownHosts = join(dir, "known_hosts");
  writeFileSync(knownHosts, `[127.0.0.1]:${port} ${hostKeyPub}\n`);

  // The bind covers the home tinysshd looks up for root (the password database's, not $HOME), inside
  // this namespace only.
  const rootHome = spawnSync("getent", ["passwd", "root"], { encoding: "utf8" }).stdout.split(":")[5] || "/root";
  const script = 'mount --bind "$0" "$1" && exec tcpserver -vHRl0 127.0.0.1 "$2" tinysshd -v "$3"';
  const child: ChildProcess = spawn("unshare", ["--mount", "--propagation", "private", "sh", "-c", script, home, rootHome, String(port), keys], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  const log: string[] = [];
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`tcpserver did not start within 10 s: ${log.join("")}`)), 10_000);
    child.stderr!.on("data", (d: Buffer) => {
      log.push(d.toString());
      // tcpserver -v says "status: 0/40" once it listens.
      if (log.join("").includes("status: 0/")) clearTimeout(timer), resolve();
    });
    child.once("exit", (code) => (clearTimeout(timer), reject(new Error(`tcpserver exited (${code}): ${log.join("")}`))));
  });
  return {
    host: "127.0.0.1",
    port,
    user: "root",
    clientKey,
    clientArgs: ["-F", "none", "-p", String(port), "-l", "root", "-i", clientKey, "-o", "IdentitiesOnly=yes", "-o", `UserKnownHostsFile=${knownHosts}`, "-o", "StrictHostKeyChecking=yes"],
    stop: async () => {
      if (child.exitCode === null) {
        const gone = new Promise((r) => child.once("exit", r));
        child.kill("SIGTERM");
        await gone;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
