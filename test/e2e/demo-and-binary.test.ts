// `fwd demo` from source and from the standalone binary, the latter run from an empty directory so
// that nothing from node_modules can help it.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PLUGIN_API_DTS, PLUGIN_DTS } from "../../src/cli/plugin-template.ts";
import { runFwd, runFwdToEnd } from "../harness/fwd.ts";
import { startEcho, exchange } from "../harness/net.ts";
import { startSshd, type Sshd } from "../harness/sshd.ts";

const ROOT = join(import.meta.dir, "..", "..");
let dir: string;
let binary: string;
let sshd: Sshd;

beforeAll(async () => {
  const built = spawnSync(process.execPath, [join(ROOT, "scripts", "build.ts")], { cwd: ROOT, encoding: "utf8" });
  if (built.status !== 0) throw new Error(`build failed: ${built.stderr}`);
  dir = mkdtempSync(join(tmpdir(), "fwd-bin-"));
  binary = join(dir, "fwd");
  copyFileSync(join(ROOT, "dist", "fwd"), binary);
  sshd = await startSshd();
}, 120_000);
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await sshd?.stop();
});

describe("fwd demo", () => {
  test("from source: the page comes through the built-in SSH server, then it stops cleanly", async () => {
    const r = await runFwdToEnd(["demo", "--once"]);
    expect(r.stdout).toMatch(/^listening 127\.0\.0\.1:\d+ -> 127\.0\.0\.1:\d+$/m);
    expect(r.stdout).toMatch(/demo: the tunnel works — fetched \d+ bytes through SSH/);
    expect(r.code).toBe(0);
  });

  test("running: the printed URL serves the page until SIGINT", async () => {
    const fwd = runFwd(["demo"]);
    const line = await fwd.waitFor(/^open http:\/\/127\.0\.0\.1:\d+\//);
    const url = /(http:\S+)/.exec(line)![1]!;
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain("This page came through an SSH tunnel.");
    expect(await fwd.stop()).toBe(0);
  });

  test("--json: every stdout line is one JSON object", async () => {
    const r = await runFwdToEnd(["demo", "--once", "--json"]);
    expect(r.code).toBe(0);
    const events = r.stdout.split("\n").filter(Boolean).map((l) => JSON.parse(l));
    expect(events.some((e) => e.type === "listening" && e.bind.host === "127.0.0.1")).toBe(true);
    expect(events.some((e) => e.type === "output" && typeof e.url === "string")).toBe(true);
    expect(events.every((e) => typeof e.time === "string")).toBe(true);
  });
});

describe("dist/fwd, alone in an empty directory", () => {
  test("--version", () => {
    const r = spawnSync(binary, ["--version"], { cwd: dir, encoding: "utf8" });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^fwd \d+\.\d+\.\d+ \(bun [\d.]+, standalone binary\)$/m);
  });

  test("a bunfig.toml or .env in the working directory is not loaded (it could preload code)", () => {
    const cwd = join(dir, "hostile");
    mkdirSync(cwd, { recursive: true });
    writeFileSync(join(cwd, "evil.ts"), `require("node:fs").writeFileSync(${JSON.stringify(join(cwd, "pwned"))}, "1");\n`);
    writeFileSync(join(cwd, "bunfig.toml"), `preload = ["./evil.ts"]\n`);
    writeFileSync(join(cwd, ".env"), "FWD_DOTENV_LOADED=1\n");
    const r = spawnSync(binary, ["--version"], { cwd, encoding: "utf8" });
    expect(r.status).toBe(0);
    expect(existsSync(join(cwd, "pwned"))).toBe(false);
  });

  test("demo --once", async () => {
    const r = await runFwdToEnd(["demo", "--once"], { binary });
    expect(r.stdout).toContain("demo: the tunnel works");
    expect(r.code).toBe(0);
  });

  test("a custom plugin written by `fwd plugin new` loads from disk and carries a real tunnel", async () => {
    const pdir = join(dir, "plugins");
    const made = spawnSync(binary, ["plugin", "new", "my-service", pdir], { cwd: dir, encoding: "utf8" });
    expect(made.status).toBe(0);
    const echo = await startEcho();
    const ssh = ["-F", "none", "-o", `UserKnownHostsFile=${sshd.knownHosts}`, "-o", "StrictHostKeyChecking=yes", "-i", sshd.clientKey];
    const fwd = runFwd(["run", "my-service", "--plugin", join(pdir, "my-service.ts"), "--bastion", `${sshd.user}@127.0.0.1:${sshd.port}`, "--target", `127.0.0.1:${echo.port}`, ...ssh], { binary });
    try {
      // stdout (the listening line) and stderr (the probe) are two pipes: wait for each, not one for both.
      await fwd.waitFor(/^listening /);
      await fwd.waitFor(/probe ok: connected through the tunnel/);
      expect((await exchange(fwd.ports[0]!, "plugin in the binary")).reply.toString()).toBe("plugin in the binary");
    } finally {
      expect(await fwd.stop()).toBe(0);
      await echo.close();
    }
  });

  test("the plugin example in the README works as written, in the binary", async () => {
    const readme = readFileSync(join(ROOT, "README.md"), "utf8");
    const code = /### Writing a plugin[\s\S]*?```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(code).toBeDefined();
    const pdir = join(dir, "readme-plugin");
    mkdirSync(pdir, { recursive: true });
    writeFileSync(join(pdir, "redis-via-bastion.ts"), code!);
    writeFileSync(join(pdir, "fwd-plugin.d.ts"), PLUGIN_DTS);
    writeFileSync(join(pdir, "fwd-plugin-api.d.ts"), PLUGIN_API_DTS);
    // A stand-in for Redis that answers PING as Redis does: the subject here is the plugin, not Redis.
    const redis = net.createServer((s) => s.on("data", (d) => String(d).startsWith("PING") && s.write("+PONG\r\n")));
    await new Promise<void>((r) => redis.listen(0, "127.0.0.1", r));
    const ssh = ["-F", "none", "-o", `UserKnownHostsFile=${sshd.knownHosts}`, "-o", "StrictHostKeyChecking=yes", "-i", sshd.clientKey];
    const args = ["--bastion", `${sshd.user}@127.0.0.1:${sshd.port}`, "--redis", `127.0.0.1:${(redis.address() as net.AddressInfo).port}`, "--listen", "127.0.0.1:0"];
    const fwd = runFwd(["run", "redis-via-bastion", "--plugin", join(pdir, "redis-via-bastion.ts"), ...args, ...ssh], { binary });
    try {
      await fwd.waitFor(/redis-via-bastion: probe ok: \+PONG/);
      await fwd.waitFor(new RegExp(`^redis-cli -p ${fwd.ports[0]}$`));
    } finally {
      expect(await fwd.stop()).toBe(0);
      redis.close();
    }
  });

  test("the built-in plugins and example scenarios are embedded", () => {
    const r = spawnSync(binary, ["scenarios", "show", "intranet-wiki"], { cwd: dir, encoding: "utf8", env: { PATH: process.env.PATH, HOME: dir } });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('plugin = "intranet-wiki"');
  });

  test("-L against a real sshd, AES-GCM sealed in place by the system's libcrypto", async () => {
    const echo = await startEcho();
    const fwd = runFwd([...sshd.clientArgs, "-vv", "-c", "aes128-gcm@openssh.com", "-L", `0:127.0.0.1:${echo.port}`, sshd.host], { binary });
    try {
      await fwd.waitFor(/^listening /);
      expect((await exchange(fwd.ports[0]!, "from the binary")).reply.toString()).toBe("from the binary");
      // The binary's ssh2 is the one the setter reached (a second copy from disk would not be).
      expect(fwd.stderr.some((l) => /sealed in place \(libcrypto\)/.test(l))).toBe(true);
    } finally {
      expect(await fwd.stop()).toBe(0);
      await echo.close();
    }
  });

  test("-L with chacha20-poly1305 (ssh2 patched at install, the JS ChaCha20 embedded) against an sshd that allows only it", async () => {
    const chachaOnly = await startSshd({ config: { Ciphers: "chacha20-poly1305@openssh.com" } });
    const echo = await startEcho();
    const fwd = runFwd([...chachaOnly.clientArgs, "-vv", "-L", `0:127.0.0.1:${echo.port}`, chachaOnly.host], { binary });
    try {
      await fwd.waitFor(/^listening /);
      expect(fwd.stderr.join("\n")).toContain("cipher chacha20-poly1305@openssh.com");
      expect((await exchange(fwd.ports[0]!, "chacha from the binary")).reply.toString()).toBe("chacha from the binary");
    } finally {
      expect(await fwd.stop()).toBe(0);
      await echo.close();
      await chachaOnly.stop();
    }
  });
});
