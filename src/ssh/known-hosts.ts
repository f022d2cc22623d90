// OpenSSH known_hosts: parse the files, match hosts (patterns, negation, ports, hashed names), decide
// what a server's host key means for a host, and write new entries — all as OpenSSH's hostfile.c does.

import { createHash, createHmac, randomBytes } from "node:crypto";
import { mkdir, open } from "node:fs/promises";
import { dirname, join } from "node:path";
import { readTrusted, UNTRUSTED } from "../file-trust.ts";
import { FwdError, fail, ok, type Result } from "../errors.ts";

export type KnownHostMarker = "cert-authority" | "revoked";

/** One usable line of a known_hosts file; `line` is 1-based, for messages that send users to it. */
export interface KnownHostEntry {
  readonly file: string;
  readonly line: number;
  readonly marker?: KnownHostMarker;
  /** The host field as written: comma-separated patterns, or one hashed `|1|salt|hash` name. */
  readonly patterns: string;
  readonly keyType: string;
  readonly keyBase64: string;
}

export type HostKeyVerdict =
  | { kind: "match"; entry: KnownHostEntry }
  /** Same host, same key type, different key: the "REMOTE HOST IDENTIFICATION HAS CHANGED" case. */
  | { kind: "changed"; stored: KnownHostEntry }
  | { kind: "revoked"; entry: KnownHostEntry }
  /** Nothing stored for this key type; `otherTypes` lists the types that are stored for the host. */
  | { kind: "unknown"; otherTypes: string[] };

const MARKERS = new Map<string, KnownHostMarker>([
  ["@cert-authority", "cert-authority"],
  ["@revoked", "revoked"],
]);
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const SHA1_BYTES = 20;

/** Every well-formed entry of a known_hosts text; blank, comment and malformed lines are skipped. */
export function parseKnownHosts(text: string, file: string): KnownHostEntry[] {
  const entries: KnownHostEntry[] = [];
  text.split("\n").forEach((raw, i) => {
    const entry = parseLine(raw, file, i + 1);
    if (entry) entries.push(entry);
  });
  return entries;
}

function parseLine(raw: string, file: string, line: number): KnownHostEntry | undefined {
  const fields = raw.trim().split(/[ \t]+/);
  const first = fields[0] ?? "";
  if (first === "" || first.startsWith("#")) return undefined;
  let marker: KnownHostMarker | undefined;
  if (first.startsWith("@")) {
    // OpenSSH drops a line with an unknown marker rather than reading it as a plain host key.
    marker = MARKERS.get(first);
    if (!marker) return undefined;
    fields.shift();
  }
  const [patterns, keyType, keyBase64] = fields;
  if (!patterns || !keyType || !keyBase64) return undefined;
  // A blob whose own type disagrees with the line's is corrupt, as sshkey_read judges it.
  const blob = decodeBase64(keyBase64);
  if (!blob || keyTypeOf(blob) !== keyType) return undefined;
  return { file, line, ...(marker ? { marker } : {}), patterns, keyType, keyBase64 };
}

/** Whether the entry's host field names `host` on `port` (a negated pattern that matches wins). */
export function entryMatchesHost(entry: KnownHostEntry, host: string, port: number): boolean {
  const name = lookupName(host, port);
  if (entry.patterns.startsWith("|")) return hashedNameMatches(entry.patterns, name);
  let positive = false;
  for (const raw of entry.patterns.split(",")) {
    const negated = raw.startsWith("!");
    if (!wildcardMatch((negated ? raw.slice(1) : raw).toLowerCase(), name)) continue;
    if (negated) return false;
    positive = true;
  }
  return positive;
}

/** What the known entries say about `keyBlob` (wire-format public key) offered by host:port. */
export function checkHostKey(
  entries: KnownHostEntry[],
  host: string,
  port: number,
  keyBlob: Buffer,
): HostKeyVerdict {
  const forHost = entries.filter((e) => entryMatchesHost(e, host, port));
  // Revocation is checked first so that a revoked key stays refused even where it is also listed.
  const revoked = forHost.find((e) => e.marker === "revoked" && sameKey(e, keyBlob));
  if (revoked) return { kind: "revoked", entry: revoked };
  // @cert-authority lines vouch for certificates, not for a plain key.
  const plain = forHost.filter((e) => e.marker === undefined);
  const match = plain.find((e) => sameKey(e, keyBlob));
  if (match) return { kind: "match", entry: match };
  const type = keyTypeOf(keyBlob);
  const stored = plain.find((e) => e.keyType === type);
  if (stored) return { kind: "changed", stored };
  return { kind: "unknown", otherTypes: uniqueTypes(plain) };
}

/**
 * Key types stored for host:port, in file order, so HostKeyAlgorithms can list them first as OpenSSH
 * does: the server then offers a key we can check instead of one we have never seen.
 */
export function knownTypesFor(entries: KnownHostEntry[], host: string, port: number): string[] {
  return uniqueTypes(entries.filter((e) => e.marker === undefined && entryMatchesHost(e, host, port)));
}

/** The key type named inside a wire-format public key blob (its first SSH string), if well formed. */
export function keyTypeOf(keyBlob: Buffer): string | undefined {
  if (keyBlob.length < 4) return undefined;
  const length = keyBlob.readUInt32BE(0);
  if (length === 0 || length > 64 || 4 + length > keyBlob.length) return undefined;
  const name = keyBlob.toString("latin1", 4, 4 + length);
  return /^[\x21-\x7e]+$/.test(name) ? name : undefined;
}

