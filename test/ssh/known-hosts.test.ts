// known_hosts support against real OpenSSH: keys from ssh-keygen, hashes from `ssh-keygen -H`, lookups
// with `ssh-keygen -F`, plus table tests for parsing, host patterns and verdicts.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { chmodSync, chownSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  appendKnownHost,
  checkHostKey,
  defaultKnownHostsFiles,
  entryMatchesHost,
  fingerprintSha256,
  type KnownHostEntry,
  keyTypeOf,
  knownHostsLine,
  knownTypesFor,
  loadKnownHosts,
  parseKnownHosts,
} from "../../src/ssh/known-hosts.ts";

const SSH_KEYGEN = "/usr/bin/ssh-keygen";

interface TestKey {
  pubPath: string;
  type: string;
  base64: string;
  blob: Buffer;
}

let dir = "";
const keys: Record<"edA" | "edB" | "ecdsa", TestKey> = {} as Record<"edA" | "edB" | "ecdsa", TestKey>;

function keygen(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(SSH_KEYGEN, args, { encoding: "utf8" });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

async function makeKey(name: string, args: string[]): Promise<TestKey> {
  const path = join(dir, name);
  const r = keygen([...args, "-N", "", "-C", name, "-f", path]);
  if (r.status !== 0) throw new Error(`ssh-keygen ${args.join(" ")}: ${r.stderr}`);
  const [type = "", base64 = ""] = (await readFile(`${path}.pub`, "utf8")).trim().split(" ");
  return { pubPath: `${path}.pub`, type, base64, blob: Buffer.from(base64, "base64") };
}

const line = (hosts: string, k: TestKey) => `${hosts} ${k.type} ${k.base64}`;
const parse = (...lines: string[]) => parseKnownHosts(lines.join("\n"), "kh");
const entry = (patterns: string): KnownHostEntry => ({ file: "kh", line: 1, patterns, keyType: "t", keyBase64: "" });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "fwd-known-hosts-"));
  keys.edA = await makeKey("ed-a", ["-t", "ed25519"]);
  keys.edB = await makeKey("ed-b", ["-t", "ed25519"]);
  keys.ecdsa = await makeKey("ecdsa", ["-t", "ecdsa", "-b", "256"]);
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("keys", () => {
  test("fingerprintSha256 equals ssh-keygen -lf and keyTypeOf reads the blob's type", () => {
    for (const k of Object.values(keys)) {
      const r = keygen(["-lf", k.pubPath]);
      expect(r.status).toBe(0);
      expect(fingerprintSha256(k.blob)).toBe(r.stdout.split(" ")[1] ?? "");
      expect(keyTypeOf(k.blob)).toBe(k.type);
    }
    expect(keys.ecdsa.type).toBe("ecdsa-sha2-nistp256");
  });

  test.each([
    ["empty", Buffer.alloc(0)],
    ["short length", Buffer.from([0, 0, 0])],
    ["length past the end", Buffer.from([0, 0, 0, 9, 0x61])],
    ["zero length", Buffer.from([0, 0, 0, 0])],
    ["control bytes", Buffer.from([0, 0, 0, 2, 0x61, 0x0a])],
  ])("keyTypeOf rejects a malformed blob: %s", (_name, blob) => {
    expect(keyTypeOf(blob)).toBeUndefined();
  });
});

