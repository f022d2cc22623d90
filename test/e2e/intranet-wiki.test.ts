// intranet-wiki in the seed's world: the wiki lives on server A's side (a network namespace the test
// makes, where the name wiki.intranet resolves and C cannot reach), and client C reaches it through
// fwd — with curl, and with a real headless Chromium both through the local port and through the
// SOCKS proxy + PAC path, where the browser asks for the wiki by name.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromiumDom } from "../harness/chromium.ts";
import { curl } from "../harness/curl.ts";
import { runFwd, type FwdProcess } from "../harness/fwd.ts";
import { waitForPort } from "../harness/net.ts";
import { canMakeNamespaces, makeHost, type Host } from "../harness/netns.ts";
import { startSshd, type Sshd } from "../harness/sshd.ts";

const ok = canMakeNamespaces();
let host: Host;
let destroy = () => {};
let sshd: Sshd;
let wiki: ChildProcess | undefined;
let site: string;
let fwd: FwdProcess;
beforeAll(async () => {
  if (!ok) return;
  ({ host, destroy } = makeHost(9, { hosts: { "wiki.intranet": "198.18.9.2" } }));
  site = mkdtempSync(join(tmpdir(), "fwd-wiki-"));
  writeFileSync(join(site, "index.html"), "<!doctype html><html><head><title>Team Wiki</title></head><body><h1 id=w>Welcome to the team wiki</h1></body></html>\n");
  wiki = spawn(host.exec[0]!, [...host.exec.slice(1), "python3", "-m", "http.server", "80", "--bind", host.address, "--directory", site], { stdio: "ignore" });
  sshd = await startSshd({ host });
  await waitForPort(host.address, 80, 10_000);
  fwd = runFwd([
    "run", "intranet-wiki",
    "--bastion", `${sshd.user}@${host.address}:${sshd.port}`, "--identity", sshd.clientKey,
    "--url", "http://wiki.intranet/", "--listen", "127.0.0.1:0", "--socks", "--socks-listen", "127.0.0.1:0",
    "-F", "none", "-o", `UserKnownHostsFile=${sshd.knownHosts}`, "-o", "StrictHostKeyChecking=yes",
  ]);
  await fwd.waitFor(/probe ok: HTTP 200, "Team Wiki"/);
}, 60_000);
afterAll(async () => {
  await fwd?.stop();
  wiki?.kill();
  await sshd?.stop();
  destroy();
  if (site) rmSync(site, { recursive: true, force: true });
});

test.skipIf(!ok)("C cannot reach the wiki by itself: the name does not resolve here", () => {
  expect(spawnSync("getent", ["hosts", "wiki.intranet"]).status).not.toBe(0);
});

test.skipIf(!ok)("curl through the local port", async () => {
  const r = await curl([`http://127.0.0.1:${fwd.ports[0]}/`]);
  expect(r.stdout).toContain("<title>Team Wiki</title>");
  await fwd.waitFor(new RegExp(`^open http://127\\.0\\.0\\.1:${fwd.ports[0]}/$`));
});

test.skipIf(!ok)("Chromium through the local port", async () => {
  const r = await chromiumDom(`http://127.0.0.1:${fwd.ports[0]}/`);
  expect(r.dom).toContain("Welcome to the team wiki");
}, 40_000);

test.skipIf(!ok)("Chromium through the SOCKS proxy and PAC file, asking for the wiki by name", async () => {
  const pac = `http://127.0.0.1:${fwd.ports[1]}/proxy.pac`;
  await fwd.waitFor(new RegExp(`automatic proxy configuration URL to ${pac.replaceAll(".", "\\.")}$`));
  const r = await chromiumDom("http://wiki.intranet/", { pac });
  expect(r.dom).toContain("Welcome to the team wiki");
  expect(r.dom).toContain("<title>Team Wiki</title>");
}, 40_000);

if (!ok) test("network namespaces need root: skipped", () => {
  console.log("intranet-wiki: skipped, this machine cannot make network namespaces (not root?)");
});
