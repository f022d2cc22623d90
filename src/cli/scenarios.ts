// `fwd scenarios` lists plugins and the user's scenarios; `fwd scenarios show NAME` explains a
// plugin's options (types, defaults, descriptions) and prints its example scenario.

import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { BUILTIN_SCENARIOS } from "../../scenarios/index.ts";
import { FwdError, fail, ok, type Result } from "../errors.ts";
import { describeOptions } from "../plugin/options.ts";
import { fwdApi } from "../index.ts";
import { loadRegistry, type Registry } from "../plugin/registry.ts";
import { redact } from "../redact.ts";
import { readScenario } from "../scenario/file.ts";
import { configDir, scenarioFile } from "../scenario/paths.ts";
import { EXIT } from "./exit-codes.ts";
import { loggerFor, userScenarios } from "./scenario-setup.ts";
import { report } from "./serve.ts";
import { didYouMean } from "./suggest.ts";

export async function listScenarios(argv: string[]): Promise<number> {
  const log = loggerFor(argv);
  const pluginFiles = argv.flatMap((a, i) => (argv[i - 1] === "--plugin" ? [a] : []));
  const registry = await loadRegistry(pluginFiles, fwdApi);
  for (const p of registry.problems) log.log("warn", p.message, p.hint);
  if (argv[0] === "show") return show(argv[1], registry, log);

  const out: string[] = ["plugins (fwd run PLUGIN --option value …):"];
  const width = Math.max(...[...registry.plugins.keys()].map((k) => k.length));
  for (const [name, { plugin, source }] of registry.plugins) out.push(`  ${name.padEnd(width)}  ${plugin.summary}${source === "built-in" ? "" : `  [${source}]`}`);
  const dir = join(configDir(), "scenarios");
  const mine = safeList(dir).filter((f) => f.endsWith(".toml"));
  out.push("", `your scenarios (fwd run NAME), in ${dir}:`);
  if (mine.length === 0) out.push("  none yet: `fwd scenarios show PLUGIN` prints an example to start from");
  for (const f of mine) {
    const s = readScenario(join(dir, f));
    out.push(s.ok ? `  ${f.replace(/\.toml$/, "").padEnd(width)}  ${s.value.plugin}${s.value.description ? `: ${s.value.description}` : ""}` : `  ${f}: ${s.error.message}`);
  }
  log.print(out.join("\n"));
  return EXIT.ok;
}

function show(name: string | undefined, registry: Registry, log: ReturnType<typeof loggerFor>): number {
  const text = pluginText(name, registry, "scenarios show");
  if (!text.ok) return report(log, text.error);
  log.print(text.value);
  return EXIT.ok;
}

/** `fwd run PLUGIN --help` (or a scenario's name: its plugin's options, and the values it sets). */
export async function pluginHelp(name: string, pluginFiles: string[], command: string): Promise<number> {
  const log = loggerFor([]);
  const registry = await loadRegistry(pluginFiles, fwdApi);
  for (const p of registry.problems) log.log("warn", p.message, p.hint);
  let plugin = name;
  let from: string | undefined;
  if (!registry.plugins.has(name)) {
    const file = scenarioFile(name);
    if (!file.ok) return report(log, file.error);
    if (existsSync(file.value)) {
      const s = readScenario(file.value);
      if (!s.ok) return report(log, s.error);
      plugin = s.value.plugin;
      from = `scenario ${name} (${file.value}) uses plugin ${plugin}; flags override its [options]:\n${Object.entries(redact(s.value.options) as Record<string, unknown>).map(([k, val]) => `  ${k} = ${JSON.stringify(val)}`).join("\n") || "  (none set)"}\n`;
    }
  }
  const text = pluginText(plugin, registry, command, name);
  if (!text.ok) return report(log, text.error);
  log.print(`usage: fwd ${command} ${name} [--option value …]${command === "run" ? " [--dry-run]" : ""}\n\n${from ? `${from}\n` : ""}${text.value}`);
  return EXIT.ok;
}

/** A plugin's summary, options (from its schema: the one its flags are parsed by) and example. */
function pluginText(name: string | undefined, registry: Registry, context: string, typed = name): Result<string> {
  const entry = name === undefined ? undefined : registry.plugins.get(name);
  if (!entry) {
    if (name === undefined) return fail(new FwdError("E_CONFIG", `${context}: which plugin?`, `plugins: ${[...registry.plugins.keys()].join(", ")}`));
    const near = didYouMean(typed ?? name, [...registry.plugins.keys(), ...userScenarios()]);
    return fail(new FwdError("E_CONFIG", `${context}: no plugin or scenario named "${typed}"`, near ?? `plugins: ${[...registry.plugins.keys()].join(", ")}`));
  }
  const { plugin } = entry;
  const out = [`${plugin.name} — ${plugin.summary}`, "", "options (in a scenario's [options], or as --flags of fwd run):"];
  for (const o of describeOptions(plugin.options)) {
    const req = o.required ? "required" : o.default !== undefined ? `default ${JSON.stringify(o.default)}` : "optional";
    out.push(`  ${o.key} (${o.flag})  ${o.type}, ${req}`, `      ${o.description}`);
  }
  const example = BUILTIN_SCENARIOS[plugin.name];
  if (example) out.push("", `example scenario (save as ${join(configDir(), "scenarios", "NAME.toml")}):`, "", example.trimEnd());
  return ok(out.join("\n"));
}

function safeList(dir: string): string[] {
  try {
    return readdirSync(dir).sort();
  } catch {
    return [];
  }
}
