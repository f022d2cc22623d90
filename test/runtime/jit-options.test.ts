// A tunnel process starts again (execve, same pid) with the JSC settings of runtime/jit-options.ts,
// and a user's own BUN_JSC_ value for the same option is kept instead.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runFwd, TEST_HOME } from "../harness/fwd.ts";
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

test("a process given a descriptor above 2 is not started again: -F /dev/fd/63 still reads the file", () => {
  // A descriptor the shell opened for fwd (here 63, as bash's <(…) uses) was gone across execve
  // (seen: "no such file or directory, open '/dev/fd/63'"), so fwd must not start again.
  const dir = mkdtempSync(join(tmpdir(), "fwd-fd-"));
  const cfg = join(dir, "config");
  writeFileSync(cfg, "Host lab\n  HostName 127.0.0.1\n  Port 2345\n", { mode: 0o600 });
  try {
    const main = join(import.meta.dir, "..", "..", "src", "main.ts");
    const r = spawnSync("bash", ["-c", 'exec 63<"$2"; exec "$0" "$1" -F /dev/fd/63 -G lab', process.execPath, main, cfg], {
      env: { PATH: process.env.PATH, HOME: TEST_HOME },
      encoding: "utf8",
      timeout: 20_000,
    });
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: "" });
    expect(r.stdout).toContain("port 2345");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
