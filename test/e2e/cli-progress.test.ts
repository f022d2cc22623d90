// The live progress line: on a terminal (script(1) gives fwd a pseudo-terminal) one line rewritten
// through resolving, connecting, key exchange and authenticating, erased before anything else is
// printed; on a pipe, or with --json, not a byte of it.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { runFwdToEnd, TEST_HOME } from "../harness/fwd.ts";
import { startSshd, type Sshd } from "../harness/sshd.ts";

let sshd: Sshd;
let args: string[];
beforeAll(async () => {
  sshd = await startSshd();
  // Reached by name, so there is a DNS step to show: known_hosts must know the key under that name.
  const known = join(sshd.dir, "known_hosts_by_name");
  writeFileSync(known, `[localhost]:${sshd.port} ${sshd.hostKeyPub}\n`);
  args = sshd.clientArgs.map((a) => (a.startsWith("UserKnownHostsFile=") ? `UserKnownHostsFile=${known}` : a));
});
afterAll(async () => {
  await sshd?.stop();
});

const CLEAR = "\r\x1b[2K";

/** fwd on a pseudo-terminal, to its end; everything the terminal showed. */
function onTerminal(fwdArgs: string[]): Promise<{ code: number | null; screen: string }> {
  const cmd = [process.execPath, join(import.meta.dir, "..", "..", "src", "main.ts"), ...fwdArgs];
  const p = spawn("script", ["-qefc", `exec ${cmd.map((a) => `'${a}'`).join(" ")}`, "/dev/null"], {
    env: { PATH: process.env.PATH ?? "", HOME: TEST_HOME, TERM: "dumb" },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let screen = "";
  p.stdout!.on("data", (d: Buffer) => (screen += d.toString()));
  const timer = setTimeout(() => p.kill("SIGKILL"), 20_000);
  return new Promise((resolve) =>
    p.once("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, screen });
    }),
  );
}

describe("progress while connecting", () => {
  test("on a terminal: each stage in place, erased before the first line that stays", async () => {
    const { code, screen } = await onTerminal([...args, "-L", "0:127.0.0.1:9", "localhost", "--", "echo", "remote-ran"]);
    expect(code).toBe(0);
    const label = `${sshd.user}@localhost:${sshd.port}`;
    const frames = screen.split(CLEAR).slice(1, -1).map((f) => f.replace(/\r?\n.*$/s, ""));
    expect(frames).toEqual([
      `connecting: ${label}: resolving localhost`,
      expect.stringMatching(new RegExp(`^connecting: ${label}: connecting to (127\\.0\\.0\\.1|\\[::1\\]):${sshd.port}$`)),
      `connecting: ${label}: key exchange`,
      `connecting: ${label}: authenticating`,
      // The log's own line (it stays): printed on a line the progress line was erased from.
      `${label}: connected`,
      `${label}: connected, opening forwards`,
    ]);
    // The last frame is erased before the listening line and the command's output.
    expect(screen).toMatch(new RegExp(`${CLEAR.replace(/[[\]\\]/g, "\\$&")}(\\r?\\n)?listening 127\\.0\\.0\\.1:\\d+ -> 127\\.0\\.0\\.1:9`));
    expect(screen).toContain("remote-ran");
  });

  test("fwd check (and run) on a terminal: the same line, erased before the ✓ lines", async () => {
    const ssh = args.filter((a, i) => !["-p", "-l"].includes(a) && !["-p", "-l"].includes(args[i - 1]!));
    const { code, screen } = await onTerminal(["check", "ssh-via-bastion", "--bastion", `${sshd.user}@localhost:${sshd.port}`, "--host", `127.0.0.1:${sshd.port}`, "--listen", "127.0.0.1:0", ...ssh]);
    expect(code).toBe(0);
    const label = `${sshd.user}@localhost:${sshd.port}`;
    expect(screen).toContain(`${CLEAR}connecting: ${label}: resolving localhost`);
    expect(screen).toContain(`${CLEAR}connecting: ${label}: authenticating`);
    expect(screen).toMatch(new RegExp(`${CLEAR.replace(/[[\]\\]/g, "\\$&")}(\\r?\\n)?✓ ssh: connected to ${label}`));
    expect(screen).toContain("✓ probe: ");
  });

  test("with --json on a terminal: none", async () => {
    const { code, screen } = await onTerminal([...args, "--json", "-L", "0:127.0.0.1:9", "localhost", "--", "true"]);
    expect(code).toBe(0);
    expect(screen).not.toContain("\x1b[2K");
    expect(screen).not.toContain("connecting:");
  });

  test("on a pipe: none", async () => {
    const r = await runFwdToEnd([...args, "-L", "0:127.0.0.1:9", "localhost", "--", "true"]);
    expect(r.code).toBe(0);
    expect(r.stdout + r.stderr).not.toContain("\x1b[2K");
    expect(r.stdout + r.stderr).not.toContain("connecting:");
  });
});
