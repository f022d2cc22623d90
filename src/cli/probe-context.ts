// The probe's view of a running scenario: where its forwards listen (by the plan's names), and a
// way to connect to one of them — through the tunnel, exactly as a user's program would.

import net from "node:net";
import type { BoundForward as EngineBound, Engine } from "../engine/engine.ts";
import { isUnix, reachableHost } from "../vocab/endpoint.ts";
import type { BoundForward, ProbeContext } from "../plugin/types.ts";

export function probeContext(engine: Pick<Engine, "link">, bound: EngineBound[], names: Map<string, string>): ProbeContext {
  const list: BoundForward[] = bound.map((b) => ({ name: names.get(b.spec.id) ?? b.spec.id, kind: b.spec.kind, bound: b.bound }));
  return {
    bound: list,
    connect: (name) =>
      new Promise((resolve, reject) => {
        const b = list.find((x) => (name === undefined ? x.kind === "local" || x.kind === "dynamic" : x.name === name));
        if (!b) return reject(new Error(`no local forward named ${name ?? "(first)"}`));
        const host = isUnix(b.bound) ? undefined : reachableHost(b.bound.host);
        const s = isUnix(b.bound) ? net.connect(b.bound.path) : net.connect(b.bound.port, host);
        s.once("connect", () => resolve(s));
        s.once("error", reject);
      }),
    dial: (target) =>
      new Promise((resolve, reject) => {
        const s = net.connect(target.port, target.host);
        s.once("connect", () => resolve(s));
        s.once("error", reject);
      }),
    openVia: async (session, target) => {
      const link = await engine.link(session);
      const ch = link.ok ? await link.value.open(target, { host: "127.0.0.1", port: 0 }) : link;
      if (!ch.ok) throw ch.error;
      return ch.value;
    },
  };
}