describe("parseKnownHosts", () => {
  const accepted: [string, () => string, Partial<KnownHostEntry>][] = [
    ["plain", () => line("example.com", keys.edA), { patterns: "example.com" }],
    ["with comment", () => `${line("example.com", keys.edA)} root@example`, { patterns: "example.com" }],
    ["indented, tabs", () => `  example.com\t${keys.edA.type}\t${keys.edA.base64}`, { patterns: "example.com" }],
    ["CRLF", () => `${line("example.com", keys.edA)}\r`, { patterns: "example.com" }],
    ["cert-authority", () => `@cert-authority ${line("*.example.com", keys.edA)}`, { marker: "cert-authority" }],
    ["revoked", () => `@revoked ${line("example.com", keys.edA)}`, { marker: "revoked" }],
  ];
  test.each(accepted)("accepts %s", (_name, text, want) => {
    const [e, ...rest] = parse(text());
    expect(rest).toEqual([]);
    expect(e).toMatchObject({ file: "kh", line: 1, keyType: keys.edA.type, keyBase64: keys.edA.base64, ...want });
  });

  const skipped: [string, () => string][] = [
    ["blank", () => ""],
    ["whitespace", () => " \t "],
    ["comment", () => `# ${line("example.com", keys.edA)}`],
    ["indented comment", () => `   #x`],
    ["unknown marker", () => `@bogus ${line("example.com", keys.edA)}`],
    ["marker only", () => "@revoked"],
    ["host only", () => "example.com"],
    ["no key", () => `example.com ${keys.edA.type}`],
    ["bad base64", () => `example.com ${keys.edA.type} AAAA*AAA`],
    ["type mismatch", () => `example.com ssh-rsa ${keys.edA.base64}`],
    ["truncated key", () => `example.com ${keys.edA.type} AAAAC3Nz`],
  ];
  test.each(skipped)("skips %s", (_name, text) => {
    expect(parse(text())).toEqual([]);
  });

  test("keeps 1-based line numbers across skipped lines", () => {
    const entries = parse("# header", line("a", keys.edA), "", "junk", line("b", keys.ecdsa));
    expect(entries.map((e) => [e.line, e.patterns, e.keyType])).toEqual([
      [2, "a", keys.edA.type],
      [5, "b", keys.ecdsa.type],
    ]);
  });
});

describe("entryMatchesHost", () => {
  test.each([
    ["example.com", "example.com", 22, true],
    ["example.com", "EXAMPLE.com", 22, true],
    ["EXAMPLE.COM", "example.com", 22, true],
    ["example.com", "example.com", 2222, false],
    ["example.com", "example.com", 0, true],
    ["[example.com]:2222", "example.com", 2222, true],
    ["[example.com]:2222", "example.com", 22, false],
    ["[example.com]:2222", "example.com", 2200, false],
    ["[example.com]:22", "example.com", 22, false],
    ["a.example.com,b.example.com", "b.example.com", 22, true],
    ["a.example.com,b.example.com", "c.example.com", 22, false],
    ["*.example.com", "db.example.com", 22, true],
    ["*.example.com", "example.com", 22, false],
    ["*.example.com", "db.example.com", 2222, false],
    ["[*.example.com]:*", "db.example.com", 2222, true],
    ["*", "anything", 2222, true],
    ["db*", "db", 22, true],
    ["host?", "host1", 22, true],
    ["host?", "host12", 22, false],
    ["10.0.0.?", "10.0.0.7", 22, true],
    ["a*b*c", "axxbyyc", 22, true],
    ["a*b*c", "axxbyy", 22, false],
    ["*.example.com,!bad.example.com", "bad.example.com", 22, false],
    ["!bad.example.com,*.example.com", "bad.example.com", 22, false],
    ["*.example.com,!bad.example.com", "good.example.com", 22, true],
    ["!bad.example.com", "good.example.com", 22, false],
    ["::1", "::1", 22, true],
    ["[::1]:2222", "::1", 2222, true],
    ["|1|bad|bad", "example.com", 22, false],
    ["|2|c2FsdA==|aGFzaA==", "example.com", 22, false],
  ] as const)("%s vs %s port %d → %p", (patterns, host, port, want) => {
    expect(entryMatchesHost(entry(patterns), host, port)).toBe(want);
  });
});

