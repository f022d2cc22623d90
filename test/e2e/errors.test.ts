// The failures a user meets, each against a real sshd: the exit code and the words that say what
// happened and what to do.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import net from "node:net";
import { join } from "node:path";
import { runFwd, runFwdToEnd } from "../harness/fwd.ts";
import { exchange, freePort, startEcho } from "../harness/net.ts";
import { startSshd, type Sshd } from "../harness/sshd.ts";

let sshd: Sshd;
let noForwarding: Sshd;
beforeAll(async () => {
  [sshd, noForwarding] = await Promise.all([startSshd(), startSshd({ config: { AllowTcpForwarding: "no" } })]);
});
afterAll(async () => {
  await Promise.all([sshd?.stop(), noForwarding?.stop()]);
});

/** Client args (an Sshd's, or already changed ones) with one -o replaced. */
const withOption = (from: Sshd | string[], key: string, value: string) => {
  const args = [...(Array.isArray(from) ? from : from.clientArgs)];
  const i = args.findIndex((a, j) => args[j - 1] === "-o" && a.startsWith(`${key}=`));
  args[i] = `${key}=${value}`;
  return args;
};

describe("host keys", () => {
  test("an unknown host under StrictHostKeyChecking=yes is refused with its fingerprint", async () => {
    const empty = join(sshd.dir, "empty_known_hosts");
    writeFileSync(empty, "");
    const r = await runFwdToEnd([...withOption(sshd, "UserKnownHostsFile", empty), "-L", "0:127.0.0.1:9", sshd.host]);
    expect(r.code).toBe(5);
    expect(r.stderr).toMatch(/host key not known: ssh-ed25519 SHA256:[A-Za-z0-9+/]{43}/);
    expect(r.stderr).toContain("hint:");
    expect(r.stdout).not.toContain("listening");
  });

  test("accept-new records an unknown host in known_hosts, and the key is then known", async () => {
    const file = join(sshd.dir, "accept_new_known_hosts");
    writeFileSync(file, "");
    const args = withOption(withOption(sshd, "UserKnownHostsFile", file), "StrictHostKeyChecking", "accept-new");
    const fwd = runFwd([...args, "-L", "0:127.0.0.1:9", sshd.host]);
    await fwd.waitFor(/^listening /);
    expect(await fwd.stop()).toBe(0);
    expect(fwd.stderr.join("\n")).toContain(`permanently added '[127.0.0.1]:${sshd.port}'`);
    const found = spawnSync("ssh-keygen", ["-F", `[127.0.0.1]:${sshd.port}`, "-f", file]);
    expect(found.status).toBe(0);
    expect(readFileSync(file, "utf8")).toContain(sshd.hostKeyPub.split(" ")[1]!);
  });

  test("a changed host key is refused even under accept-new, naming the file and line", async () => {
    const other = join(sshd.dir, "other_key");
    spawnSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", other]);
    const file = join(sshd.dir, "changed_known_hosts");
    writeFileSync(file, `# a comment\n[127.0.0.1]:${sshd.port} ${readFileSync(`${other}.pub`, "utf8")}`);
    const args = withOption(withOption(sshd, "UserKnownHostsFile", file), "StrictHostKeyChecking", "accept-new");
    const r = await runFwdToEnd([...args, "-L", "0:127.0.0.1:9", sshd.host]);
    expect(r.code).toBe(5);
    expect(r.stderr).toContain("HOST KEY CHANGED");
    expect(r.stderr).toContain(`${file}:2`);
    expect(r.stderr).toContain(`ssh-keygen -R '[127.0.0.1]:${sshd.port}'`);
  });
});

