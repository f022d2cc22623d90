// egress-ip-rotation in a world of its own: three SSH servers (exits) in three namespaces, and an
// "internet" host behind them that answers with the caller's address. curl through fwd's one SOCKS
// port sees which exit each connection left from — under round-robin, sticky, and with one exit down.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { curl } from "../harness/curl.ts";
import { runFwd, type FwdProcess } from "../harness/fwd.ts";
import { canMakeNamespaces, makeHost, makeInternet, type Host } from "../harness/netns.ts";
import { startSshd, type Sshd } from "../harness/sshd.ts";

const ok = canMakeNamespaces();
const teardown: (() => unknown)[] = [];
let exits: Host[] = [];
let sshds: Sshd[] = [];
let internet: ReturnType<typeof makeInternet>;
let whoami: ChildProcess | undefined;
let dir: string;
let scenario: string;

const WHOAMI = `
import http.server
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = self.client_address[0].encode()
        self.send_response(200); self.send_header("content-length", str(len(body))); self.end_headers(); self.wfile.write(body)
    def log_message(self, *a): pass
http.server.ThreadingHTTPServer(("0.0.0.0", 80), H).serve_forever()
`;

beforeAll(async () => {
  if (!ok) return;
  for (const n of [51, 53, 55]) {
    const h = makeHost(n);
    exits.push(h.host);
    teardown.push(h.destroy);
  }
  internet = makeInternet(exits, 60);
  teardown.push(internet.destroy);
  sshds = await Promise.all(exits.map((host) => startSshd({ host })));
  dir = mkdtempSync(join(tmpdir(), "fwd-egress-"));
  whoami = spawn(internet.exec[0]!, [...internet.exec.slice(1), "python3", "-c", WHOAMI], { stdio: "ignore" });
  // Ready when an exit gets an answer (this namespace has no route to the internet host).
  const deadline = Date.now() + 10_000;
  while (spawnSync("ip", ["netns", "exec", exits[0]!.ns, "curl", "-s", "-m", "1", `http://${internet.address}/`]).status !== 0 && Date.now() < deadline) await Bun.sleep(100);
  const known = join(dir, "known_hosts");
  writeFileSync(known, sshds.map((s) => readFileSync(s.knownHosts, "utf8")).join(""));
  scenario = join(dir, "egress.toml");
  writeFileSync(
    scenario,
    `plugin = "egress-ip-rotation"\nname = "egress"\n[options]\nlisten = "127.0.0.1:0"\nip_echo_url = "http://${internet.address}/"\nservers = [\n${sshds
      .map((s, i) => `  { server = "${s.user}@${exits[i]!.address}:${s.port}", identity = "${s.clientKey}", label = "exit${i + 1}" },`)
      .join("\n")}\n]\n[reconnect]\nenabled = true\n`,
  );
  process.env.FWD_EGRESS_KNOWN = known;
}, 60_000);
afterAll(async () => {
  whoami?.kill();
  await Promise.all(sshds.map((s) => s.stop()));
  for (const t of teardown.reverse()) t();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const start = async (...flags: string[]) => {
  const fwd = runFwd(["run", "-f", scenario, ...flags, "-F", "none", "-o", `UserKnownHostsFile=${process.env.FWD_EGRESS_KNOWN}`, "-o", "StrictHostKeyChecking=yes", "-o", "ServerAliveInterval=1", "-o", "ServerAliveCountMax=2"]);
  await fwd.waitFor(/^listening 127\.0\.0\.1:\d+ -> SOCKS/);
  return fwd;
};

/** Asks the internet host who is calling, `n` times through the SOCKS port; the set of answers. */
async function callers(fwd: FwdProcess, n: number): Promise<string[]> {
  const seen = new Set<string>();
  for (let i = 0; i < n; i++) {
    const r = await curl(["--socks5-hostname", `127.0.0.1:${fwd.ports[0]}`, `http://${internet.address}/`]);
    if (r.code === 0) seen.add(r.stdout);
  }
  return [...seen].sort();
}

const ALL = ["198.18.60.1", "198.18.61.1", "198.18.62.1"];

describe.skipIf(!ok)("egress-ip-rotation", () => {
  test("the probe learns each exit's address through that exit", async () => {
    const fwd = await start();
    try {
      await fwd.waitFor(/egress: probe ok: exit addresses: exit1 198\.18\.60\.1, exit2 198\.18\.61\.1, exit3 198\.18\.62\.1/);
    } finally {
      expect(await fwd.stop()).toBe(0);
    }
  }, 30_000);

  test("round-robin: 30 requests leave from all three exits", async () => {
    const fwd = await start();
    try {
      expect(await callers(fwd, 30)).toEqual(ALL);
    } finally {
      expect(await fwd.stop()).toBe(0);
    }
  }, 30_000);

  test("sticky: one destination always leaves from one exit", async () => {
    const fwd = await start("--strategy", "sticky");
    try {
      expect((await callers(fwd, 30)).length).toBe(1);
    } finally {
      expect(await fwd.stop()).toBe(0);
    }
  }, 30_000);

  test("an exit that dies leaves the rotation, and comes back when it does", async () => {
    const fwd = await start();
    try {
      expect(await callers(fwd, 12)).toEqual(ALL);
      await sshds[1]!.crash();
      await fwd.waitFor(/reconnecting: attempt 1/);
      expect(await callers(fwd, 30)).toEqual(["198.18.60.1", "198.18.62.1"]);
      await sshds[1]!.start();
      await fwd.waitFor(/reconnected after/, 30_000);
      expect(await callers(fwd, 30)).toEqual(ALL);
    } finally {
      expect(await fwd.stop()).toBe(0);
    }
  }, 60_000);
});

if (!ok) test("network namespaces need root: skipped", () => {
  console.log("egress-ip-rotation: skipped, this machine cannot make network namespaces (not root?)");
});
