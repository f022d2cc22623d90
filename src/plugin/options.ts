// A plugin's options schema read as data: for `fwd scenarios show`, for the --flags of `fwd run`,
// and for merging a scenario file's options with those flags before valibot checks them all.

import * as v from "valibot";
import { FwdError, fail, ok, type Result } from "../errors.ts";
import type { OptionsSchema } from "./types.ts";
import { issueLines } from "../config/issues.ts";

export interface OptionInfo {
  key: string;
  flag: string;
  /** "string", "number", "boolean", "list", or the choices joined by " | ". */
  type: string;
  required: boolean;
  default?: unknown;
  description: string;
}

type AnySchema = v.GenericSchema & { type: string; wrapped?: AnySchema; options?: unknown[]; item?: AnySchema };

export function describeOptions(schema: OptionsSchema): OptionInfo[] {
  return Object.entries(schema.entries).map(([key, raw]) => {
    const s = raw as AnySchema;
    const optional = s.type === "optional" || s.type === "nullish";
    const inner = optional ? s.wrapped! : s;
    const def = optional ? v.getDefault(s as v.OptionalSchema<v.GenericSchema, unknown>) : undefined;
    return {
      key,
      flag: `--${key.replaceAll("_", "-")}`,
      type: typeName(inner),
      required: !optional,
      ...(def !== undefined ? { default: def } : {}),
      description: v.getDescription(inner as v.GenericSchema) ?? "",
    };
  });
}

function typeName(s: AnySchema): string {
  switch (s.type) {
    case "picklist":
      return (s.options ?? []).join(" | ");
    case "array":
      return "list";
    default:
      return s.type;
  }
}

/**
 * Reads `--key value` flags for the options in `infos` (booleans as `--key` / `--no-key`, lists
 * repeatable); everything else in `argv` is returned untouched for the caller to read.
 */
export function readOptionFlags(argv: string[], infos: OptionInfo[]): Result<{ values: Record<string, unknown>; rest: string[] }> {
  const byFlag = new Map(infos.map((i) => [i.flag, i]));
  const values: Record<string, unknown> = {};
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.indexOf("=");
    const flag = eq > 0 && arg.startsWith("--") ? arg.slice(0, eq) : arg;
    const negated = flag.startsWith("--no-") ? byFlag.get(`--${flag.slice(5)}`) : undefined;
    if (negated?.type === "boolean") {
      values[negated.key] = false;
      continue;
    }
    const info = byFlag.get(flag);
    if (!info) {
      rest.push(arg);
      continue;
    }
    if (info.type === "boolean" && eq < 0) {
      values[info.key] = true;
      continue;
    }
    const value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined) return fail(new FwdError("E_CONFIG", `${flag} needs a value`, `${flag}: ${info.description}`));
    if (info.type === "list") values[info.key] = [...((values[info.key] as unknown[] | undefined) ?? []), value];
    else if (info.type === "number") values[info.key] = /^-?\d+(\.\d+)?$/.test(value) ? Number(value) : value;
    else if (info.type === "boolean") values[info.key] = /^(true|yes|1)$/i.test(value) ? true : /^(false|no|0)$/i.test(value) ? false : value;
    else values[info.key] = value;
  }
  return ok({ values, rest });
}

/** Checks merged options against the plugin's schema; unknown keys are errors, not ignored. All at once. */
export function validateOptions<S extends OptionsSchema>(schema: S, values: Record<string, unknown>, where: string, near?: Near): Result<v.InferOutput<S>> {
  const problems = optionProblems(schema, values, [], near);
  if (problems.lines.length > 0) return fail(new FwdError("E_CONFIG", `${where}:\n${problems.lines.join("\n")}`, problems.hint));
  return ok(v.parse(schema, values));
}

/** The known name nearest to a mistyped one, if any (the CLI's did-you-mean). */
export type Near = (typed: string, known: string[]) => string | undefined;

/** Every problem with `values` as options of `schema`, one line each (unknown keys name the near one). */
export function optionProblems(schema: OptionsSchema, values: Record<string, unknown>, prefix: string[] = [], nearest: Near = () => undefined): { lines: string[]; hint: string } {
  const known = Object.keys(schema.entries);
  const at = (k: string) => [...prefix, k].join(".");
  const unknown = Object.keys(values).filter((k) => !known.includes(k));
  const lines = unknown.map((k) => {
    const near = nearest(k, known);
    return `× unknown option ${k}${near ? ` (did you mean ${near}?)` : ""}${prefix.length > 0 ? `\n  → at ${at(k)}` : ""}`;
  });
  const known_ = Object.fromEntries(Object.entries(values).filter(([k]) => known.includes(k)));
  const r = v.safeParse(schema, known_);
  if (!r.success) lines.push(...issueLines(r.issues, "option", prefix));
  return { lines, hint: unknown.length > 0 ? `known options: ${known.join(", ")}` : "`fwd scenarios show PLUGIN` lists every option with its type" };
}
