// Connects a route: the first hop over TCP, each next one through a channel opened on the hop
// before it (what ssh -J does), with errors that say which hop failed and why. The result is one
// Link for the last hop; closing it, or losing any hop, closes them all.

import type { Duplex } from "node:stream";
import type { Incoming, Link } from "../engine/link.ts";
import { FwdError, fail, ok, type Result } from "../errors.ts";
import { connectSsh, type SshDeps, type SshTarget } from "./connect.ts";

export async function connectRoute(hops: SshTarget[], deps: SshDeps, signal?: AbortSignal): Promise<Result<Link>> {
  const links: Link[] = [];
  // Innermost first, so each hop's goodbye still has the hops it travels through.
  const closeAll = () => {
    for (const l of [...links].reverse()) l.close();
  };
  for (const [i, t] of hops.entries()) {
    let sock: Duplex | undefined;
    const prev = links[i - 1];
    if (prev) {
      const ch = await prev.open({ host: t.host, port: t.port }, { host: "127.0.0.1", port: 0 });
      if (!ch.ok) {
        closeAll();
        const e = ch.error;
        const detail = e.message.split(`: open ${t.host}:${t.port}: `)[1] ?? e.message;
        return fail(new FwdError("E_CONNECT", `${t.label}: through jump host ${hops[i - 1]!.label}: ${detail}`, e.hint, { cause: e, ...(e.reason ? { reason: e.reason } : {}) }));
      }
      sock = ch.value;
    }
    const r = await connectSsh(t, deps, signal, sock);
    if (!r.ok) {
      closeAll();
      return r;
    }
    links.push(r.value);
  }
  const last = links.at(-1)!;
  if (links.length === 1) return ok(last);
  // The last hop rides on the others: when it ends (or they do, which ends it), close everything.
  void last.ended.then(closeAll);
  return ok({
    ended: last.ended,
    get rttMs() {
      return last.rttMs;
    },
    get algorithms() {
      return last.algorithms;
    },
    open: (target, origin) => last.open(target, origin),
    listen: (bind) => last.listen(bind),
    ...(last.exec ? { exec: last.exec.bind(last) } : {}),
    onIncoming: (fn: (c: Incoming) => void) => last.onIncoming(fn),
    close: closeAll,
  });
}

/** `user@b:22 via user@a` — what logs and the status page call a session on this route. */
export const routeLabel = (hops: SshTarget[]): string =>
  hops.length > 1 ? `${hops.at(-1)!.label} via ${hops.slice(0, -1).map((h) => h.label).join(", ")}` : hops[0]!.label;
