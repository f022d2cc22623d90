// `fwd forward add -L|-R|-D SPEC`, `fwd forward cancel SPEC|ID` and `fwd reload`: change a running
// fwd through its status API with its token — the fwd `fwd status` finds (the page started last),
// or the one `--to URL` names.

import { FwdError, fail, ok, type Result } from "../errors.ts";
import { EXIT } from "./exit-codes.ts";
import { loggerFor } from "./scenario-setup.ts";
import { report } from "./serve.ts";
import { readLast, tokenFor } from "./status.ts";

const FORWARD_USAGE = "usage: fwd forward add -L|-R|-D SPEC [--via SCENARIO|SESSION] [--allow CIDR …] [--to URL] | fwd forward cancel SPEC|ID [--to URL]";

/** How long a change may take: a -R waits for the server's answer. */
const REQUEST_TIMEOUT_MS = 15_000;

export async function forwardCommand(argv: string[]): Promise<number> {
  const log = loggerFor(argv);
  const a = readFlags(argv, ["to", "via", "allow"]);
  if (!a.ok) return report(log, a.error);
  const [verb, ...rest] = a.value.positional;
  let path: string;
  let body: Record<string, unknown>;
  if (verb === "add") {
    const m = /^-([LRD])(.*)$/.exec(rest[0] ?? "");
    const spec = m?.[2] || rest[1];
    if (!m || !spec || rest.length > (m[2] ? 1 : 2)) return report(log, new FwdError("E_CONFIG", "fwd forward add: expected -L, -R or -D and one spec", FORWARD_USAGE));
    path = "/api/v1/forwards";
    body = { kind: m[1], spec, ...(a.value.via ? { via: a.value.via.at(-1) } : {}), ...(a.value.allow ? { allow: a.value.allow } : {}) };
  } else if (verb === "cancel") {
    if (rest.length === 0 || rest.length > 2) return report(log, new FwdError("E_CONFIG", "fwd forward cancel: expected one SPEC or ID", FORWARD_USAGE));
    path = "/api/v1/forwards/cancel";
    body = { forward: rest.join(" ") };
  } else return report(log, new FwdError("E_CONFIG", `fwd forward: ${verb === undefined ? "add or cancel?" : `unknown '${verb}'`}`, FORWARD_USAGE));
  const r = await post(a.value.to?.at(-1), path, body);
  if (!r.ok) return report(log, r.error);
  const v = r.value;
  log.print(verb === "add" ? `added ${v.id}${v.bound ? `: listening ${v.bound}` : " (requested when its session connects)"}` : `cancelled ${v.id}`, v);
  return EXIT.ok;
}

export async function reloadCommand(argv: string[]): Promise<number> {
  const log = loggerFor(argv);
  const a = readFlags(argv, ["to"]);
  if (!a.ok) return report(log, a.error);
  if (a.value.positional.length) return report(log, new FwdError("E_CONFIG", `fwd reload: unexpected '${a.value.positional[0]}'`, "usage: fwd reload [--to URL]"));
  const r = await post(a.value.to?.at(-1), "/api/v1/reload", {});
  if (!r.ok) return report(log, r.error);
  const v = r.value as { started?: string[]; stopped?: string[]; restarted?: string[]; unchanged?: string[]; problems?: { file: string; error: string }[] };
  const list = (xs: string[] | undefined) => (xs?.length ? xs.join(", ") : "none");
  log.print(`reloaded: started ${list(v.started)}; stopped ${list(v.stopped)}; restarted ${list(v.restarted)}; unchanged ${list(v.unchanged)}`, v);
  for (const p of v.problems ?? []) log.log("error", p.error);
  return v.problems?.length ? EXIT.config : EXIT.ok;
}

interface Flags {
  positional: string[];
  [name: string]: string[] | undefined;
}

/** `--name value` / `--name=value` for the names given (repeatable); `-q`, `-v` and `--json` are the logger's. */
function readFlags(argv: string[], names: string[]): Result<Flags> {
  const out: Flags = { positional: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(arg);
    if (m && names.includes(m[1]!)) {
      const value = m[2] ?? argv[++i];
      if (value === undefined) return fail(new FwdError("E_CONFIG", `--${m[1]} needs a value`, FORWARD_USAGE));
      (out[m[1]!] ??= []).push(value);
    } else if (arg === "--json" || arg === "-q" || /^-v+$/.test(arg)) continue;
    else if (m) return fail(new FwdError("E_CONFIG", `unknown option ${arg}`, FORWARD_USAGE));
    else out.positional.push(arg);
  }
  return ok(out);
}

/** A POST to the running fwd's API with its token; its refusal (message and hint) as an error. */
async function post(to: string | undefined, path: string, body: unknown): Promise<Result<Record<string, string>>> {
  const last = readLast();
  const given = to ?? last?.url;
  if (!given) return fail(new FwdError("E_CONFIG", "no running fwd known", "start it with --status [address:]port, or name its page: --to http://127.0.0.1:PORT/"));
  let page: URL;
  try {
    page = new URL(given);
  } catch {
    return fail(new FwdError("E_CONFIG", `--to '${given}' is not a URL`, "e.g. --to http://127.0.0.1:PORT/"));
  }
  const token = page.searchParams.get("token") ?? tokenFor(page, last);
  page.search = "";
  try {
    const res = await fetch(new URL(path, page), {
      method: "POST",
      headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    const answer = (await res.json().catch(() => ({}))) as Record<string, string>;
    if (res.ok) return ok(answer);
    const code = res.status === 401 ? "E_AUTH" : res.status === 409 ? "E_FORWARD" : "E_CONFIG";
    return fail(new FwdError(code, answer.error ?? `${page.href}: HTTP ${res.status}`, answer.hint ?? (res.status === 401 ? "run this as the user that started fwd, or give the URL it printed (…?token=…)" : "")));
  } catch (e) {
    return fail(new FwdError("E_CONNECT", `${page.href}: ${(e as Error).message}`, "is that fwd still running? its status URL is printed at start"));
  }
}
