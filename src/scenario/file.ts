// A scenario file: which plugin, a name, its options, and how to keep it running — TOML, checked
// with valibot so a mistake names the field, what was expected and what was given.

import { parse as parseToml, type TomlError } from "smol-toml";
import { issueLines } from "../config/issues.ts";
import * as v from "valibot";
import { readTrusted, UNTRUSTED } from "../file-trust.ts";
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

/** Checks a file's [options] against its plugin: problem lines (empty when fine), so one report holds them all. */
export type OptionsCheck = (plugin: string, options: Record<string, unknown>) => string[];

export function parseScenario(text: string, source: string, checkOptions?: OptionsCheck): Result<ScenarioFile> {
  let data: unknown;
  try {
    data = parseToml(text);
  } catch (e) {
    return fail(tomlError(e as TomlError, text, source));
  }
  const r = v.safeParse(ScenarioSchema, data);
  const lines = r.success ? [] : issueLines(r.issues, "key");
  // The [options] are checked even when other keys are wrong, so a file is fixed in one round.
  const raw = (data ?? {}) as { plugin?: unknown; options?: unknown };
  const options = raw.options ?? {};
  if (checkOptions && typeof raw.plugin === "string" && options !== null && typeof options === "object" && !Array.isArray(options))
    lines.push(...checkOptions(raw.plugin, options as Record<string, unknown>));
  if (!r.success || lines.length > 0)
    return fail(new FwdError("E_CONFIG", `${source}:\n${lines.join("\n")}`, "a scenario has plugin, name, [options] and optionally [reconnect]; see `fwd scenarios show PLUGIN`"));
  return ok({ ...r.output, source });
}

/** smol-toml's error as `file:line:column: what`, with the offending line and a caret under the spot. */
function tomlError(e: TomlError, text: string, source: string): FwdError {
  const what = e.message.split("\n")[0]!.replace(/^Invalid TOML document: /, "");
  if (typeof e.line !== "number") return new FwdError("E_CONFIG", `${source}: not valid TOML: ${what}`, "check quotes and brackets");
  const line = (text.split(/\r?\n/)[e.line - 1] ?? "").replace(/[\x00-\x08\x0b-\x1f\x7f]/g, "?");
  const shown = `${String(e.line).padStart(4)} | ${line}\n${"".padStart(4)} | ${" ".repeat(Math.max(0, e.column - 1))}^`;
  return new FwdError("E_CONFIG", `${source}:${e.line}:${e.column}: not valid TOML: ${what}\n${shown}`, `check the quotes and brackets on line ${e.line}`);
}

/** Reads a scenario file that only you (or root) can change: it says which servers and ports fwd opens. */
export function readScenario(path: string, checkOptions?: OptionsCheck): Result<ScenarioFile> {
  const read = readTrusted(path, { what: "scenario" });
  if (!read.ok) {
    if (read.error.reason === UNTRUSTED) return read;
    const cause = read.error.cause as Error | undefined;
    return fail(new FwdError("E_CONFIG", `${path}: ${read.error.reason === "ENOENT" ? "no such file" : (cause?.message ?? "not a regular file")}`, "check the path given with -f"));
  }
  return parseScenario(read.value.toString("utf8"), path, checkOptions);
}
