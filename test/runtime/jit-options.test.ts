// A tunnel process starts again (execve, same pid) with the JSC settings of runtime/jit-options.ts,
// and a user's own BUN_JSC_ value for the same option is kept instead.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
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
