// The SOCKS handshake cap against another local user, with a real sshd: the per-client quota is keyed
// by the client's IP address, but on loopback every address of 127.0.0.0/8 is this machine's, so one
// local user (here uid nobody) who connects from 127.0.0.2, 127.0.0.3, … is many "clients" and takes
// every slot and the whole queue with idle connections; the user who started fwd, from 127.0.0.1, is
// then closed at once. (And every local user shares 127.0.0.1, so per address they are one client.)
// The limits are lowered for the test (FWD_TEST_SOCKS_LIMITS).

import { afterAll, beforeAll, expect, test } from "bun:test";
import { spawn, type ChildProcess } from "node:child_process";
import { runFwd, type FwdProcess } from "../harness/fwd.ts";
import { startEcho } from "../harness/net.ts";
import { socks5Request, socksClient } from "../harness/socks.ts";
import { startSshd, type Sshd } from "../harness/sshd.ts";

const asRoot = process.getuid?.() === 0;
const LIMITS = "handshakeMs=8000,perClient=2,total=4,queueMs=1500";
const OK5 = [5, 0, 5, 0, 0, 1, 0, 0, 0, 0, 0, 0];
let sshd: Sshd;
let echo: Awaited<ReturnType<typeof startEcho>>;
let fwd: FwdProcess;
let attacker: ChildProcess | undefined;

beforeAll(async () => {
  if (!asRoot) return;
  sshd = await startSshd();
  echo = await startEcho();
  fwd = runFwd([...sshd.clientArgs, "-D", "0", sshd.host], { env: { FWD_TEST_SOCKS_LIMITS: LIMITS } });
  await fwd.waitFor(/^listening 127\.0\.0\.1:\d+ -> SOCKS/);
});
afterAll(async () => {
  if (attacker && attacker.exitCode === null) attacker.kill("SIGKILL");
  await fwd?.stop();
  await Promise.all([echo?.close(), sshd?.stop()]);
});

// Known gap, kept as a todo so that it is seen (`bun test --todo` runs it, and it fails today): keying
// loopback clients by their socket's owner needs a per-connection lookup in /proc/net/tcp, which costs
// 0.5 s per connection on a machine with many TIME_WAIT sockets; netlink sock_diag would do it per
// socket. Until then only the 10 s handshake deadline bounds a local attacker (README, -D).
test.todo("idle connections of uid nobody from 127.0.0.2–9 do not lock out the user's client on 127.0.0.1", async () => {
  if (!asRoot) return;
  const port = fwd.ports[0]!;
  // Two idle connections from each of eight loopback addresses: four hold the slots, four fill the
  // queue (both bounded by `total`), the rest are closed. They send nothing and wait.
  const py = `import socket,time
held=[]
for i in range(2,10):
  for _ in range(2):
    s=socket.socket(); s.bind(("127.0.0.%d"%i,0)); s.connect(("127.0.0.1",${port})); held.append(s)
print("holding",flush=True)
time.sleep(20)`;
  attacker = spawn("runuser", ["-u", "nobody", "--", "python3", "-c", py], { stdio: ["ignore", "pipe", "pipe"] });
  let said = "";
  attacker.stdout!.on("data", (d) => (said += d));
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`the attacker did not connect: ${said}`)), 10_000);
    attacker!.stdout!.on("data", () => said.includes("holding") && (clearTimeout(t), resolve()));
    attacker!.once("exit", () => (clearTimeout(t), reject(new Error(`the attacker exited: ${said}`))));
  });
  const c = socksClient(port, socks5Request("127.0.0.1", echo.port));
  try {
    expect(await c.reply).toEqual(OK5);
    expect(await c.echo("still served")).toBe("still served");
  } finally {
    c.socket.destroy();
    attacker.kill("SIGKILL");
  }
}, 30_000);
