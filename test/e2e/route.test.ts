// --route in the seed's world, with fwd (client C) in a namespace of its own so its nftables rules
// live there: plain programs on C reach B, on A's LAN, with no proxy settings, only while fwd runs;
// the rules go on SIGTERM, and a table a SIGKILLed fwd left is removed by the next start.

import { afterAll, afterEach, beforeAll, expect, test } from "bun:test";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { runFwd, TEST_HOME, type FwdProcess } from "../harness/fwd.ts";
import { canMakeNamespaces } from "../harness/netns.ts";
import { makeRouteWorld, startResolver, startWhoAmI, type Node, type RouteWorld } from "../harness/route-world.ts";
import { startSshd, type Sshd } from "../harness/sshd.ts";

const ROOT = join(import.meta.dir, "..", "..");
const ok = canMakeNamespaces() && spawnSync("nft", ["--version"]).status === 0;
let world: RouteWorld;
let sshd: Sshd;
let web: ChildProcess | undefined;
let dnsmasq: ChildProcess | undefined;
const started: FwdProcess[] = [];

/** fwd inside C, with the test sshd's client settings. */
function fwdInC(args: string[], as: string[] = []): FwdProcess {
  const client = ["-F", "none", "-i", sshd.clientKey, "-o", `UserKnownHostsFile=${sshd.knownHosts}`, "-o", "StrictHostKeyChecking=yes", "-p", String(sshd.port)];
  const p = runFwd(["netns", "exec", world.c.ns, ...as, process.execPath, join(ROOT, "src", "main.ts"), ...client, ...args, `${sshd.user}@${world.a.address}`], { binary: "ip" });
  started.push(p);
  return p;
}

