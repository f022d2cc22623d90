// -X / -Y: an X client run on server A (in its own network namespace) draws on client C's display —
// a real Xvfb here, with its own cookie and an unusual screen size that only it reports.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TEST_HOME } from "../harness/fwd.ts";
import { canMakeNamespaces, makeHost, type Host } from "../harness/netns.ts";
import { startSshd, type Sshd } from "../harness/sshd.ts";

const ROOT = join(import.meta.dir, "..", "..");
const ok = canMakeNamespaces();
let host: Host;
let destroy = () => {};
let a: Sshd;
let xvfb: ChildProcess | undefined;
let dir: string;
let display: string;
let xauthority: string;

beforeAll(async () => {
  if (!ok) return;
  dir = mkdtempSync(join(tmpdir(), "fwd-x11-"));
  ({ host, destroy } = makeHost(21));
  // The remote side's xauth entries go to a file of the test's, not to root's ~/.Xauthority.
  a = await startSshd({ host, config: { X11Forwarding: "yes", X11UseLocalhost: "yes", SetEnv: `XAUTHORITY=${join(dir, "remote.xauth")}` } });
  let n = 90 + Math.floor(Math.random() * 9);
  while (existsSync(`/tmp/.X11-unix/X${n}`)) n++;
  display = `:${n}`;
  xauthority = join(dir, "local.xauth");
  expect(spawnSync("xauth", ["-f", xauthority, "add", display, ".", randomBytes(16).toString("hex")]).status).toBe(0);
  // -noreset: an X server with no client left resets and forgets the untrusted cookies xauth made
  // for -X; a desktop session always has clients, a bare Xvfb does not.
  xvfb = spawn("Xvfb", [display, "-auth", xauthority, "-nolisten", "tcp", "-noreset", "-screen", "0", "1234x567x24"], { stdio: "ignore" });
  const deadline = Date.now() + 10_000;
  while (!existsSync(`/tmp/.X11-unix/X${n}`) && Date.now() < deadline) await Bun.sleep(50);
}, 30_000);
afterAll(async () => {
  xvfb?.kill();
  await a?.stop();
  destroy();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const fwd = (flags: string[]) =>
  spawnSync(process.execPath, [join(ROOT, "src", "main.ts"), ...a.clientArgs, ...flags, host.address, "--", "xdpyinfo"], {
    encoding: "utf8",
    timeout: 20_000,
    env: { PATH: process.env.PATH, HOME: TEST_HOME, DISPLAY: display, XAUTHORITY: xauthority },
  });

test.skipIf(!ok)("the display is there and needs its cookie (xdpyinfo here, without the cookie, is refused)", () => {
  const withCookie = spawnSync("xdpyinfo", [], { encoding: "utf8", env: { DISPLAY: display, XAUTHORITY: xauthority } });
  expect(withCookie.stdout).toContain("1234x567 pixels");
  const without = spawnSync("xdpyinfo", [], { encoding: "utf8", env: { DISPLAY: display, XAUTHORITY: join(dir, "none") } });
  expect(without.status).not.toBe(0);
});

test.skipIf(!ok)("-Y: xdpyinfo run on A shows C's display", () => {
  const r = fwd(["-Y"]);
  expect(r.stdout).toContain("1234x567 pixels");
  expect(r.stdout).toMatch(/name of display:\s+localhost:1\d\.0/);
  expect(r.status).toBe(0);
});

test.skipIf(!ok)("-X (untrusted, the default as in OpenSSH) also reaches C's display", () => {
  const r = fwd(["-X"]);
  expect(r.stdout).toContain("1234x567 pixels");
  expect(r.status).toBe(0);
});

test.skipIf(!ok)("-Y -vv: each X connection is a connection of the engine's -Y forward (opened, counted, closed)", () => {
  const r = fwd(["-Y", "-vv"]);
  expect(r.stdout).toContain("1234x567 pixels");
  expect(r.stderr).toMatch(/^-Y: #\d+ \S+ \(X client on the server\) -> \/tmp\/\.X11-unix\/X\d+$/m);
  expect(r.stderr).toMatch(/^-Y: #\d+ closed after \d+ ms, \d+ bytes up, \d+ down/m);
  expect(r.status).toBe(0);
});

test.skipIf(!ok)("without -X the command on A has no display", () => {
  const r = fwd([]);
  expect(r.stdout).not.toContain("1234x567");
  expect(r.status).not.toBe(0);
});

if (!ok) test("network namespaces need root: skipped", () => {
  console.log("x11: skipped, this machine cannot make network namespaces (not root?)");
});
