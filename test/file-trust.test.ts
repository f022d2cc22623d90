// Table tests of the file-trust checker over real files in a temp dir: modes set with chmod, owners
// with chown to nobody (the suite runs as root), symlinks, sticky directories and the stop at home.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { checkTrusted, readTrusted, type TrustContext, UNTRUSTED } from "../src/file-trust.ts";

const NOBODY = 65534;
let base: string;
let ctx: TrustContext;

beforeAll(() => {
  expect(process.getuid?.()).toBe(0); // chown to nobody needs root; the suite runs as root
  base = mkdtempSync(join(tmpdir(), "fwd-trust-"));
  ctx = { uid: 0, home: base };
});
afterAll(() => rmSync(base, { recursive: true, force: true }));

let n = 0;
/** A fresh directory (mode `dirMode`, owner `dirOwner`) under the home holding one file. */
function layout(o: { mode?: number; owner?: number; dirMode?: number; dirOwner?: number; text?: string } = {}) {
  const dir = join(base, `d${++n}`);
  mkdirSync(dir);
  chmodSync(dir, o.dirMode ?? 0o700);
  if (o.dirOwner !== undefined) chownSync(dir, o.dirOwner, o.dirOwner);
  const file = join(dir, "f");
  writeFileSync(file, o.text ?? "content");
  chmodSync(file, o.mode ?? 0o600);
  if (o.owner !== undefined) chownSync(file, o.owner, o.owner);
  return { dir, file };
}

const outcome = (r: { ok: true } | { ok: false; error: { message: string; hint?: string; reason: string | undefined } }) =>
  r.ok ? "ok" : { message: r.error.message, hint: r.error.hint, reason: r.error.reason };

describe("readTrusted: the file itself", () => {
  const cases: { name: string; mode: number; owner?: number; secret: boolean; want: (f: string) => unknown }[] = [
    { name: "a key only you can read", mode: 0o600, secret: true, want: () => "ok" },
    { name: "a key read-only to you", mode: 0o400, secret: true, want: () => "ok" },
    {
      name: "a key others can read (0644)",
      mode: 0o644,
      secret: true,
      want: (f) => ({ message: `identity file ${f}: permissions 0644 are too open: group and others can read it`, hint: `\`chmod 600 ${f}\`: it must be accessible by you alone`, reason: UNTRUSTED }),
    },
    { name: "a key the group can read (0640)", mode: 0o640, secret: true, want: (f) => ({ message: `identity file ${f}: permissions 0640 are too open: group can read it`, hint: `\`chmod 600 ${f}\`: it must be accessible by you alone`, reason: UNTRUSTED }) },
    { name: "a key others may execute (0601)", mode: 0o601, secret: true, want: (f) => ({ message: `identity file ${f}: permissions 0601 are too open: others can read it`, hint: `\`chmod 600 ${f}\`: it must be accessible by you alone`, reason: UNTRUSTED }) },
    { name: "a config others can read", mode: 0o644, secret: false, want: () => "ok" },
    { name: "a config the group can write (0664)", mode: 0o664, secret: false, want: (f) => ({ message: `identity file ${f}: permissions 0664 let group change it`, hint: `\`chmod go-w ${f}\``, reason: UNTRUSTED }) },
    { name: "a config others can write (0602)", mode: 0o602, secret: false, want: (f) => ({ message: `identity file ${f}: permissions 0602 let others change it`, hint: `\`chmod go-w ${f}\``, reason: UNTRUSTED }) },
    {
      name: "a file owned by nobody",
      mode: 0o644,
      owner: NOBODY,
      secret: false,
      want: (f) => ({ message: `identity file ${f}: it is owned by uid ${NOBODY}, not by root (you)`, hint: `another user can change it: check what is in it, then \`chown 0 ${f}\` (or move the file somewhere only you can write)`, reason: UNTRUSTED }),
    },
  ];
  for (const c of cases)
    test(c.name, () => {
      const { file } = layout({ mode: c.mode, ...(c.owner !== undefined ? { owner: c.owner } : {}) });
      const r = readTrusted(file, { what: "identity file", secret: c.secret }, ctx);
      expect(outcome(r)).toEqual(c.want(file) as never);
      if (r.ok) expect(r.value.toString()).toBe("content");
    });

  test("another user's view: root's file is fine, uid 1000's is not", () => {
    const { file } = layout({ mode: 0o644 });
    const asNobody = { uid: NOBODY, home: base };
    expect(outcome(readTrusted(file, { what: "ssh config" }, asNobody))).toBe("ok");
    chownSync(file, 1000, 1000);
    expect(readTrusted(file, { what: "ssh config" }, asNobody)).toMatchObject({ ok: false, error: { message: `ssh config ${file}: it is owned by uid 1000, not by you (uid ${NOBODY}) or root` } });
  });

  test("/dev/null (root's character device) passes; a directory or a missing file is not trusted content", () => {
    expect(outcome(readTrusted("/dev/null", { what: "ssh config" }, ctx))).toBe("ok");
    const { dir } = layout();
    expect(readTrusted(dir, { what: "ssh config" }, ctx)).toMatchObject({ ok: false, error: { message: `ssh config ${dir}: not a regular file`, reason: "not-a-file" } });
    expect(readTrusted(join(dir, "missing"), { what: "ssh config" }, ctx)).toMatchObject({ ok: false, error: { message: `ssh config ${join(dir, "missing")}: no such file`, reason: "ENOENT" } });
  });
});