/** `SHA256:<base64 without padding>`, byte for byte what `ssh-keygen -lf` prints. */
export function fingerprintSha256(keyBlob: Buffer): string {
  return `SHA256:${createHash("sha256").update(keyBlob).digest("base64").replace(/=+$/, "")}`;
}

/**
 * A known_hosts line for host:port (no trailing newline); `hash` writes a `|1|salt|hash` name. The blob
 * comes from ssh2, which has already parsed it, so a malformed one is a bug and throws.
 */
export function knownHostsLine(host: string, port: number, keyBlob: Buffer, opts: { hash?: boolean } = {}): string {
  const type = keyTypeOf(keyBlob);
  if (!type) throw new Error(`knownHostsLine: not a wire-format public key (${keyBlob.length} bytes)`);
  const name = lookupName(host, port);
  const field = opts.hash ? hashedName(name, randomBytes(SHA1_BYTES)) : name;
  return `${field} ${type} ${keyBlob.toString("base64")}`;
}

/**
 * Entries of every file in order; a missing or unreadable file contributes nothing, as in OpenSSH. A file
 * that someone other than you or root can change is an error: whoever writes it decides which server
 * keys are believed, so reading it would let that user stand in for any server.
 */
export async function loadKnownHosts(files: string[]): Promise<Result<KnownHostEntry[]>> {
  const entries: KnownHostEntry[] = [];
  for (const file of files) {
    const read = readTrusted(file, { what: "known_hosts" });
    if (read.ok) entries.push(...parseKnownHosts(read.value.toString("utf8"), file));
    else if (read.error.reason === UNTRUSTED) return fail(read.error);
  }
  return ok(entries);
}

/** Appends one line, creating the directory (0700) and file (0600) first if they are missing. */
export async function appendKnownHost(file: string, line: string): Promise<Result<void>> {
  try {
    await mkdir(dirname(file), { recursive: true, mode: 0o700 });
    const handle = await open(file, "a+", 0o600);
    try {
      // A file whose last line lacks its newline would otherwise swallow ours into that line.
      const { size } = await handle.stat();
      const last = Buffer.alloc(1);
      if (size > 0) await handle.read(last, 0, 1, size - 1);
      const separator = size > 0 && last[0] !== 0x0a ? "\n" : "";
      await handle.write(`${separator}${line.replace(/\n+$/, "")}\n`);
    } finally {
      await handle.close();
    }
    return ok(undefined);
  } catch (cause) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    return fail(
      new FwdError("E_HOSTKEY", `known_hosts: cannot add to ${file}: ${reason}`, `check the permissions of ${dirname(file)}`, { cause }),
    );
  }
}

/** OpenSSH's default UserKnownHostsFile and GlobalKnownHostsFile lists. */
export function defaultKnownHostsFiles(home: string): { user: string[]; global: string[] } {
  return {
    user: [join(home, ".ssh", "known_hosts"), join(home, ".ssh", "known_hosts2")],
    global: ["/etc/ssh/ssh_known_hosts", "/etc/ssh/ssh_known_hosts2"],
  };
}

// OpenSSH looks a host up as `host` on the default port (0 means "default" there too), otherwise as
// `[host]:port`, always in lower case: patterns and hashes are both taken over this one string.
function lookupName(host: string, port: number): string {
  return (port === 22 || port === 0 ? host : `[${host}]:${port}`).toLowerCase();
}

function hashedName(name: string, salt: Buffer): string {
  const hash = createHmac("sha1", salt).update(name).digest();
  return `|1|${salt.toString("base64")}|${hash.toString("base64")}`;
}

// A hashed field holds exactly one name, never a list, so it is matched whole or not at all.
function hashedNameMatches(field: string, name: string): boolean {
  const [empty, magic, salt64, hash64, ...rest] = field.split("|");
  if (empty !== "" || magic !== "1" || !salt64 || !hash64 || rest.length > 0) return false;
  const salt = decodeBase64(salt64);
  const hash = decodeBase64(hash64);
  if (!salt || !hash || salt.length !== SHA1_BYTES) return false;
  return createHmac("sha1", salt).update(name).digest().equals(hash);
}

// `*` is any run of characters and `?` any one, over the whole name (match.c's match_pattern).
function wildcardMatch(pattern: string, name: string): boolean {
  let p = 0;
  let n = 0;
  let star = -1;
  let resume = 0;
  while (n < name.length) {
    if (p < pattern.length && (pattern[p] === "?" || pattern[p] === name[n])) {
      p++;
      n++;
    } else if (pattern[p] === "*") {
      star = p++;
      resume = n;
    } else if (star >= 0) {
      p = star + 1;
      n = ++resume;
    } else {
      return false;
    }
  }
  while (pattern[p] === "*") p++;
  return p === pattern.length;
}

// Buffer.from(…, "base64") accepts anything; a stray character must make the line malformed instead.
function decodeBase64(text: string): Buffer | undefined {
  return BASE64.test(text) ? Buffer.from(text, "base64") : undefined;
}

function sameKey(entry: KnownHostEntry, keyBlob: Buffer): boolean {
  return decodeBase64(entry.keyBase64)?.equals(keyBlob) ?? false;
}

function uniqueTypes(entries: KnownHostEntry[]): string[] {
  return [...new Set(entries.map((e) => e.keyType))];
}
