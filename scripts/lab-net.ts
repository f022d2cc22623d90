// The seed's world on this machine, for a person to try fwd in: client C (here) → server A →
// server B on A's LAN, in network namespaces with real sshd on A and B and a web page on B.
// Run as root: `bun scripts/lab-net.ts`; Ctrl-C tears everything down.

import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { canMakeNamespaces, makeWorld } from "../test/harness/netns.ts";
import { startSshd } from "../test/harness/sshd.ts";

if (!canMakeNamespaces()) {
  console.error("lab-net: needs root (ip netns); run it with sudo");
  process.exit(2);
}
const world = makeWorld(31);
const [a, b] = await Promise.all([startSshd({ host: world.a }), startSshd({ host: world.b })]);
const site = mkdtempSync(join(tmpdir(), "fwd-lab-"));
writeFileSync(join(site, "index.html"), "<title>server B</title>Hello from server B, reachable only through A.\n");
const web = spawn(world.b.exec[0]!, [...world.b.exec.slice(1), "python3", "-m", "http.server", "8080", "--directory", site], { stdio: "ignore" });
const cfg = join(site, "ssh_config");
const block = (name: string, s: typeof a, address: string, extra = "") =>
  `Host ${name}\n  HostName ${address}\n  Port ${s.port}\n  User ${s.user}\n  IdentityFile ${s.clientKey}\n  UserKnownHostsFile ${s.knownHosts}\n${extra}`;
writeFileSync(cfg, [block("lab-a", a, world.a.address), block("lab-b", b, world.b.address, "  ProxyJump lab-a\n")].join("\n"));

console.log(`lab network up:
  A  ${world.a.address} (public side), ${world.a.lanAddress} (LAN)   sshd on port ${a.port}
  B  ${world.b.address} (LAN only: this machine has no route to it)  sshd on port ${b.port}, web on 8080
ssh config: ${cfg}
try:
  fwd -F ${cfg} lab-a -L 8080:${world.b.address}:8080        then open http://127.0.0.1:8080/
  fwd -F ${cfg} lab-b -L 2222:localhost:22                    (lab-b goes through A by ProxyJump)
  fwd -F ${cfg} -J lab-a lab-b -- hostname -I
Ctrl-C to tear it down.`);

const down = async () => {
  web.kill();
  await Promise.all([a.stop(), b.stop()]);
  world.destroy();
  rmSync(site, { recursive: true, force: true });
  process.exit(0);
};
process.once("SIGINT", () => void down());
process.once("SIGTERM", () => void down());
await new Promise(() => {});
