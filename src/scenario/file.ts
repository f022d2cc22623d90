// A scenario file: which plugin, a name, its options, and how to keep it running — TOML, checked
// with valibot so a mistake names the field, what was expected and what was given.

import { parse as parseToml } from "smol-toml";
import * as v from "valibot";
import { readTrusted, UNTRUSTED } from "../config/file-trust.ts";
import { FwdError, fail, ok, type Result } from "../errors.ts";

const ScenarioSchema = v.strictObject({
  plugin: v.pipe(v.string(), v.minLength(1)),
  name: v.optional(v.pipe(v.string(), v.regex(/^[A-Za-z0-9._-]+$/, "Expected letters, digits, . _ or -"))),
  description: v.optional(v.string()),
  options: v.optional(v.record(v.string(), v.unknown()), {}),
  reconnect: v.optional(
    v.strictObject({
      enabled: v.optional(v.boolean()),
      max_retries: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0))),
    }),
    {},
  ),
});

export type ScenarioFile = v.InferOutput<typeof ScenarioSchema> & { source: string };

export function parseScenario(text: string, source: string): Result<ScenarioFile> {
  let data: unknown;
  try {
    data = parseToml(text);
  } catch (e) {
    return fail(new FwdError("E_CONFIG", `${source}: not valid TOML: ${(e as Error).message.split("\n")[0]}`, "check quotes and brackets near that line"));
  }
  const r = v.safeParse(ScenarioSchema, data);
  if (!r.success) return fail(new FwdError("E_CONFIG", `${source}:\n${v.summarize(r.issues)}`, "a scenario has plugin, name, [options] and optionally [reconnect]; see `fwd scenarios show PLUGIN`"));
  return ok({ ...r.output, source });
}

/** Reads a scenario file that only you (or root) can change: it says which servers and ports fwd opens. */
export function readScenario(path: string): Result<ScenarioFile> {
  const read = readTrusted(path, { what: "scenario" });
  if (!read.ok) {
    if (read.error.reason === UNTRUSTED) return read;
    const cause = read.error.cause as Error | undefined;
    return fail(new FwdError("E_CONFIG", `${path}: ${read.error.reason === "ENOENT" ? "no such file" : (cause?.message ?? "not a regular file")}`, "check the path given with -f"));
  }
  return parseScenario(read.value.toString("utf8"), path);
}