describe("checkHostKey", () => {
  const ED = "ssh-ed25519";
  test.each([
    ["match", () => [line("example.com", keys.edA)], 22, { kind: "match", line: 1 }],
    ["match after an older key of the same type", () => [line("example.com", keys.edB), line("example.com", keys.edA)], 22, { kind: "match", line: 2 }],
    ["changed", () => [line("example.com", keys.edB)], 22, { kind: "changed", line: 1 }],
    ["unknown, other types", () => [line("example.com", keys.ecdsa), line("example.com,x", keys.ecdsa)], 22, { kind: "unknown", otherTypes: ["ecdsa-sha2-nistp256"] }],
    ["unknown, nothing stored", () => [line("other.com", keys.edA)], 22, { kind: "unknown", otherTypes: [] }],
    ["revoked wins over match", () => [line("example.com", keys.edA), `@revoked ${line("*", keys.edA)}`], 22, { kind: "revoked", line: 2 }],
    ["revoked for another host only", () => [`@revoked ${line("other.com", keys.edA)}`, line("example.com", keys.edA)], 22, { kind: "match", line: 2 }],
    ["revoked other key is no match", () => [`@revoked ${line("example.com", keys.edB)}`], 22, { kind: "unknown", otherTypes: [] }],
    ["cert-authority is not a host key", () => [`@cert-authority ${line("example.com", keys.edA)}`], 22, { kind: "unknown", otherTypes: [] }],
    ["cert-authority does not make changed", () => [`@cert-authority ${line("example.com", keys.edB)}`], 22, { kind: "unknown", otherTypes: [] }],
    ["negated host", () => [line("*.com,!example.com", keys.edA)], 22, { kind: "unknown", otherTypes: [] }],
    ["other port, other key", () => [line("[example.com]:2222", keys.edB), line("example.com", keys.edA)], 2222, { kind: "changed", line: 1 }],
    ["port entry ignored on 22", () => [line("[example.com]:2222", keys.edB)], 22, { kind: "unknown", otherTypes: [] }],
  ] as const)("%s", (_name, lines, port, want) => {
    const verdict = checkHostKey(parse(...lines()), "Example.com", port, keys.edA.blob);
    expect(verdict.kind).toBe(want.kind);
    if ("otherTypes" in want) expect(verdict).toEqual({ kind: "unknown", otherTypes: [...want.otherTypes] });
    if ("line" in want) {
      const found = verdict.kind === "changed" ? verdict.stored : verdict.kind === "unknown" ? undefined : verdict.entry;
      expect(found?.line).toBe(want.line);
      expect(found?.keyType).toBe(ED);
    }
  });

  test("knownTypesFor lists plain key types for the host once, in file order", () => {
    const entries = parse(
      `@cert-authority ${line("*", keys.edA)}`,
      line("example.com", keys.ecdsa),
      `@revoked ${line("example.com", keys.edB)}`,
      line("*.com", keys.edA),
      line("example.com", keys.edB),
      line("[example.com]:2222", keys.edA),
    );
    expect(knownTypesFor(entries, "example.com", 22)).toEqual(["ecdsa-sha2-nistp256", ED]);
    expect(knownTypesFor(entries, "example.com", 2222)).toEqual([ED]);
    expect(knownTypesFor(entries, "example.org", 22)).toEqual([]);
  });
});

describe("knownHostsLine", () => {
  test.each([
    ["Example.COM", 22, "example.com"],
    ["example.com", 2222, "[example.com]:2222"],
    ["::1", 2222, "[::1]:2222"],
  ] as const)("%s port %d writes %s", (host, port, name) => {
    expect(knownHostsLine(host, port, keys.edA.blob)).toBe(line(name, keys.edA));
  });

  test("a malformed blob is a bug and throws", () => {
    expect(() => knownHostsLine("example.com", 22, Buffer.from("junk"))).toThrow("not a wire-format public key");
  });

  test("hashed lines use a fresh salt and match only their host", () => {
    const a = knownHostsLine("example.com", 2222, keys.edA.blob, { hash: true });
    const b = knownHostsLine("example.com", 2222, keys.edA.blob, { hash: true });
    expect(a).toMatch(/^\|1\|[A-Za-z0-9+/]{27}=\|[A-Za-z0-9+/]{27}= ssh-ed25519 /);
    expect(a).not.toBe(b);
    const entries = parse(a);
    expect(checkHostKey(entries, "EXAMPLE.com", 2222, keys.edA.blob).kind).toBe("match");
    expect(checkHostKey(entries, "example.com", 22, keys.edA.blob).kind).toBe("unknown");
  });
});

