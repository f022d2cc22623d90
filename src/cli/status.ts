// `fwd status [URL]`: the status page's summary in the terminal — for the fwd started last on this
// machine by default (its URL and token file are recorded when the page starts). The token comes from
// the URL (`?token=…`, as printed), else from the token file fwd keeps for that port.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { formatEndpoint, type Endpoint } from "../vocab/endpoint.ts";
import { FwdError } from "../errors.ts";
import { redact } from "../redact.ts";
import { configDir } from "../scenario/paths.ts";
import type { StatusSnapshot } from "../status/store.ts";
import { commandNamed, parseCommandFlags } from "./commands.ts";
import { EXIT } from "./exit-codes.ts";
import { loggerFor } from "./scenario-setup.ts";
import { report } from "./serve.ts";

export async function statusCommand(argv: string[]): Promise<number> {
  const log = loggerFor(argv);
  const parsed = parseCommandFlags(commandNamed("status")!, argv);
  if (!parsed.ok) return report(log, new FwdError("E_CONFIG", parsed.message, parsed.hint));
  const last = readLast();
  const given = parsed.value.positionals[0] ?? last?.url;
  if (!given) return report(log, new FwdError("E_CONFIG", "no status page known", "start fwd with --status [address:]port, or give its URL: fwd status http://127.0.0.1:PORT/"));
  let page: URL;
  try {
    page = new URL(given);
  } catch {
    return report(log, new FwdError("E_CONFIG", `fwd status: '${given}' is not a URL`, "e.g. fwd status http://127.0.0.1:PORT/"));
  }
  const token = page.searchParams.get("token") ?? tokenFor(page, last);
  page.search = "";
  const url = page.href;
  let s: StatusSnapshot;
  try {
    const res = await fetch(new URL("/api/v1/status", url), { headers: token ? { authorization: `Bearer ${token}` } : {}, signal: AbortSignal.timeout(5_000) });
    if (!res.ok) return report(log, new FwdError("E_CONNECT", `${url}: HTTP ${res.status}`, res.status === 401 ? "this page needs its token: run fwd status as the user that started it, or give the URL it printed (…?token=…)" : "is it a fwd status page?"));
    s = (await res.json()) as StatusSnapshot;
  } catch (e) {
    return report(log, new FwdError("E_CONNECT", `${url}: ${(e as Error).message}`, "is that fwd still running? its status URL is printed at start"));
  }
  if (parsed.value.flags["--json"]) {
    process.stdout.write(JSON.stringify(redact(s)) + "\n");
    return EXIT.ok;
  }
  const ep = (e: Endpoint | undefined) => (e ? formatEndpoint(e) : "SOCKS");
  const lines = [`fwd ${s.version}, up ${Math.round((s.now - s.startedAt) / 1000)}s${s.scenario ? `, scenario ${s.scenario.name} (${s.scenario.plugin})` : ""}`];
  for (const x of s.sessions)
    lines.push(`session ${x.name}: ${x.host} ${x.state}${x.rttMs !== undefined ? `, rtt ${x.rttMs} ms` : ""}${x.compression && x.compression !== "none" ? `, compression ${x.compression}` : ""}${x.reconnects ? `, ${x.reconnects} reconnects` : ""}${x.lastError && x.state !== "up" ? ` (${x.lastError})` : ""}`);
  for (const f of s.forwards) {
    const fails = Object.entries(f.stats.failures).map(([r, n]) => `${r} ${n}`).join(", ");
    // A forward with no address of its own here (X11) takes its connections on the session.
    const at = f.bound ?? ("bind" in f.spec ? f.spec.bind : undefined);
    lines.push(`${f.spec.kind.padEnd(7)} ${at ? ep(at) : "(session)"} -> ${"target" in f.spec ? ep(f.spec.target) : "SOCKS"}: ${f.stats.open} open, ${f.stats.total} total, ${f.stats.bytesUp} B up, ${f.stats.bytesDown} B down${fails ? `, failures: ${fails}` : ""}`);
  }
  for (const x of s.scenarios ?? [])
    lines.push(`scenario ${x.name}: ${x.state}${x.plugin ? ` (${x.plugin})` : ""}, ${x.forwards.length} forward${x.forwards.length === 1 ? "" : "s"}${x.probe ? `, probe ${x.probe.ok ? "ok" : "FAILED"}: ${x.probe.detail}` : ""}${x.error ? ` — ${x.error.replace(/\n\s*/g, " ")}` : ""} [${x.file}]`);
  if (s.scenario?.probe) lines.push(`probe: ${s.scenario.probe.ok ? "ok" : "FAILED"}: ${s.scenario.probe.detail}`);
  process.stdout.write(lines.join("\n") + "\n");
  return s.sessions.every((x) => x.state === "up") && (s.scenarios ?? []).every((x) => x.state === "running") ? EXIT.ok : EXIT.lost;
}

export function readLast(): { url: string; tokenFile: string } | undefined {
  try {
    return JSON.parse(readFileSync(join(configDir(), "status", "last.json"), "utf8"));
  } catch {
    return undefined;
  }
}

/**
 * The token file of the page last started (for exactly its origin), else the one fwd keeps for that
 * port — but only for 127.0.0.1, where fwd's page holds the port itself. The token files do not say
 * which address their page is on, and `localhost:P` or `[::1]:P` may be another user's listener.
 */
export function tokenFor(page: URL, last: { url: string; tokenFile: string } | undefined): string | undefined {
  if (last && new URL(last.url).origin === page.origin) return readToken(last.tokenFile);
  return page.port && page.hostname === "127.0.0.1" ? readToken(join(configDir(), "status", `${page.port}.token`)) : undefined;
}

function readToken(file: string): string | undefined {
  try {
    return readFileSync(file, "utf8").trim();
  } catch {
    return undefined;
  }
}
