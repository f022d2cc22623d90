// A tunnel process starts again (execve, same pid) with the JSC settings of runtime/jit-options.ts,
// and a user's own BUN_JSC_ value for the same option is kept instead.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runFwd } from "../harness/fwd.ts";
import { exchange, startEcho } from "../harness/net.ts";
import { startSshd, type Sshd } from "../harness/sshd.ts";
import { TUNNEL_JSC_OPTIONS } from "../../src/runtime/jit-options.ts";

let sshd: Sshd;
beforeAll(async () => {
  sshd = await startSshd();
});
afterAll(async () => {
  await sshd?.stop();
});

const environOf = (pid: number) =>
  readFileSync(`/proc/${pid}/environ`, "utf8").split("\0").filter((kv) => kv.startsWith("BUN_JSC_"));

for (const [label, env, want] of [
  ["fwd -L runs with FTL off, in the same process", {}, Object.entries(TUNNEL_JSC_OPTIONS).map(([k, v]) => `${k}=${v}`)],
  ["a BUN_JSC_useFTLJIT the user set is left as it is", { BUN_JSC_useFTLJIT: "1" }, ["BUN_JSC_useFTLJIT=1"]],
] as const) {
  test(label, async () => {
    const echo = await startEcho();
    const fwd = runFwd([...sshd.clientArgs, "-L", `0:127.0.0.1:${echo.port}`, sshd.host], { runtime: "bun", env });
    try {
      await fwd.waitFor(/^listening /);
      // The pid the harness spawned is the one listening: execve replaced the image, no child was made.
      expect(environOf(fwd.proc.pid!)).toEqual([...want]);
      expect((await exchange(fwd.ports[0]!, "after execve")).reply.toString()).toBe("after execve");
    } finally {
      expect(await fwd.stop()).toBe(0);
      await echo.close();
    }
  }, 30_000);
}

test("a process given a descriptor above 2 is not started again: -F /dev/fd/63 is still read, and the tunnel runs", async () => {
  // A descriptor the shell opened for fwd (63, as bash's <(…) uses) was gone across execve (seen:
  // "-F /dev/fd/63: no such file"), so fwd must not start again; it runs with JSC's defaults.
  const dir = mkdtempSync(join(tmpdir(), "fwd-fd-"));
  const cfg = join(dir, "config");
  writeFileSync(cfg, "Host *\n  ServerAliveInterval 30\n", { mode: 0o600 });
  const echo = await startEcho();
  const main = join(import.meta.dir, "..", "..", "src", "main.ts");
  const args = sshd.clientArgs.map((a) => (a === "none" ? "/dev/fd/63" : a));
  expect(args).toContain("/dev/fd/63");
  // bash opens the file as descriptor 63, then execs fwd in its own place (the pid stays the harness's).
  const fwd = runFwd(["-c", 'exec 63<"$0"; exec "$@"', cfg, process.execPath, main, ...args, "-L", `0:127.0.0.1:${echo.port}`, sshd.host], { binary: "bash" });
  try {
    await fwd.waitFor(/^listening /);
    expect(environOf(fwd.proc.pid!)).toEqual([]);
    expect((await exchange(fwd.ports[0]!, "fd 63 kept")).reply.toString()).toBe("fd 63 kept");
  } finally {
    expect(await fwd.stop()).toBe(0);
    await echo.close();
    rmSync(dir, { recursive: true, force: true });
  }
}, 30_000);
