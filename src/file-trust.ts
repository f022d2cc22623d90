// Whether a file that steers fwd may be believed, by OpenSSH's rules for its own files: a private key
// or password only its owner can read (sshkey_perm_ok), a config that only its owner can change
// (readconf.c's secure_permissions) — and, as safe_path in OpenSSH's misc.c does, every directory above
// it up to the home directory or '/', because whoever can write a directory can replace what is in it.
// The owner must be the user running fwd or root. Systems without POSIX owners (Windows) are not checked.
// It sits at the top of src/, beside errors.ts, because config (ssh_config, scenarios), ssh (keys,
// known_hosts), plugin loading and the CLI (password files) all read files this way.

import { closeSync, fstatSync, openSync, readFileSync, realpathSync, statSync, type Stats } from "node:fs";
import { homedir } from "node:os";
import { dirname, resolve } from "node:path";
import { FwdError, fail, ok, type Result } from "./errors.ts";

export interface TrustRule {
  /** What the file is to fwd, first in the message: "identity file", "ssh config", "plugin" … */
  what: string;
  /** It holds a secret (a private key, a password): group and others may not read it either. */
  secret?: boolean;
}

export interface TrustContext {
  uid: number;
  /** The walk up the directories stops here (after checking it), as OpenSSH's stops at pw_dir. */
  home: string;
}

/** The reason on every error that says a file is not to be trusted. */
export const UNTRUSTED = "untrusted-file";

/** The running user and home directory; null where the platform has no uids to compare. */
export function trustContext(home?: string): TrustContext | null {
  const uid = process.getuid?.();
  return uid === undefined ? null : { uid, home: home ?? (process.env.HOME || homedir()) };
}

const octal = (mode: number): string => `0${(mode & 0o7777).toString(8).padStart(3, "0")}`;

/** "group", "others" or "group and others", for the permission bits `mask` (write: 0o022, any: 0o077). */
function whom(mode: number, mask: number): string {
  const group = (mode & mask & 0o070) !== 0;
  const others = (mode & mask & 0o007) !== 0;
  return group && others ? "group and others" : group ? "group" : "others";
}

const untrusted = (message: string, hint: string): FwdError => new FwdError("E_CONFIG", message, hint, { reason: UNTRUSTED });

function ownerProblem(st: Stats, ctx: TrustContext, subject: string, path: string, what: string): FwdError | undefined {
  if (st.uid === ctx.uid || st.uid === 0) return undefined;
  return untrusted(
    `${what}: ${subject} is owned by uid ${st.uid}, not by ${ctx.uid === 0 ? "root (you)" : `you (uid ${ctx.uid}) or root`}`,
    `another user can change it: check what is in it, then \`chown ${ctx.uid} ${path}\` (or move the file somewhere only you can write)`,
  );
}

/** The file itself: owner, write bits, and read bits for a secret. */
function fileProblem(st: Stats, path: string, rule: TrustRule, ctx: TrustContext): FwdError | undefined {
  const what = `${rule.what} ${path}`;
  // A character device of root's (/dev/null, a common UserKnownHostsFile or -F) stores nothing a user could plant.
  if (st.isCharacterDevice() && st.uid === 0) return undefined;
  if (!st.isFile()) return new FwdError("E_CONFIG", `${what}: not a regular file`, "name a file", { reason: "not-a-file" });
  const owner = ownerProblem(st, ctx, "it", path, what);
  if (owner) return owner;
  if (rule.secret && (st.mode & 0o077) !== 0)
    return untrusted(`${what}: permissions ${octal(st.mode)} are too open: ${whom(st.mode, 0o077)} can read it`, `\`chmod 600 ${path}\`: it must be accessible by you alone`);
  if ((st.mode & 0o022) !== 0)
    return untrusted(`${what}: permissions ${octal(st.mode)} let ${whom(st.mode, 0o022)} change it`, `\`chmod go-w ${path}\``);
  return undefined;
}

