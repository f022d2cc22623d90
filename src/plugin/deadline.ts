// Deadlines on a plugin's own code: loading its file and running its probe. A plugin is a user's
// code; one that never returns must not hang `fwd run`, `fwd scenarios` or `fwd check` silently.

import type { ProbeContext, ProbeResult } from "./types.ts";

/** Loading a user's plugin file (its import, top-level awaits included). */
export const LOAD_DEADLINE_MS = 10_000;
/** One probe, from its first connection to its verdict (the shared probes read for 5 s at most). */
export const PROBE_DEADLINE_MS = 30_000;

/** FWD_PLUGIN_DEADLINE_MS lowers (never raises) both, e.g. for tests of plugins that hang. */
export function deadlineMs(normal: number): number {
  const raw = process.env.FWD_PLUGIN_DEADLINE_MS;
  const n = raw !== undefined && /^\d+$/.test(raw) ? Number(raw) : NaN;
  return n > 0 && n < normal ? n : normal;
}

/** `work`'s value, or `undefined` when it has not settled within `ms` (it is left to run on, unheard). */
export async function withinDeadline<T>(work: Promise<T>, ms: number): Promise<{ done: true; value: T } | { done: false }> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<{ done: false }>((r) => {
    timer = setTimeout(() => r({ done: false }), ms);
  });
  try {
    return await Promise.race([work.then((value) => ({ done: true as const, value })), late]);
  } finally {
    clearTimeout(timer);
  }
}

export const seconds = (ms: number) => `${Math.round(ms / 100) / 10}s`;

/** Runs `plugin`'s probe with its deadline; a throw is a failed probe, a hang a timed-out one. */
export async function runProbe<O>(
  plugin: { name: string; probe?: (o: O, ctx: ProbeContext) => Promise<ProbeResult> },
  options: O,
  ctx: ProbeContext,
): Promise<ProbeResult & { timedOut?: true }> {
  const ms = deadlineMs(PROBE_DEADLINE_MS);
  const work = Promise.resolve()
    .then(() => plugin.probe!(options, ctx))
    .catch((e: Error) => ({ ok: false, detail: e?.message ?? String(e) }));
  const r = await withinDeadline(work, ms);
  return r.done ? r.value : { ok: false, detail: `timed out after ${seconds(ms)} (plugin ${plugin.name})`, timedOut: true };
}