/** curl inside a namespace, asynchronously (the test's own processes keep running). */
function curlIn(node: Node, url: string, timeoutS = 10): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn("ip", ["netns", "exec", node.ns, "curl", "-sS", "--max-time", String(timeoutS), url], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    p.stdout.on("data", (d) => (stdout += d));
    p.stderr.on("data", (d) => (stderr += d));
    p.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

const tables = (node: Node) => world.run(node, ["nft", "list", "tables"]).trim();

beforeAll(async () => {
  if (!ok) return;
  // C asks A's public address for names, where nothing answers DNS: only A's LAN resolver knows wiki.intranet.
  world = makeRouteWorld(60, { c: "198.18.60.2", a: "198.18.61.1" });
  sshd = await startSshd({ host: world.a });
  // B says who connected: A's LAN address when the connection came through the tunnel.
  web = await startWhoAmI(world, "hello from B, ");
  dnsmasq = await startResolver(world, "198.18.61.1", ["wiki.intranet,198.18.61.2"]);
}, 30_000);

// A failed test must not leave its fwd or rules to the next one (C's namespace is the test's own).
afterEach(async () => {
  for (const p of started.splice(0)) if (p.proc.exitCode === null) await p.stop("SIGKILL");
  if (world) world.run(world.c, ["nft", "flush", "ruleset"]);
});

afterAll(async () => {
  web?.kill();
  dnsmasq?.kill();
  await sshd?.stop();
  world?.destroy();
});

test.skipIf(!ok)("C has no route of its own to B: its packets go to A, which refuses to forward them", () => {
  const route = world.run(world.c, ["ip", "route", "get", world.b.address]);
  expect(route).toContain(`via ${world.a.address}`);
  expect(world.run(world.a, ["nft", "list", "chain", "ip", "refuse", "forward"])).toContain("reject with icmp host-unreachable");
  expect(tables(world.c)).toBe("");
});

test.skipIf(!ok)("curl http://B/ from C works while fwd --route runs, and not after SIGTERM; no table is left", async () => {
  // The whole /15 is routed: A's own address is in it, so fwd's SSH connection must be left alone.
  const fwd = fwdInC(["-v", "--route", "198.18.0.0/15"]);
  await fwd.waitFor(/goes through the tunnel \(nftables table ip fwd_\d+\)/);
  expect(tables(world.c)).toBe(`table ip fwd_${fwd.proc.pid}`);
  const r = await curlIn(world.c, `http://${world.b.address}/`);
  // B sees A's LAN address: the connection left from the SSH server.
  expect(r.stdout).toBe("hello from B, you are 198.18.61.1\n");
  expect(r.code).toBe(0);
  await fwd.waitFor(new RegExp(`^--route 198\\.18\\.0\\.0/15: #\\d+ 198\\.18\\.60\\.1:\\d+ -> 198\\.18\\.61\\.2:80$`));
  expect(await fwd.stop("SIGTERM")).toBe(0);
  expect(tables(world.c)).toBe("");
  // Now C's packets to B go to A again, which drops them: curl gets "no route to host" from A at once.
  const after = await curlIn(world.c, `http://${world.b.address}/`, 5);
  expect(after.code).toBe(7);
}, 30_000);

test.skipIf(!ok)("--exclude: an excluded network is not carried", async () => {
  const fwd = fwdInC(["--route", "198.18.0.0/15", "--exclude", `${world.b.address}/32`]);
  await fwd.waitFor(/goes through the tunnel/);
  const r = await curlIn(world.c, `http://${world.b.address}/`, 5);
  expect(r.code).toBe(7);
  expect(await fwd.stop("SIGTERM")).toBe(0);
  expect(tables(world.c)).toBe("");
}, 30_000);

test.skipIf(!ok)("a table left by a SIGKILLed fwd is removed by the next start", async () => {
  const first = fwdInC(["--route", `${world.b.address}/32`]);
  await first.waitFor(/goes through the tunnel/);
  const stale = `fwd_${first.proc.pid}`;
  first.proc.kill("SIGKILL");
  await first.exited;
  expect(tables(world.c)).toBe(`table ip ${stale}`);
  const second = fwdInC(["--route", `${world.b.address}/32`]);
  await second.waitFor(new RegExp(`removed table ip ${stale}, left by fwd process ${first.proc.pid} \\(no longer running\\)`));
  await second.waitFor(/goes through the tunnel/);
  expect(tables(world.c)).toBe(`table ip fwd_${second.proc.pid}`);
  expect((await curlIn(world.c, `http://${world.b.address}/`)).code).toBe(0);
  expect(await second.stop("SIGTERM")).toBe(0);
  expect(tables(world.c)).toBe("");
}, 30_000);

test.skipIf(!ok)("a lost session with --no-reconnect takes the rules with it", async () => {
  const fwd = fwdInC(["--route", `${world.b.address}/32`, "--no-reconnect"]);
  await fwd.waitFor(/goes through the tunnel/);
  await sshd.crash();
  try {
    expect(await fwd.exited).not.toBe(0);
    expect(tables(world.c)).toBe("");
  } finally {
    await sshd.start();
  }
}, 30_000);

/** A DNS query for wiki.intranet's A record over TCP, from C to A's public address: the answer's address. */
const TCP_QUERY = [
  "import socket, struct",
  "q = struct.pack('>HHHHHH', 7, 0x100, 1, 0, 0, 0) + b''.join(bytes([len(p)]) + p for p in [b'wiki', b'intranet']) + b'\\0' + struct.pack('>HH', 1, 1)",
  "s = socket.create_connection(('198.18.60.2', 53), 5); s.sendall(struct.pack('>H', len(q)) + q)",
  "buf = b''",
  "while len(buf) < 2 or len(buf) < 2 + struct.unpack('>H', buf[:2])[0]: buf += s.recv(4096)",
  "print(socket.inet_ntoa(buf[-4:]))",
].join("\n");

test.skipIf(!ok)("--dns: a name only A's resolver knows resolves on C, over UDP and TCP, and curl reaches it by name", async () => {
  expect(spawnSync("ip", ["netns", "exec", world.c.ns, "getent", "hosts", "wiki.intranet"], { timeout: 10_000 }).status).toBe(2);
  const fwd = fwdInC(["--route", "198.18.61.0/24", "--dns"]);
  await fwd.waitFor(/DNS is answered through the tunnel by 198\.18\.61\.1 \(DNS over TCP\)/);
  await fwd.waitFor(/goes through the tunnel/);
  expect(world.run(world.c, ["getent", "hosts", "wiki.intranet"])).toBe("198.18.61.2     wiki.intranet\n");
  expect(world.run(world.c, ["python3", "-c", TCP_QUERY])).toBe("198.18.61.2\n");
  const r = await curlIn(world.c, "http://wiki.intranet/");
  expect(r.stdout).toBe("hello from B, you are 198.18.61.1\n");
  expect(await fwd.stop("SIGTERM")).toBe(0);
  expect(tables(world.c)).toBe("");
  expect(spawnSync("ip", ["netns", "exec", world.c.ns, "getent", "hosts", "wiki.intranet"], { timeout: 10_000 }).status).toBe(2);
}, 30_000);

test.skipIf(!ok)("--lan: a machine L that uses C as its gateway reaches B only with --lan, and only from --allow", async () => {
  const url = `http://${world.b.address}/`;
  // Without --lan, C routes L's packets on to A as any gateway would, and A refuses them.
  const plain = fwdInC(["--route", `${world.b.address}/32`]);
  await plain.waitFor(/goes through the tunnel/);
  expect((await curlIn(world.l, url, 5)).code).toBe(7);
  expect(await plain.stop("SIGTERM")).toBe(0);
  // --lan for another network only: L is not redirected.
  const other = fwdInC(["--route", `${world.b.address}/32`, "--lan", "--allow", "192.0.2.0/24"]);
  await other.waitFor(/goes through the tunnel/);
  expect((await curlIn(world.l, url, 5)).code).toBe(7);
  expect(await other.stop("SIGTERM")).toBe(0);
  const lan = fwdInC(["-v", "--route", `${world.b.address}/32`, "--lan", "--allow", `${world.l.address}/32`]);
  await lan.waitFor(/goes through the tunnel/);
  const r = await curlIn(world.l, url);
  expect(r.stdout).toBe("hello from B, you are 198.18.61.1\n");
  await lan.waitFor(new RegExp(`: #\\d+ ${world.l.address.replaceAll(".", "\\.")}:\\d+ -> 198\\.18\\.61\\.2:80$`));
  expect(await lan.stop("SIGTERM")).toBe(0);
  expect(tables(world.c)).toBe("");
}, 30_000);

test.skipIf(!ok)("--lan without --allow is refused: no open relay", async () => {
  const fwd = fwdInC(["--route", `${world.b.address}/32`, "--lan"]);
  expect(await fwd.exited).toBe(2);
  expect(fwd.stderr.join("\n")).toContain("refusing to route for the LAN with no allow-list");
  expect(tables(world.c)).toBe("");
});

test.skipIf(!ok)("not root: a clear error, before connecting, and no table", async () => {
  const fwd = fwdInC(["--route", `${world.b.address}/32`], ["runuser", "-u", "nobody", "--", "env", `HOME=${TEST_HOME}`]);
  expect(await fwd.exited).toBe(2);
  const out = [...fwd.stdout, ...fwd.stderr].join("\n");
  expect(out).toContain("--route needs root (nftables rules): run as root or use -D");
  expect(out).not.toContain("connect");
  expect(tables(world.c)).toBe("");
}, 30_000);

if (!ok)
  test("--route tests need root, network namespaces and nft: skipped", () => {
    console.log("route: skipped, this machine cannot make network namespaces or has no nft (scripts/test-deps.sh installs nftables)");
  });
