// Loads a plugin file a user wrote (TypeScript, from source or inside the standalone binary). Its
// default export is a plugin, or a function that receives fwd's API and returns one — the form that
// needs no import, so it runs from any directory. A broken file is an error naming it, never a crash.

import { resolve } from "node:path";
import * as v from "valibot";
import { checkTrusted } from "../file-trust.ts";
import { FwdError, fail, ok, type Result } from "../errors.ts";
import { deadlineMs, LOAD_DEADLINE_MS, seconds, withinDeadline } from "./deadline.ts";
import type { Plugin } from "./types.ts";

const PluginShape = v.object({
  name: v.pipe(v.string(), v.regex(/^[a-z][a-z0-9-]*$/, "Expected a kebab-case name (a-z, 0-9, -)")),
  summary: v.string(),
  options: v.custom<Plugin["options"]>((x) => typeof x === "object" && x !== null && (x as { type?: unknown }).type === "object", "Expected a valibot v.object(...) schema"),
  plan: v.custom<Plugin["plan"]>((x) => typeof x === "function", "Expected a function"),
  probe: v.optional(v.custom<NonNullable<Plugin["probe"]>>((x) => typeof x === "function", "Expected a function")),
  usage: v.optional(v.custom<NonNullable<Plugin["usage"]>>((x) => typeof x === "function", "Expected a function")),
});

/** `api` is what a default-exported function receives: src/index.ts's fwdApi, which the CLI hands in. */
export async function loadPluginFile(file: string, api: object): Promise<Result<Plugin>> {
  const path = resolve(file);
  const bad = (what: string, hint: string, cause?: unknown) => fail<Plugin>(new FwdError("E_CONFIG", `plugin ${path}: ${what}`, hint, cause === undefined ? undefined : { cause }));
  // A plugin runs as the user who starts fwd: one that another user could have written or replaced
  // (the file, or any directory above it) is not run at all.
  const trusted = checkTrusted(path, { what: "plugin" });
  if (!trusted.ok) return trusted;
  let mod: { default?: unknown };
  try {
    const ms = deadlineMs(LOAD_DEADLINE_MS);
    const loaded = await withinDeadline(import(path) as Promise<{ default?: unknown }>, ms);
    if (!loaded.done) return bad(`loading timed out after ${seconds(ms)}`, "its top level waits for something that never comes (a top-level await?); move that work into plan() or probe()");
    mod = loaded.value;
  } catch (e) {
    return bad(`cannot load: ${(e as Error).message.split("\n")[0]}`, "check the file for syntax errors; `fwd plugin new NAME` writes a working starting point", e);
  }
  let exported = mod.default;
  if (typeof exported === "function") {
    try {
      exported = (exported as (api: object) => unknown)(api);
    } catch (e) {
      return bad(`its default export threw: ${(e as Error).message}`, "the function receives fwd's API and must return definePlugin({...})", e);
    }
  }
  if (exported === undefined) return bad("has no default export", "export default definePlugin({ name, summary, options, plan })");
  const r = v.safeParse(PluginShape, exported);
  if (!r.success) return bad(`is not a plugin:\n${v.summarize(r.issues)}`, "a plugin has name, summary, options (v.object), plan, and optionally probe and usage");
  return ok(exported as Plugin);
}
