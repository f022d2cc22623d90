// A network that goes silent (packets dropped, nothing closed or refused) between fwd and a real
// sshd in a network namespace: keepalive must notice within interval × count plus a margin, and
// the session must come back once the link does.

import { afterAll, beforeAll, expect, test } from "bun:test";
import net from "node:net";
import { runFwd } from "../harness/fwd.ts";
import { canMakeNamespaces, makeHost, type Host } from "../harness/netns.ts";
import { startSshd, type Sshd } from "../harness/sshd.ts";

const ok = canMakeNamespaces();
let host: Host;
let destroy = () => {};
let sshd: Sshd;
beforeAll(async () => {
  if (!ok) return;
  ({ host, destroy } = makeHost(7));
  sshd = await startSshd({ host });
});
afterAll(async () => {
  await sshd?.stop();
  destroy();
});

/** The first line a TCP server says (an SSH banner here), read through the tunnel. */
function banner(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, "127.0.0.1");
    s.once("data", (d) => (s.destroy(), resolve(d.toString().split("\r\n")[0]!)));
    s.once("error", reject);
    s.once("close", () => reject(new Error("closed before a banner")));
  });
}

test.skipIf(!ok)("keepalive notices a silent link within 1 s × 2 + 3 s, and the tunnel comes back with the link", async () => {
  const fwd = runFwd([...sshd.clientArgs, "-o", "ServerAliveInterval=1", "-o", "ServerAliveCountMax=2", "-o", "ConnectTimeout=2", "-L", `0:${host.address}:${sshd.port}`, host.address]);
  try {
    await fwd.waitFor(/^listening /);
    const port = fwd.ports[0]!;
    expect(await banner(port)).toStartWith("SSH-2.0-OpenSSH");
    host.silence();
    const silencedAt = Date.now();
    await fwd.waitFor(/reconnecting: attempt 1/, 10_000);
    const detectedAfter = Date.now() - silencedAt;
    expect(detectedAfter).toBeLessThanOrEqual(1_000 * 2 + 3_000);
    expect(fwd.stderr.join("\n")).toContain("server stopped answering (keepalive timeout)");
    host.restore();
    await fwd.waitFor(/reconnected after/, 30_000);
    expect(await banner(port)).toStartWith("SSH-2.0-OpenSSH");
  } finally {
    expect(await fwd.stop()).toBe(0);
  }
}, 60_000);

if (!ok) test("network namespaces need root: skipped", () => {
  console.log("silent-network: skipped, this machine cannot make network namespaces (not root?)");
});
