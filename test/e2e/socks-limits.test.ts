// The SOCKS handshake cap under attack, against a real sshd: one client that fills its
// quota with requests to a target that drops SYNs cannot lock out a second client, its slots come
// free the moment it leaves, and an open that never answers gets the timeout reply (6) at the
// handshake's deadline. The limits are lowered for the test (FWD_TEST_SOCKS_LIMITS).

import { afterAll, beforeAll, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { runFwd, type FwdProcess } from "../harness/fwd.ts";
import { startEcho } from "../harness/net.ts";
import { canMakeNamespaces, dropSyns, makeHost, type Host } from "../harness/netns.ts";
import { relayAsNobody, type OtherUser } from "../harness/other-user.ts";
import { socks5Request, socksClient, type SocksClient } from "../harness/socks.ts";
import { startSshd, type Sshd } from "../harness/sshd.ts";

const ok = canMakeNamespaces();
// The queue's wait is shorter than the handshake's deadline: a queued client is served in time only
// if a slot frees because its holder left, not because the holder's deadline passed.
const LIMITS = "handshakeMs=3000,perClient=2,total=8,queueMs=1500";
const OK5 = [5, 0, 5, 0, 0, 1, 0, 0, 0, 0, 0, 0];
let host: Host;
let destroy = () => {};
let sshd: Sshd;
let echo: Awaited<ReturnType<typeof startEcho>>;
let fwd: FwdProcess;
let socks: number;
let relay: (OtherUser & { port: number }) | undefined;
beforeAll(async () => {
  if (!ok) return;
  ({ host, destroy } = makeHost(60));
  dropSyns(host);
  sshd = await startSshd();
  echo = await startEcho();
  fwd = runFwd([...sshd.clientArgs, "-vv", "-D", "0", sshd.host], { env: { FWD_TEST_SOCKS_LIMITS: LIMITS } });
  await fwd.waitFor(/^listening 127\.0\.0\.1:\d+ -> SOCKS/);
  socks = fwd.ports[0]!;
});
afterAll(async () => {
  await relay?.stop();
  await fwd?.stop();
  await Promise.all([echo?.close(), sshd?.stop()]);
  destroy();
});

/** sshd's connection attempts to the silent host, as the kernel lists them (SYN sent, no answer). */
function synSent(): number {
  return spawnSync("ss", ["-Htn", "state", "syn-sent", "dst", host.address], { encoding: "utf8" }).stdout.split("\n").filter(Boolean).length;
}

async function until(what: string, cond: () => boolean, timeoutMs = 5_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function connected(c: SocksClient): Promise<number> {
  if (!c.socket.localPort) await new Promise((r) => c.socket.once("connect", r));
  return c.socket.localPort!;
}

test.skipIf(!ok)("one client's opens to a SYN-dropping target hold only its own quota; leaving frees it; no answer gets reply 6", async () => {
  const silent = socks5Request(host.address, 80);
  const attacker = [socksClient(socks, silent), socksClient(socks, silent)];
  // Both are past the SOCKS bytes and waiting on the server's connect (a channel open with no answer).
  await until("2 connects from sshd to the silent host", () => synSent() === 2);
  // Over its quota, the same client waits in the queue instead of being reset.
  const queued = socksClient(socks, socks5Request("127.0.0.1", echo.port));
  const queuedPort = await connected(queued);
  await fwd.waitFor(new RegExp(`127\\.0\\.0\\.1:${queuedPort}: waiting for a handshake slot \\(at most 2 per client, 8 in all\\)`));

  // Another client gets through at once: while the attacker's three are all still unanswered. On
  // loopback a client is a local user (the owner of its socket), so the other one is uid nobody,
  // through a relay nobody runs; another address of the same user would be the same client.
  relay = await relayAsNobody(socks);
  const other = socksClient(relay.port, socks5Request("127.0.0.1", echo.port));
  expect(await other.reply).toEqual(OK5);
  expect(await other.echo("from uid nobody")).toBe("from uid nobody");
  let answered = 0;
  for (const c of [...attacker, queued]) void c.reply.then((r) => (answered += r.length > 2 ? 1 : 0));
  await new Promise((r) => setImmediate(r));
  expect(answered).toBe(0);

  // The attacker leaves: its slots are free at once (the queue's 1.5 s wait is shorter than the 3 s
  // deadline, so the queued request is served only because they were freed on leaving).
  for (const c of attacker) c.socket.destroy();
  expect(await queued.reply).toEqual(OK5);
  expect(await queued.echo("after the attacker left")).toBe("after the attacker left");
  await fwd.waitFor(/client left while 198\.18\.60\.2:80 was being opened/);

  // The deadline covers the channel open: no answer in 3 s gives "TTL expired" (6), not a 130 s hang.
  const late = socksClient(socks, silent);
  expect(await late.reply).toEqual([5, 0, 5, 6, 0, 1, 0, 0, 0, 0, 0, 0]);
  await late.closed;
  await fwd.waitFor(/open 198\.18\.60\.2:80: no answer within 3 s/);

  // The session carried all of it.
  expect(await other.echo("still here")).toBe("still here");
  expect([...fwd.stdout, ...fwd.stderr].join("\n")).not.toContain("session lost");
  for (const c of [other, queued]) c.socket.destroy();
}, 30_000);

if (!ok) test("network namespaces need root: skipped", () => {
  console.log("socks-limits: skipped, this machine cannot make network namespaces (not root?)");
});