describe("authentication and connection", () => {
  test("a key the server does not accept fails with what was tried", async () => {
    const wrong = join(sshd.dir, "wrong_key");
    spawnSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", wrong]);
    const args = sshd.clientArgs.map((a) => (a === sshd.clientKey ? wrong : a));
    const r = await runFwdToEnd([...args, "-L", "0:127.0.0.1:9", sshd.host]);
    expect(r.code).toBe(4);
    expect(r.stderr).toContain(`authentication failed (tried key ${wrong}`);
    expect(r.stderr).toContain("server allows publickey");
    expect(r.stderr).toContain("no terminal");
  });

  test("a port where no sshd listens: connection refused, exit 3", async () => {
    const port = await freePort();
    const args = sshd.clientArgs.map((a) => (a === String(sshd.port) ? String(port) : a));
    const r = await runFwdToEnd([...args, "-L", "0:127.0.0.1:9", sshd.host]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(`127.0.0.1:${port}: connection refused`);
  });
});

describe("forwards", () => {
  test("a local port in use: fatal under ExitOnForwardFailure=yes (exit 6)", async () => {
    const holder = net.createServer();
    await new Promise<void>((r) => holder.listen(0, "127.0.0.1", r));
    const port = (holder.address() as net.AddressInfo).port;
    try {
      const r = await runFwdToEnd([...sshd.clientArgs, "-o", "ExitOnForwardFailure=yes", "-L", `${port}:127.0.0.1:9`, sshd.host]);
      expect(r.code).toBe(6);
      expect(r.stderr).toContain(`bind 127.0.0.1:${port}: address in use`);
      expect(r.stderr).toContain("ss -ltnp");
    } finally {
      holder.close();
    }
  });

  test("a local port in use without ExitOnForwardFailure: a warning, and the other forwards run", async () => {
    const holder = net.createServer();
    await new Promise<void>((r) => holder.listen(0, "127.0.0.1", r));
    const port = (holder.address() as net.AddressInfo).port;
    const echo = await startEcho();
    const fwd = runFwd([...sshd.clientArgs, "-L", `${port}:127.0.0.1:9`, "-L", `0:127.0.0.1:${echo.port}`, sshd.host]);
    try {
      await fwd.waitFor(/address in use \(continuing: ExitOnForwardFailure is off\)/);
      await fwd.waitFor(/^listening /);
      expect((await exchange(fwd.ports[0]!, "still works")).reply.toString()).toBe("still works");
    } finally {
      expect(await fwd.stop()).toBe(0);
      holder.close();
      await echo.close();
    }
  });

  test("a refused target closes that connection only; the listener stays up", async () => {
    const closed = await freePort();
    const echo = await startEcho();
    const fwd = runFwd([...sshd.clientArgs, "-L", `0:127.0.0.1:${closed}`, "-L", `0:127.0.0.1:${echo.port}`, sshd.host]);
    try {
      await fwd.waitFor(new RegExp(`-> 127\\.0\\.0\\.1:${echo.port}$`));
      const [deadPort, livePort] = fwd.ports as [number, number];
      const r = await exchange(deadPort, "anyone?");
      expect(r.reply.length).toBe(0);
      await fwd.waitFor(new RegExp(`open 127\\.0\\.0\\.1:${closed}: connection refused by the target`));
      expect((await exchange(deadPort, "again?")).reply.length).toBe(0);
      expect((await exchange(livePort, "alive")).reply.toString()).toBe("alive");
    } finally {
      expect(await fwd.stop()).toBe(0);
      await echo.close();
    }
  });

  test("a server with AllowTcpForwarding no: 'administratively prohibited', with the sshd_config hint", async () => {
    const echo = await startEcho();
    const fwd = runFwd([...noForwarding.clientArgs, "-L", `0:127.0.0.1:${echo.port}`, noForwarding.host]);
    try {
      await fwd.waitFor(/^listening /);
      expect((await exchange(fwd.ports[0]!, "hello")).reply.length).toBe(0);
      const line = await fwd.waitFor(/administratively prohibited/);
      expect(line).toContain(`open 127.0.0.1:${echo.port}`);
      await fwd.waitFor(/AllowTcpForwarding/);
    } finally {
      expect(await fwd.stop()).toBe(0);
      await echo.close();
    }
  });
});

describe("bad input", () => {
  test.each([
    [["-L", "99999:h:80", "x"], /-L '99999:h:80'/],
    [["-L", "8080:h", "x"], /-L '8080:h'/],
    [["-Z", "x"], /unknown option -Z/],
    [["-L", "0:h:80"], /no destination given/],
    [["x"], /nothing to forward/],
    [["-F", "/no/such/config", "-L", "0:h:80", "x"], /\/no\/such\/config: no such file/],
    [["-o", "NoSuchOption=1", "-L", "0:h:80", "x"], /NoSuchOption/],
    [["-o", "Port=abc", "-L", "0:h:80", "x"], /Port/],
    [["-f", "-L", "0:h:80", "x"], /-f is not supported/],
    [["-g", "-L", "0:h:80", "x"], /-g is not supported/],
    [["-D", "[::]:0", "--allow", "fe80::%eth0/64", "x"], /--allow 'fe80::%eth0\/64': a zone \(%…\) cannot be checked/],
    [["-D", "0.0.0.0:0", "--allow", "10.0.0.0/33", "x"], /--allow '10\.0\.0\.0\/33': expected an address or CIDR/],
  ])("%p is a config error (exit 2) that names the problem", async (args, re) => {
    const r = await runFwdToEnd(["-F", "none", ...args]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(re);
  });
});