/**
 * A directory on the way up. A sticky one (/tmp: mode 1777) is accepted whatever its write bits: there
 * only an entry's owner may rename or remove it, and the entry below it is already checked to be yours.
 */
function dirProblem(st: Stats, dir: string, self: boolean, rule: TrustRule, path: string, ctx: TrustContext): FwdError | undefined {
  const what = `${rule.what} ${path}`;
  const subject = self ? "it" : `directory ${dir}`;
  const owner = ownerProblem(st, ctx, subject, dir, what);
  if (owner) return owner;
  if ((st.mode & 0o022) !== 0 && (st.mode & 0o1000) === 0)
    return untrusted(`${what}: ${subject} is writable by ${whom(st.mode, 0o022)} (mode ${octal(st.mode)})`, `\`chmod go-w ${dir}\``);
  return undefined;
}

const realOr = (path: string): string => {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
};

/**
 * Every directory above `path` — along the path as written and along its real path, which differ where
 * a symlink is on the way — up to the home directory (included) or '/'. `self` checks `path` too.
 */
function walkUp(path: string, rule: TrustRule, ctx: TrustContext, self: boolean): FwdError | undefined {
  const homes = new Set([resolve(ctx.home), realOr(ctx.home)]);
  const seen = new Set<string>();
  const absolute = resolve(path);
  const starts = new Set([absolute, realOr(absolute)]);
  for (const start of starts) {
    for (let dir = self ? start : dirname(start); !seen.has(dir); dir = dirname(dir)) {
      seen.add(dir);
      let st: Stats;
      try {
        st = statSync(dir);
      } catch (e) {
        return new FwdError("E_CONFIG", `${rule.what} ${path}: cannot check ${dir}: ${(e as Error).message}`, undefined, { reason: (e as NodeJS.ErrnoException).code ?? "failed" });
      }
      const bad = dirProblem(st, dir, self && starts.has(dir), rule, path, ctx);
      if (bad) return bad;
      if (homes.has(dir) || dir === dirname(dir)) break;
    }
  }
  return undefined;
}

/**
 * Opens, checks and reads a file in one go: the checks are made on the open file (fstat), so what is
 * read is what was checked. A failure to open is an error whose reason is the errno code ("ENOENT").
 */
export function readTrusted(path: string, rule: TrustRule, ctx: TrustContext | null = trustContext()): Result<Buffer> {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    return fail(new FwdError("E_CONFIG", `${rule.what} ${path}: ${err.code === "ENOENT" ? "no such file" : err.message}`, undefined, { cause: e, reason: err.code ?? "failed" }));
  }
  try {
    if (ctx) {
      const bad = fileProblem(fstatSync(fd), path, rule, ctx) ?? walkUp(path, rule, ctx, false);
      if (bad) return fail(bad);
    }
    return ok(readFileSync(fd));
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    return fail(new FwdError("E_CONFIG", `${rule.what} ${path}: ${err.message}`, undefined, { cause: e, reason: err.code ?? "failed" }));
  } finally {
    closeSync(fd);
  }
}

/**
 * Checks a file or a directory by its path, for what fwd does not read itself (a plugin it imports, a
 * folder it lists). Safe against a swap in between because the directories above are checked too.
 */
export function checkTrusted(path: string, rule: TrustRule, ctx: TrustContext | null = trustContext()): Result<void> {
  if (!ctx) return ok(undefined);
  let st: Stats;
  try {
    st = statSync(path);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    return fail(new FwdError("E_CONFIG", `${rule.what} ${path}: ${err.code === "ENOENT" ? "no such file" : err.message}`, undefined, { cause: e, reason: err.code ?? "failed" }));
  }
  const bad = st.isDirectory() ? walkUp(path, rule, ctx, true) : (fileProblem(st, path, rule, ctx) ?? walkUp(path, rule, ctx, false));
  return bad ? fail(bad) : ok(undefined);
}
