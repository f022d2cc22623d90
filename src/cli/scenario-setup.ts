// What `fwd run` and `fwd check` share: from `NAME [--option value …]` (or `-f file`) to a validated
// plugin plan made concrete — scenario file and flags merged, ssh settings applied to every hop.

import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import type { ReconnectPolicy } from "../engine/backoff.ts";
import { FwdError, fail, ok, type Result } from "../errors.ts";
import { describeOptions, optionProblems, readOptionFlags, validateOptions } from "../plugin/options.ts";
import { fwdApi } from "../index.ts";
import { loadRegistry } from "../plugin/registry.ts";
import { concretePlan, type ConcretePlan } from "../plugin/to-engine.ts";
import type { Plugin } from "../plugin/types.ts";
import { readScenario, type ScenarioFile } from "../scenario/file.ts";
import { configDir, scenarioFile } from "../scenario/paths.ts";
import { checkSupported, parseArgv, type ParsedArgs } from "./argv.ts";
import { Logger } from "./logger.ts";
import { ProgressLine } from "./progress.ts";
import type { SshDeps } from "../ssh/connect.ts";
import { maxConnections, reconnectPolicy, sshOverrides } from "./ssh-command.ts";
import { loadConfigContext } from "../config/target.ts";
import { preflight } from "../route/nft.ts";
import { ttyPrompter } from "./tty-prompt.ts";
import { didYouMean, nearest } from "./suggest.ts";

export interface Prepared {
  name: string;
  plugin: Plugin;
  options: Record<string, unknown>;
  concrete: ConcretePlan;
  args: ParsedArgs;
  reconnect: ReconnectPolicy;
  maxConnections?: number;
}

const SSH_LETTERS = new Set(["F", "o", "i", "c", "v", "q"]);

/**
 * `name`: what a scenario file without a name is called (`fwd up`: its file name), not its plugin's;
 * `progress`: the terminal's progress line while connecting.
 */
