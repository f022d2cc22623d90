// Live forwards on a running fwd, as `ssh -O forward` / `-O cancel` on a control master: the status
// API's side. A request names a forward as on the command line (-L/-R/-D SPEC); it is checked by the
// same rules as at start (the open-proxy rule included) and added to the engine beside the others.

import * as v from "valibot";
import { formatEndpoint } from "../vocab/endpoint.ts";
import { validateForward } from "../engine/kinds.ts";
import { cidrProblem } from "../vocab/cidr.ts";
import type { Engine } from "../engine/engine.ts";
import type { ForwardSpec } from "../vocab/forward.ts";
import { parseDynamicSpec, parseLocalSpec, parseRemoteSpec } from "../config/forward-spec.ts";
import { FwdError, fail, ok, type Result } from "../errors.ts";
import type { ControlResult, StatusControl } from "../status/app.ts";

const AddBody = v.strictObject({
  kind: v.picklist(["L", "R", "D"]),
  spec: v.pipe(v.string(), v.minLength(1), v.maxLength(1024)),
  via: v.optional(v.pipe(v.string(), v.minLength(1), v.maxLength(256))),
  allow: v.optional(v.pipe(v.array(v.pipe(v.string(), v.maxLength(64))), v.maxLength(64))),
});
const CancelBody = v.strictObject({ forward: v.pipe(v.string(), v.minLength(1), v.maxLength(1100)) });

export interface LiveOptions {
  /**
   * The engine session a forward rides on, from what the request named (a session, or in `fwd up` a
   * scenario); undefined when nothing was named. The default: the only session there is.
   */
  via?: (name: string | undefined) => Result<string>;
  reload?: StatusControl["reload"];
}

export function liveControl(engine: Engine, o: LiveOptions = {}): StatusControl {
  const via = o.via ?? ((name) => defaultVia(engine, name));
  return {
    async addForward(body) {
      const b = v.safeParse(AddBody, body);
      if (!b.success) return refused(new FwdError("E_CONFIG", `forward add: ${v.summarize(b.issues)}`, 'send { "kind": "L" | "R" | "D", "spec": "…", "via"?: "…", "allow"?: ["CIDR"] }'), 400);
      const session = via(b.output.via);
      if (!session.ok) return refused(session.error, 400);
      const spec = liveSpec(b.output.kind, b.output.spec, session.value, b.output.allow ?? []);
      if (!spec.ok) return refused(spec.error, 400);
      // The engine's own check (the open-proxy rule), asked first so a bad spec is a 400, not a conflict.
      const bad = validateForward(spec.value);
      if (bad) return refused(bad, 400);
      const r = await engine.addForward(spec.value);
      if (!r.ok) return refused(r.error, 409);
      return { ok: true, value: { id: spec.value.id, session: session.value, ...(r.value ? { bound: formatEndpoint(r.value) } : {}) } };
    },
    cancelForward(body) {
      const b = v.safeParse(CancelBody, body);
      if (!b.success) return refused(new FwdError("E_CONFIG", `forward cancel: ${v.summarize(b.issues)}`, 'send { "forward": "-L SPEC" | "ID" }'), 400);
      const ids = new Set(engine.snapshot().forwards.map((f) => f.spec.id));
      const want = b.output.forward.trim();
      // A spec without its letter matches any kind that has it: `8080:db:5432` is `-L 8080:db:5432`.
      const hits = ids.has(want) ? [want] : ["-L", "-R", "-D"].map((k) => `${k} ${want.replace(/^-[LRD]\s*/, "")}`).filter((id) => ids.has(id));
      if (hits.length !== 1)
        return refused(new FwdError("E_CONFIG", `forward cancel: ${hits.length ? `'${want}' names more than one forward` : `no forward '${want}'`}`, `forwards: ${[...ids].join(", ") || "none"}`), 404);
      engine.removeForward(hits[0]!);
      return { ok: true, value: { id: hits[0]! } };
    },
    ...(o.reload ? { reload: o.reload } : {}),
  };
}

/** A forward from its command-line form, refused where its parser refuses it. */
export function liveSpec(kind: "L" | "R" | "D", text: string, via: string, allow: string[]): Result<ForwardSpec> {
  const id = `-${kind} ${text}`;
  for (const c of allow) {
    const problem = cidrProblem(c);
    if (problem) return fail(new FwdError("E_CONFIG", `${id}: allow '${c}': ${problem}`, "e.g. --allow 192.168.1.0/24"));
  }
  if (kind === "L") {
    const f = parseLocalSpec(text);
    return f.ok ? ok({ kind: "local", id, via, bind: f.value.bind, target: f.value.target }) : f;
  }
  if (kind === "R") {
    const f = parseRemoteSpec(text);
    if (!f.ok) return f;
    // A live -R has no SOCKS password (that is a file read at start): the engine keeps reverse SOCKS on loopback.
    return ok({ kind: "remote", id, via, bind: f.value.bind, ...(f.value.target ? { target: f.value.target } : { socks: { allow: [] } }) });
  }
  const f = parseDynamicSpec(text);
  if (!f.ok) return f;
  return ok({ kind: "dynamic", id, via, bind: f.value.bind, socks: { allow } });
}

function defaultVia(engine: Engine, name: string | undefined): Result<string> {
  const names = engine.sessionNames();
  if (name !== undefined) return names.includes(name) ? ok(name) : fail(new FwdError("E_CONFIG", `forward add: no session '${name}'`, `sessions: ${names.join(", ")}`));
  if (names.length === 1) return ok(names[0]!);
  return fail(new FwdError("E_CONFIG", `forward add: this fwd holds ${names.length} sessions: say which with --via`, `sessions: ${names.join(", ") || "none"}`));
}

function refused(e: FwdError, status: 400 | 404 | 409): ControlResult {
  return { ok: false, status, error: e.message, ...(e.hint ? { hint: e.hint } : {}) };
}