describe("readTrusted: the directories above", () => {
  test("a parent others can write (0777) is refused, naming it", () => {
    const { dir, file } = layout({ dirMode: 0o777 });
    expect(outcome(readTrusted(file, { what: "ssh config" }, ctx))).toEqual({ message: `ssh config ${file}: directory ${dir} is writable by group and others (mode 0777)`, hint: `\`chmod go-w ${dir}\``, reason: UNTRUSTED });
  });

  test("a group-writable parent (0775) is refused", () => {
    const { dir, file } = layout({ dirMode: 0o775 });
    expect(readTrusted(file, { what: "plugin" }, ctx)).toMatchObject({ ok: false, error: { message: `plugin ${file}: directory ${dir} is writable by group (mode 0775)` } });
  });

  test("a parent owned by nobody is refused", () => {
    const { dir, file } = layout({ dirMode: 0o755, dirOwner: NOBODY });
    expect(readTrusted(file, { what: "plugin" }, ctx)).toMatchObject({ ok: false, error: { message: `plugin ${file}: directory ${dir} is owned by uid ${NOBODY}, not by root (you)`, hint: `another user can change it: check what is in it, then \`chown 0 ${dir}\` (or move the file somewhere only you can write)` } });
  });

  test("a sticky parent (1777, like /tmp) is accepted", () => {
    const { file } = layout({ dirMode: 0o1777 });
    expect(outcome(readTrusted(file, { what: "ssh config" }, ctx))).toBe("ok");
  });

  test("the walk stops at the home directory: what is above it is not looked at", () => {
    const outer = join(base, `outer${++n}`);
    mkdirSync(outer, { mode: 0o700 });
    chmodSync(outer, 0o777);
    const home = join(outer, "home");
    mkdirSync(join(home, ".ssh"), { recursive: true, mode: 0o700 });
    const file = join(home, ".ssh", "config");
    writeFileSync(file, "Port 22\n", { mode: 0o600 });
    expect(outcome(readTrusted(file, { what: "ssh config" }, { uid: 0, home }))).toBe("ok");
    // without that home above it, the world-writable directory is on the way to '/'
    expect(readTrusted(file, { what: "ssh config" }, { uid: 0, home: "/nonexistent" })).toMatchObject({ ok: false, error: { message: `ssh config ${file}: directory ${outer} is writable by group and others (mode 0777)` } });
    // and the home directory itself is checked
    chmodSync(home, 0o770);
    expect(readTrusted(file, { what: "ssh config" }, { uid: 0, home })).toMatchObject({ ok: false, error: { message: `ssh config ${file}: directory ${home} is writable by group (mode 0770)` } });
  });

  test("symlinks: the directories of the link and of its target are both checked", () => {
    const good = layout({ dirMode: 0o755 });
    const bad = layout({ dirMode: 0o777 });
    const linkInBad = join(bad.dir, "link");
    symlinkSync(good.file, linkInBad);
    expect(readTrusted(linkInBad, { what: "ssh config" }, ctx)).toMatchObject({ ok: false, error: { message: `ssh config ${linkInBad}: directory ${bad.dir} is writable by group and others (mode 0777)` } });
    const linkInGood = join(good.dir, "link");
    symlinkSync(bad.file, linkInGood);
    expect(readTrusted(linkInGood, { what: "ssh config" }, ctx)).toMatchObject({ ok: false, error: { message: `ssh config ${linkInGood}: directory ${bad.dir} is writable by group and others (mode 0777)` } });
  });
});

describe("checkTrusted", () => {
  test("a folder others can write is refused as itself", () => {
    const { dir } = layout({ dirMode: 0o777 });
    expect(outcome(checkTrusted(dir, { what: "plugins folder" }, ctx))).toEqual({ message: `plugins folder ${dir}: it is writable by group and others (mode 0777)`, hint: `\`chmod go-w ${dir}\``, reason: UNTRUSTED });
  });

  test("a plugin file is checked like a read one, without being read", () => {
    const ok = layout({ mode: 0o644, dirMode: 0o755 });
    expect(outcome(checkTrusted(ok.file, { what: "plugin" }, ctx))).toBe("ok");
    const theirs = layout({ mode: 0o644, owner: NOBODY, dirMode: 0o755 });
    expect(checkTrusted(theirs.file, { what: "plugin" }, ctx)).toMatchObject({ ok: false, error: { message: `plugin ${theirs.file}: it is owned by uid ${NOBODY}, not by root (you)` } });
  });

  test("without a context (no uids on this platform) nothing is refused", () => {
    const { file } = layout({ mode: 0o666, dirMode: 0o777 });
    expect(outcome(checkTrusted(file, { what: "plugin" }, null))).toBe("ok");
  });
});
