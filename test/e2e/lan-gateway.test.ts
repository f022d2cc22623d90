// The lan-gateway recipe in the route world (C → A → B, L behind C): `fwd run lan-gateway` inside C's
// namespace makes C the gateway that carries L's TCP to B through A, only for the allowed machines,
// and its nftables table goes with it. Nothing is added to the root namespace.

import { afterAll, afterEach, beforeAll, expect, test } from "bun:test";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
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

/** `fwd run lan-gateway` inside C, with the test sshd as server A. */
function gatewayInC(options: string[], as: string[] = []): FwdProcess {
  const ssh = ["-F", "none", "-i", sshd.clientKey, "-o", `UserKnownHostsFile=${sshd.knownHosts}`, "-o", "StrictHostKeyChecking=yes"];
  const argv = ["run", "lan-gateway", "--server", `${sshd.user}@${world.a.address}:${sshd.port}`, ...options, ...ssh];
  const p = runFwd(["netns", "exec", world.c.ns, ...as, process.execPath, join(ROOT, "src", "main.ts"), ...argv], { binary: "ip" });
  started.push(p);
  return p;
}

function curlIn(node: Node, url: string, timeoutS = 10): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve) => {
    const p = spawn("ip", ["netns", "exec", node.ns, "curl", "-sS", "--max-time", String(timeoutS), url], { stdio: ["ignore", "pipe", "ignore"] });
    let stdout = "";
    p.stdout.on("data", (d) => (stdout += d));
    p.on("close", (code) => resolve({ code: code ?? -1, stdout }));
  });
}

const tables = (node: Node) => world.run(node, ["nft", "list", "tables"]).trim();

beforeAll(async () => {
  if (!ok) return;
  // A's resolver, on its LAN address, is the only one that knows wiki.intranet; L asks C (its gateway).
  world = makeRouteWorld(64, { a: "198.18.65.1" });
  mkdirSync(`/etc/netns/${world.l.ns}`, { recursive: true });
  writeFileSync(`/etc/netns/${world.l.ns}/resolv.conf`, "nameserver 198.18.66.1\n");
  sshd = await startSshd({ host: world.a });
  // B's web server says who connected: A's LAN address when the connection came through the tunnel.
  web = await startWhoAmI(world, "<title>B</title>");
  dnsmasq = await startResolver(world, "198.18.65.1", ["wiki.intranet,198.18.65.2"]);
}, 30_000);

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

test.skipIf(!ok)("fwd run lan-gateway: L, using C as its gateway, reaches B through A; the probe fetches B; SIGTERM removes the table", async () => {
  const url = `http://${world.b.address}/`;
  // Before: C routes L's packets on to A, which refuses them.
  expect((await curlIn(world.l, url, 5)).code).toBe(7);
  const fwd = gatewayInC(["--networks", `${world.b.address}/32`, "--allow", `${world.l.address}/32`, "--check", url]);
  // The settings for L name C's address on L's link (198.18.66.1), found from C's interfaces.
  await fwd.waitFor(/^LAN machines in 198\.18\.66\.2\/32: default gateway 198\.18\.66\.1$/);
  await fwd.waitFor(/lan-gateway: probe ok: HTTP 200, "B"$/);
  expect(tables(world.c)).toBe(`table ip fwd_${fwd.proc.pid}`);
  const r = await curlIn(world.l, url);
  // B sees A's LAN address: the connection left from the SSH server.
  expect(r.stdout).toBe("<title>B</title>you are 198.18.65.1\n");
  expect(r.code).toBe(0);
  expect(await fwd.stop("SIGTERM")).toBe(0);
  expect(tables(world.c)).toBe("");
  expect((await curlIn(world.l, url, 5)).code).toBe(7);
}, 30_000);

test.skipIf(!ok)("L outside allow is not carried (C itself still is); without allow or networks it will not start", async () => {
  const url = `http://${world.b.address}/`;
  const fwd = gatewayInC(["--networks", `${world.b.address}/32`, "--allow", "192.0.2.0/24"]);
  await fwd.waitFor(/lan-gateway: probe ok: the rules are in; nothing fetched/);
  expect((await curlIn(world.l, url, 5)).code).toBe(7);
  expect((await curlIn(world.c, url)).code).toBe(0);
  expect(await fwd.stop("SIGTERM")).toBe(0);
  expect(tables(world.c)).toBe("");
  for (const [options, said] of [
    [["--networks", `${world.b.address}/32`], /missing required option allow/],
    [["--allow", `${world.l.address}/32`], /missing required option networks/],
    [["--networks", `${world.b.address}/32`, "--allow", "fd00::/8"], /Expected an IPv4 address or CIDR, e\.g\. 10\.0\.0\.0\/8\n\s+→ at allow/],
  ] as const) {
    const refused = gatewayInC([...options]);
    expect(await refused.exited).toBe(2);
    expect(refused.stderr.join("\n")).toMatch(said);
  }
  expect(tables(world.c)).toBe("");
}, 30_000);

test.skipIf(!ok)("--dns: L, with C as its DNS server, resolves a name only A's resolver knows, and reaches it by name", async () => {
  const resolve = () => spawnSync("ip", ["netns", "exec", world.l.ns, "getent", "hosts", "wiki.intranet"], { encoding: "utf8", timeout: 10_000 });
  // Nothing answers DNS on C before: the lookup fails (2: not found, after the resolver's timeout).
  expect(resolve().status).toBe(2);
  const fwd = gatewayInC(["--networks", `${world.b.address}/32`, "--allow", `${world.l.address}/32`, "--dns"]);
  await fwd.waitFor(/^LAN machines in 198\.18\.66\.2\/32: default gateway 198\.18\.66\.1, DNS server 198\.18\.66\.1$/);
  await fwd.waitFor(/DNS is answered through the tunnel by 198\.18\.65\.1 \(DNS over TCP\)/);
  await fwd.waitFor(/lan-gateway: probe ok/);
  const found = resolve();
  expect(found.stdout).toBe("198.18.65.2     wiki.intranet\n");
  const r = await curlIn(world.l, "http://wiki.intranet/");
  expect(r.stdout).toBe("<title>B</title>you are 198.18.65.1\n");
  expect(await fwd.stop("SIGTERM")).toBe(0);
  expect(tables(world.c)).toBe("");
}, 30_000);

test.skipIf(!ok)("not root: the nftables error comes before connecting, and no table", async () => {
  const fwd = gatewayInC(["--networks", `${world.b.address}/32`, "--allow", `${world.l.address}/32`], ["runuser", "-u", "nobody", "--", "env", `HOME=${TEST_HOME}`]);
  expect(await fwd.exited).toBe(2);
  const out = [...fwd.stdout, ...fwd.stderr].join("\n");
  expect(out).toContain("lan-gateway needs root (nftables rules): run as root or use -D");
  expect(out).not.toContain("connect");
  expect(tables(world.c)).toBe("");
}, 30_000);

if (!ok)
  test("lan-gateway tests need root, network namespaces and nft: skipped", () => {
    console.log("lan-gateway: skipped, this machine cannot make network namespaces or has no nft (scripts/test-deps.sh installs nftables)");
  });
