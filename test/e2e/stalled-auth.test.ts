// A server that completes the key exchange and then never answers authentication (a real sshd behind
// a relay that stops carrying the client's bytes after NEWKEYS): ConnectTimeout must end every
// attempt, on the first connection and on reconnect, with a reason that names authentication.

import { afterEach, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { runFwd, runFwdToEnd } from "../harness/fwd.ts";
import { exchange, startEcho } from "../harness/net.ts";
import { startSshd } from "../harness/sshd.ts";
import { startStallRelay } from "../harness/stall-relay.ts";

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

/** sshd behind a relay, and fwd's arguments to reach it there (its own known_hosts line for the relay's port). */
async function setup() {
  const sshd = await startSshd();
  cleanup.push(() => sshd.stop());
  const relay = await startStallRelay(sshd);
  cleanup.push(() => relay.close());
  const knownHosts = join(sshd.dir, "known_hosts_relay");
  writeFileSync(knownHosts, `[127.0.0.1]:${relay.port} ${sshd.hostKeyPub}\n`);
  const args = sshd.clientArgs.map((a) => (a === String(sshd.port) ? String(relay.port) : a === `UserKnownHostsFile=${sshd.knownHosts}` ? `UserKnownHostsFile=${knownHosts}` : a));
  return { sshd, relay, args: [...args, "-o", "ConnectTimeout=2"] };
}

const AUTH_TIMEOUT = /127\.0\.0\.1:\d+: the server did not answer authentication within 2s/;

describe("a server that goes quiet after the key exchange", () => {
  test("the first connection ends after ConnectTimeout (exit 3), naming authentication", async () => {
    const { relay, args } = await setup();
    relay.stallAfterKex();
    // Without the bound fwd waits forever; the 15 s kill is only this test's own safety net.
    const r = await runFwdToEnd([...args, "127.0.0.1", "--", "true"], {}, 15_000);
    expect(relay.stalled).toBe(1);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(AUTH_TIMEOUT);
  }, 20_000);

  test("while reconnecting, each attempt ends and the next one follows", async () => {
    const { relay, args } = await setup();
    const echo = await startEcho();
    cleanup.push(() => echo.close());
    const fwd = runFwd([...args, "-L", `0:127.0.0.1:${echo.port}`, "127.0.0.1"]);
    cleanup.push(() => fwd.stop("SIGKILL"));
    await fwd.waitFor(/^listening /);
    expect((await exchange(fwd.ports[0]!, "up")).reply.toString()).toBe("up");
    relay.stallAfterKex();
    relay.cutAll();
    await fwd.waitFor(/reconnecting: attempt 1 in/);
    const second = await fwd.waitFor(/reconnecting: attempt 2 in/, 15_000);
    expect(second).toMatch(AUTH_TIMEOUT);
    expect(relay.stalled).toBeGreaterThanOrEqual(1);
    expect(fwd.proc.exitCode).toBeNull();
  }, 30_000);

  test("--max-retries 1 gives up after the one stalled attempt (exit 3) with that reason", async () => {
    const { relay, args } = await setup();
    const fwd = runFwd([...args, "--max-retries", "1", "-L", "0:127.0.0.1:9", "127.0.0.1"]);
    cleanup.push(() => fwd.stop("SIGKILL"));
    await fwd.waitFor(/^listening /);
    relay.stallAfterKex();
    relay.cutAll();
    expect(await fwd.exited).toBe(3);
    expect(relay.stalled).toBe(1);
    expect(fwd.stderr.join("\n")).toMatch(new RegExp(`${AUTH_TIMEOUT.source} \\(gave up after 1 attempt\\)`));
  }, 30_000);

  test("a live session cut by a reset is a lost session: --no-reconnect exits 7, not 3", async () => {
    // A SIGKILLed sshd shows up as a reset or a clean close by timing alone; both must mean "lost".
    const { relay, args } = await setup();
    const echo = await startEcho();
    cleanup.push(() => echo.close());
    const fwd = runFwd([...args, "--no-reconnect", "-L", `0:127.0.0.1:${echo.port}`, "127.0.0.1"]);
    await fwd.waitFor(/^listening /);
    expect((await exchange(fwd.ports[0]!, "ping")).reply.toString()).toBe("ping");
    relay.resetAll();
    expect(await fwd.exited).toBe(7);
    // Which one fwd sees first (the reset, or a FIN the relay's teardown sent ahead of it) is timing.
    expect(fwd.stderr.join("\n")).toMatch(/session lost|connection closed by the server/);
  }, 20_000);
});