describe("interop with ssh-keygen", () => {
  test("lines hashed by ssh-keygen -H are matched", async () => {
    const file = join(dir, "hashed_by_openssh");
    const plain = [line("example.com", keys.edA), line("[127.0.0.1]:2222", keys.ecdsa), line("db.example.com,10.0.0.5", keys.edB)];
    await writeFile(file, `${plain.join("\n")}\n`);
    expect(keygen(["-H", "-f", file]).status).toBe(0);
    const entries = parseKnownHosts(await readFile(file, "utf8"), file);
    expect(entries.length).toBe(4);
    for (const e of entries) expect(e.patterns).toMatch(/^\|1\|/);
    expect(checkHostKey(entries, "example.com", 22, keys.edA.blob).kind).toBe("match");
    expect(checkHostKey(entries, "EXAMPLE.COM", 22, keys.edA.blob).kind).toBe("match");
    expect(checkHostKey(entries, "127.0.0.1", 2222, keys.ecdsa.blob).kind).toBe("match");
    expect(checkHostKey(entries, "10.0.0.5", 22, keys.edB.blob).kind).toBe("match");
    expect(checkHostKey(entries, "db.example.com", 22, keys.edA.blob).kind).toBe("changed");
    expect(checkHostKey(entries, "127.0.0.1", 22, keys.ecdsa.blob)).toEqual({ kind: "unknown", otherTypes: [] });
  });

  test("lines written here are found by ssh-keygen -F", async () => {
    const file = join(dir, "written_by_fwd");
    const hashed = knownHostsLine("127.0.0.1", 2222, keys.ecdsa.blob, { hash: true });
    const plain = knownHostsLine("example.com", 22, keys.edA.blob);
    expect(await appendKnownHost(file, hashed)).toEqual({ ok: true, value: undefined });
    expect(await appendKnownHost(file, plain)).toEqual({ ok: true, value: undefined });

    const found = keygen(["-F", "[127.0.0.1]:2222", "-f", file]);
    expect(found.status).toBe(0);
    expect(found.stdout).toContain(hashed);
    expect(keygen(["-F", "example.com", "-f", file]).stdout).toContain(plain);
    expect(keygen(["-F", "127.0.0.1", "-f", file]).status).toBe(1);
  });
});

describe("files", () => {
  test("appendKnownHost creates the directory 0700 and the file 0600", async () => {
    const file = join(dir, "home", ".ssh", "known_hosts");
    expect((await appendKnownHost(file, "a ssh-ed25519 AAAA\n")).ok).toBe(true);
    expect(await readFile(file, "utf8")).toBe("a ssh-ed25519 AAAA\n");
    expect((await stat(join(dir, "home", ".ssh"))).mode & 0o777).toBe(0o700);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
  });

  test.each([
    ["empty file", "", "new\n"],
    ["last line without newline", "old", "old\nnew\n"],
    ["last line with newline", "old\n", "old\nnew\n"],
  ])("appendKnownHost to %s", async (name, before, after) => {
    const file = join(dir, `append-${name.replaceAll(" ", "-")}`);
    await writeFile(file, before);
    expect((await appendKnownHost(file, "new")).ok).toBe(true);
    expect(await readFile(file, "utf8")).toBe(after);
  });

  test("appendKnownHost reports a path it cannot write as E_HOSTKEY", async () => {
    const blocker = join(dir, "not-a-dir");
    await writeFile(blocker, "");
    const r = await appendKnownHost(join(blocker, "known_hosts"), "new");
    expect(r.ok ? undefined : r.error.code).toBe("E_HOSTKEY");
  });

  test("loadKnownHosts reads files in order and skips missing and unreadable ones", async () => {
    const one = join(dir, "load-one");
    const two = join(dir, "load-two");
    const aDir = join(dir, "load-dir");
    await writeFile(one, `${line("a", keys.edA)}\n`);
    await writeFile(two, `# c\n${line("b", keys.ecdsa)}\n`);
    await mkdir(aDir);
    const entries = await loadKnownHosts([join(dir, "missing"), two, aDir, one]);
    expect(entries.ok && entries.value.map((e) => [e.file, e.line, e.patterns])).toEqual([
      [two, 2, "b"],
      [one, 1, "a"],
    ]);
  });

  test("loadKnownHosts refuses a file others can write, or one another user owns", async () => {
    const open = join(dir, "load-writable");
    await writeFile(open, `${line("a", keys.edA)}\n`);
    chmodSync(open, 0o666);
    const r = await loadKnownHosts([open]);
    expect(r.ok ? undefined : [r.error.code, r.error.message, r.error.hint]).toEqual(["E_CONFIG", `known_hosts ${open}: permissions 0666 let group and others change it`, `\`chmod go-w ${open}\``]);
    chmodSync(open, 0o644);
    chownSync(open, 65534, 65534);
    const theirs = await loadKnownHosts([open]);
    expect(theirs.ok ? undefined : theirs.error.message).toBe(`known_hosts ${open}: it is owned by uid 65534, not by root (you)`);
  });

  test("defaultKnownHostsFiles", () => {
    expect(defaultKnownHostsFiles("/home/u")).toEqual({
      user: ["/home/u/.ssh/known_hosts", "/home/u/.ssh/known_hosts2"],
      global: ["/etc/ssh/ssh_known_hosts", "/etc/ssh/ssh_known_hosts2"],
    });
  });
});
