// Tunnels that stay up, proven with real faults on a real sshd: a crash mid-transfer and a restart,
// remote forwards requested again, and the failures that must stop instead of looping.

import { afterEach, describe, expect, test } from "bun:test";
import net from "node:net";
import { runFwd, type FwdProcess } from "../harness/fwd.ts";
import { exchange, freePort, startEcho } from "../harness/net.ts";
import { startSshd, type Sshd } from "../harness/sshd.ts";

/** Fast keepalive so a dead peer is noticed within seconds, as a user would set it for a test. */
const FAST = ["-o", "ServerAliveInterval=1", "-o", "ServerAliveCountMax=2"];

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function setup(extra: string[] = [], forward?: (echoPort: number) => string[]) {
  const sshd = await startSshd();
  cleanup.push(() => sshd.stop());
  const echo = await startEcho();
  cleanup.push(() => echo.close());
  const fwd = runFwd([...sshd.clientArgs, ...FAST, ...extra, ...(forward ? forward(echo.port) : ["-L", `0:127.0.0.1:${echo.port}`]), sshd.host]);
  cleanup.push(() => fwd.stop("SIGKILL"));
  await fwd.waitFor(/^listening /);
  return { sshd, echo, fwd };
}

/** Lines seen so far that match `re`. */
const count = (fwd: FwdProcess, re: RegExp) => [...fwd.stdout, ...fwd.stderr].filter((l) => re.test(l)).length;

describe("reconnect", () => {
  test("sshd crashes mid-transfer and comes back: the cut transfer is reported, the listener never went away", async () => {
    const { sshd, fwd } = await setup();
    const port = fwd.ports[0]!;
    // A transfer in flight when the server dies: the client must see an error, not a clean end.
    const cut = await new Promise<{ ended: boolean; error: boolean }>((resolve) => {
      const c = net.connect(port, "127.0.0.1");
      const r = { ended: false, error: false };
      c.on("end", () => (r.ended = true));
      c.on("error", () => (r.error = true));
      c.on("close", () => resolve(r));
      c.once("data", () => void sshd.crash());
      c.write("x".repeat(1000));
      const timer = setInterval(() => c.writable && c.write("more "), 20);
      c.once("close", () => clearInterval(timer));
    });
    expect(cut).toEqual({ ended: false, error: true });
    await fwd.waitFor(/reconnecting: attempt 1 in/);
    // The port still accepts while the session is down.
    const accepted = await new Promise<boolean>((resolve) => {
      const c = net.connect(port, "127.0.0.1", () => (c.destroy(), resolve(true)));
      c.on("error", () => resolve(false));
    });
    expect(accepted).toBe(true);
    await sshd.start();
    await fwd.waitFor(/reconnected after \d+\.\d+s down/, 20_000);
    expect((await exchange(port, "back again")).reply.toString()).toBe("back again");
    expect(fwd.proc.exitCode).toBeNull();
  }, 40_000);

  test("a connection made while the server is down waits for it (a few seconds) and then goes through", async () => {
    const { sshd, fwd } = await setup();
    await sshd.crash();
    await fwd.waitFor(/reconnecting: attempt 1 in/);
    const pending = exchange(fwd.ports[0]!, "patient");
    await sshd.start();
    expect((await pending).reply.toString()).toBe("patient");
  }, 30_000);

  test("-R is requested again after the server restarts", async () => {
    const rport = await freePort();
    const { sshd, fwd } = await setup([], (echo) => ["-R", `${rport}:127.0.0.1:${echo}`]);
    expect((await exchange(rport, "before")).reply.toString()).toBe("before");
    await sshd.crash();
    await fwd.waitFor(/reconnecting/);
    await sshd.start();
    await fwd.waitFor(/reconnected after \d+\.\d+s down/, 20_000);
    const deadline = Date.now() + 10_000;
    while (count(fwd, new RegExp(`^listening on the server localhost:${rport} `)) < 2 && Date.now() < deadline) await Bun.sleep(50);
    expect(count(fwd, new RegExp(`^listening on the server localhost:${rport} `))).toBe(2);
    expect((await exchange(rport, "after")).reply.toString()).toBe("after");
  }, 40_000);

  test("an authentication failure while reconnecting stops with the reason (exit 4), no loop", async () => {
    const { sshd, fwd } = await setup();
    await sshd.crash();
    sshd.revokeClient();
    await sshd.start();
    expect(await fwd.exited).toBe(4);
    expect(fwd.stderr.join("\n")).toContain("authentication failed");
    expect(count(fwd, /reconnecting: attempt/)).toBe(1);
  }, 30_000);

  test("a changed host key while reconnecting stops with the reason (exit 5)", async () => {
    const { sshd, fwd } = await setup();
    await sshd.crash();
    sshd.rekey();
    await sshd.start();
    expect(await fwd.exited).toBe(5);
    expect(fwd.stderr.join("\n")).toContain("HOST KEY CHANGED");
  }, 30_000);

  test("--max-retries 2 gives up with the last reason (exit 3)", async () => {
    const { sshd, fwd } = await setup(["--max-retries", "2"]);
    await sshd.crash();
    expect(await fwd.exited).toBe(3);
    expect(fwd.stderr.join("\n")).toMatch(/connection refused \(gave up after 2 attempts\)/);
    expect(count(fwd, /reconnecting: attempt/)).toBe(2);
  }, 30_000);

  test("--no-reconnect exits on the first disconnect (exit 7), like ssh", async () => {
    const { sshd, fwd } = await setup(["--no-reconnect"]);
    await sshd.crash();
    expect(await fwd.exited).toBe(7);
    expect(fwd.stderr.join("\n")).toContain("connection closed");
  }, 30_000);

  test("SIGHUP renews a live session at once", async () => {
    const { fwd } = await setup();
    fwd.proc.kill("SIGHUP");
    await fwd.waitFor(/SIGHUP: reconnecting now/);
    const deadline = Date.now() + 10_000;
    while (count(fwd, /: reconnected after/) < 1 && Date.now() < deadline) await Bun.sleep(50);
    expect(count(fwd, /: reconnected after/)).toBe(1);
    expect((await exchange(fwd.ports[0]!, "renewed")).reply.toString()).toBe("renewed");
  }, 30_000);
});