export async function prepareScenario(argv: string[], log: Logger, usage: string, o: { name?: string; progress?: ProgressLine } = {}): Promise<Result<Prepared>> {
  const progress = o.progress;
  const pluginFiles: string[] = [];
  let file: string | undefined;
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--plugin" && argv[i + 1] !== undefined) pluginFiles.push(argv[++i]!);
    else if (argv[i] === "-f" && argv[i + 1] !== undefined) file = argv[++i];
    else rest.push(argv[i]!);
  }
  const name = file === undefined && rest[0] !== undefined && !rest[0].startsWith("-") ? rest.shift() : undefined;
  if (file === undefined && name === undefined) return fail(new FwdError("E_CONFIG", "no scenario or plugin named", usage));

  const registry = await loadRegistry(pluginFiles, fwdApi);
  for (const p of registry.problems) log.log("warn", p.message, p.hint);

  let scenario: ScenarioFile | undefined;
  let userFile: string | undefined;
  if (name !== undefined) {
    const named = scenarioFile(name);
    if (!named.ok) return named;
    userFile = named.value;
  }
  const path = file ?? (userFile && existsSync(userFile) ? userFile : undefined);
  // A file's [options] are checked with its other keys (flags merged in), so all is said at once.
  const checkOptions = (pluginName: string, fromFile: Record<string, unknown>): string[] => {
    const p = registry.plugins.get(pluginName)?.plugin;
    if (!p) {
      const near = nearest(pluginName, registry.plugins.keys());
      return [`× no plugin named "${pluginName}"${near ? ` (did you mean ${near}?)` : ""}\n  → at plugin`];
    }
    const flags = readOptionFlags(rest, describeOptions(p.options));
    return optionProblems(p.options, { ...fromFile, ...(flags.ok ? flags.value.values : {}) }, ["options"], nearest).lines;
  };
  if (path !== undefined) {
    const r = readScenario(path, checkOptions);
    if (!r.ok) return r;
    scenario = r.value;
  }
  const pluginName = scenario?.plugin ?? name!;
  const entry = registry.plugins.get(pluginName);
  if (!entry) {
    const failed = registry.problems.find((p) => p.message.includes(pluginName));
    if (failed) return fail(failed);
    const known = [...registry.plugins.keys()].join(", ");
    const near = didYouMean(pluginName, [...registry.plugins.keys(), ...userScenarios()]);
    return fail(new FwdError("E_CONFIG", `${scenario ? `${scenario.source}: ` : ""}no plugin or scenario named "${pluginName}"`, near ?? `plugins: ${known}; your scenarios live in ${join(configDir(), "scenarios")}`));
  }
  const plugin = entry.plugin;

  const flags = readOptionFlags(rest, describeOptions(plugin.options));
  if (!flags.ok) return flags;
  const parsed = parseArgv(flags.value.rest);
  const takes = `${plugin.name} takes ${describeOptions(plugin.options).map((o) => o.flag).join(" ")}, and ssh's -F -o -i -c -v -q`;
  if (!parsed.ok) {
    const typed = /^unknown option (--[^\s=]+)/.exec(parsed.error.message)?.[1];
    const near = typed ? didYouMean(typed, [...describeOptions(plugin.options).map((o) => o.flag), "--dry-run", "--plugin", "--json", "--status", "--max-retries", "--no-reconnect", "--max-connections"]) : undefined;
    return fail(new FwdError("E_CONFIG", parsed.error.message, near ? `${near} (${takes})` : takes));
  }
  const a = parsed.value;
  const supported = checkSupported(a, SSH_LETTERS);
  if (!supported.ok) return supported;
  if (a.destination !== undefined) return fail(new FwdError("E_CONFIG", `unexpected argument '${a.destination}'`, takes));

  const where = scenario ? `${scenario.source} with flags` : `${plugin.name} options`;
  const options = validateOptions(plugin.options, { ...scenario?.options, ...flags.value.values }, where, nearest);
  if (!options.ok) return options;
  const scenarioName = scenario?.name ?? o.name ?? name ?? plugin.name;
  let plan;
  try {
    plan = plugin.plan(options.value);
  } catch (e) {
    return fail(new FwdError("E_CONFIG", `plugin ${plugin.name} (${entry.source}): plan failed: ${(e as Error).message}`, "this is a bug in the plugin", { cause: e }));
  }
  const ctx = await loadConfigContext(a.values.F?.at(-1));
  if (!ctx.ok) return ctx;
  const concrete = concretePlan(scenarioName, plan, ctx.value, sshOverrides(a), sshDeps(log, progress));
  if (!concrete.ok) return concrete;
  // A plan that routes needs root and nft: said before connecting, as for --route (not for a dry run).
  if (!a.long["dry-run"] && concrete.value.engine.forwards.some((f) => f.kind === "route")) {
    const can = preflight(scenarioName);
    if (!can.ok) return can;
  }
  const reconnect = reconnectPolicy(a);
  if (!reconnect.ok) return reconnect;
  const limit = maxConnections(a);
  if (!limit.ok) return limit;
  const fromFile = scenario?.reconnect ?? {};
  return ok({
    name: scenarioName,
    plugin,
    options: options.value as Record<string, unknown>,
    concrete: concrete.value,
    args: a,
    ...(limit.value !== undefined ? { maxConnections: limit.value } : {}),
    reconnect: {
      ...reconnect.value,
      ...(fromFile.enabled === false ? { enabled: false } : {}),
      ...(fromFile.max_retries !== undefined && a.longValues["max-retries"] === undefined ? { maxRetries: fromFile.max_retries } : {}),
    },
  });
}

/** How the ssh layer talks to the person: prompts (erasing the progress line first), logs, progress. */
function sshDeps(log: Logger, progress: ProgressLine | undefined): SshDeps {
  const asker = ttyPrompter(false);
  return {
    prompt: asker && ((q, o) => (progress?.clear(), asker(q, o))),
    log: (level, m) => log.log(level, m),
    ...(progress ? { progress: (label: string, stage: string) => progress.set(`connecting: ${label}: ${stage}`) } : {}),
  };
}

/** -q / -v… as a verbosity, before the rest of argv is understood. */
const verbosityOf = (argv: string[]) => (argv.includes("-q") ? 0 : 1 + argv.filter((a) => /^-v+$/.test(a)).reduce((n, a) => n + a.length - 1, 0));

/** A logger set up from the flags; with a progress line, every line it prints erases that first. */
export const loggerFor = (argv: string[], progress?: ProgressLine) =>
  new Logger({
    json: argv.includes("--json"),
    verbosity: verbosityOf(argv),
    ...(progress
      ? { out: progress.around((l) => process.stdout.write(l + "\n")), err: progress.around((l) => process.stderr.write(l + "\n")) }
      : {}),
  });

/** The terminal's progress line for `fwd run`/`fwd check` (none on a pipe, with --json or -q). */
export const progressFor = (argv: string[]) => ProgressLine.forTerminal({ json: argv.includes("--json"), verbosity: verbosityOf(argv) });

/** The names of the user's scenario files (NAME.toml in the scenarios folder), for suggestions. */
export function userScenarios(): string[] {
  try {
    return readdirSync(join(configDir(), "scenarios")).filter((f) => f.endsWith(".toml")).map((f) => f.slice(0, -5)).sort();
  } catch {
    return [];
  }
}
