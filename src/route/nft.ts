// The nftables side of --route: a table of fwd's own per process (`ip fwd_<pid>`), written as one
// ruleset with `nft -f -` (atomic: all of it or none), removed when fwd stops, and found and removed at
// the next start when a killed fwd left it behind. Linux only; needs root (CAP_NET_ADMIN).

import { spawnSync } from "node:child_process";
import { FwdError, fail, ok, type Result } from "../errors.ts";

/** What to redirect, as nft will be told. Every network is an IPv4 CIDR checked by the caller. */
export interface RedirectRules {
  /** TCP to these networks from this machine goes to `port` on loopback. */
  networks: string[];
  /** Never redirected: the SSH server's own address, --exclude, loopback. */
  exclude: string[];
  port: number;
  /** DNS (UDP and TCP port 53) from this machine goes to this port instead, when given. */
  dnsPort?: number;
  /** Also traffic routed through this machine (prerouting), from these client networks only. */
  lan?: { allow: string[] };
}

const PREFIX = "fwd_";
export const tableName = (pid = process.pid): string => `${PREFIX}${pid}`;

/** The whole table as nft's input. One rule per network keeps overlapping CIDRs legal. */
export function ruleset(table: string, r: RedirectRules): string {
  const body = [
    // DNS first: a local stub resolver (systemd-resolved's 127.0.0.53) is on loopback, skipped below.
    ...(r.dnsPort ? [`    udp dport 53 redirect to :${r.dnsPort}`, `    tcp dport 53 redirect to :${r.dnsPort}`] : []),
    ...["127.0.0.0/8", ...r.exclude].map((c) => `    ip daddr ${c} return`),
    ...r.networks.map((c) => `    ip daddr ${c} ip protocol tcp redirect to :${r.port}`),
  ];
  const base = (name: string, hook: string, rules: string[]) => [`  chain ${name} {`, `    type nat hook ${hook} priority -100; policy accept;`, ...rules, "  }"];
  return [
    `table ip ${table} {`,
    ...base("output", "output", body),
    // Routed traffic only from the allowed clients: anyone else's is routed as if fwd were not there.
    ...(r.lan ? [...base("prerouting", "prerouting", r.lan.allow.map((c) => `    ip saddr ${c} goto lan`)), "  chain lan {", ...body, "  }"] : []),
    "}",
    "",
  ].join("\n");
}

/** Checks that nft is there and may change rules (lists tables), so the error comes before connecting. */
export function preflight(what: string): Result<string[]> {
  const r = nft(["list", "tables"]);
  if (!r.ok) return fail(explain(what, r.error));
  return ok(r.value.split("\n").map((l) => /^table ip (\S+)$/.exec(l.trim())?.[1]).filter((t): t is string => t !== undefined));
}

/** Removes tables of fwd processes that are gone (killed before they could remove their own). */
export function removeStale(tables: string[], log: (m: string) => void): void {
  for (const t of tables) {
    const pid = Number(t.slice(PREFIX.length));
    if (!t.startsWith(PREFIX) || !Number.isInteger(pid) || pid <= 0 || pid === process.pid || alive(pid)) continue;
    if (nft(["delete", "table", "ip", t]).ok) log(`removed table ip ${t}, left by fwd process ${pid} (no longer running)`);
  }
}

export function install(what: string, table: string, rules: RedirectRules): Result<void> {
  // A table of this pid can only be a leftover of an earlier run in this process: replace it.
  nft(["delete", "table", "ip", table]);
  const r = nft(["-f", "-"], ruleset(table, rules));
  return r.ok ? ok(undefined) : fail(explain(what, r.error));
}

/** Synchronous, so it can run from a process 'exit' handler too. */
export function remove(table: string): void {
  nft(["delete", "table", "ip", table]);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

type NftFailure = { missing: true } | { missing: false; text: string };

function nft(args: string[], input?: string): { ok: true; value: string } | { ok: false; error: NftFailure } {
  const r = spawnSync("nft", args, { encoding: "utf8", input, timeout: 10_000 });
  if (r.error && (r.error as NodeJS.ErrnoException).code === "ENOENT") return { ok: false, error: { missing: true } };
  if (r.status !== 0) return { ok: false, error: { missing: false, text: (r.stderr || r.error?.message || `exit ${r.status}`).trim() } };
  return { ok: true, value: r.stdout };
}

function explain(what: string, e: NftFailure): FwdError {
  if (e.missing) return new FwdError("E_CONFIG", `${what} needs nftables: the nft command is not installed`, "install it (Debian/Ubuntu: apt-get install nftables; Fedora: dnf install nftables), or use -D");
  if (/Operation not permitted|Permission denied/i.test(e.text))
    return new FwdError("E_CONFIG", `${what} needs root (nftables rules): run as root or use -D`, "sudo fwd --route …, or a SOCKS proxy with -D that needs no privileges");
  return new FwdError("E_CONFIG", `${what}: nft refused the rules: ${e.text.split("\n")[0]}`, "is this a Linux kernel with nftables (nf_tables, nft_redirect)?");
}
