// rdp-home: a real VNC desktop (TigerVNC's Xvnc) at home on C, kept reachable through server A (an
// sshd in a network namespace). A client on A's side connects to A's forwarded port and gets the
// desktop's RFB banner; fwd's own probe takes the same way in.
//
// RDP: Debian's xrdp needs its session manager and a PAM login to start, which a test cannot give
// it here; the RDP probe (an X.224 connection request) is the same code path through the tunnel.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { runFwd } from "../harness/fwd.ts";
import { freePort, waitForPort } from "../harness/net.ts";
import { canMakeNamespaces, makeHost, type Host } from "../harness/netns.ts";
import { startSshd, type Sshd } from "../harness/sshd.ts";

const ok = canMakeNamespaces();
let host: Host;
let destroy = () => {};
let a: Sshd;
let vnc: ChildProcess | undefined;
let vncPort: number;

beforeAll(async () => {
  if (!ok) return;
  ({ host, destroy } = makeHost(25));
  a = await startSshd({ host });
  vncPort = await freePort();
  // Probes hang up after the banner; TigerVNC would count those as failed logins and blacklist us.
  let n = 80 + Math.floor(Math.random() * 9);
  while (existsSync(`/tmp/.X11-unix/X${n}`)) n++;
  vnc = spawn("Xvnc", [`:${n}`, "-rfbport", String(vncPort), "-localhost", "-SecurityTypes", "None", "-geometry", "800x600", "-BlacklistThreshold", "100000"], { stdio: "ignore" });
  await waitForPort("127.0.0.1", vncPort, 10_000);
}, 30_000);
afterAll(async () => {
  vnc?.kill();
  await a?.stop();
  destroy();
});

/** The first 12 bytes a client gets from A's port, read inside A's namespace (where a visitor comes in). */
function bannerOnA(port: number): string {
  const py = `import socket;s=socket.create_connection(("127.0.0.1",${port}),5);print(s.recv(12).decode().strip())`;
  return spawnSync("ip", ["netns", "exec", host.ns, "python3", "-c", py], { encoding: "utf8", timeout: 10_000 }).stdout.trim();
}

test.skipIf(!ok)("the home desktop's RFB banner reaches a client on A's forwarded port; the probe agrees", async () => {
  const fwd = runFwd([
    "run", "rdp-home", "--server", `${a.user}@${host.address}:${a.port}`, "--identity", a.clientKey,
    "--vnc", "--desktop", `127.0.0.1:${vncPort}`, "--remote-port", "5901",
    "-F", "none", "-o", `UserKnownHostsFile=${a.knownHosts}`, "-o", "StrictHostKeyChecking=yes",
  ]);
  try {
    await fwd.waitFor(/^listening on the server localhost:5901 -> 127\.0\.0\.1:\d+$/);
    await fwd.waitFor(/probe ok: VNC answered: RFB 3\.8/);
    await fwd.waitFor(/^on the road: fwd -L 5901:localhost:5901 /);
    expect(bannerOnA(5901)).toBe("RFB 003.008");
  } finally {
    expect(await fwd.stop()).toBe(0);
  }
}, 30_000);

test.skipIf(!ok)("after A's sshd restarts, the port on A is asked for again and the desktop is back", async () => {
  const fwd = runFwd([
    "run", "rdp-home", "--server", `${a.user}@${host.address}:${a.port}`, "--identity", a.clientKey,
    "--vnc", "--desktop", `127.0.0.1:${vncPort}`, "--remote-port", "5902",
    "-F", "none", "-o", `UserKnownHostsFile=${a.knownHosts}`, "-o", "StrictHostKeyChecking=yes", "-o", "ServerAliveInterval=1",
  ]);
  try {
    await fwd.waitFor(/probe ok/);
    await a.crash();
    await fwd.waitFor(/reconnecting/);
    await a.start();
    await fwd.waitFor(/reconnected after/, 20_000);
    const deadline = Date.now() + 10_000;
    while (bannerOnA(5902) !== "RFB 003.008" && Date.now() < deadline) await Bun.sleep(200);
    expect(bannerOnA(5902)).toBe("RFB 003.008");
  } finally {
    expect(await fwd.stop()).toBe(0);
  }
}, 60_000);

if (!ok) test("network namespaces need root: skipped", () => {
  console.log("rdp-home: skipped, this machine cannot make network namespaces (not root?)");
});
