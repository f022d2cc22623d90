// `fwd scenarios` lists plugins and the user's scenarios; `fwd scenarios show NAME` explains a
// plugin's options (types, defaults, descriptions) and prints its example scenario.

import { readdirSync } from "node:fs";
import { join } from "node:path";
import { BUILTIN_SCENARIOS } from "../../scenarios/index.ts";
import { FwdError } from "../errors.ts";
import { describeOptions } from "../plugin/options.ts";
import { loadRegistry } from "../plugin/registry.ts";
import { readScenario } from "../scenario/file.ts";
import { configDir } from "../scenario/paths.ts";
import { EXIT } from "./exit-codes.ts";
import { loggerFor } from "./scenario-setup.ts";
import { report } from "./serve.ts";

export async function listScenarios(argv: string[]): Promise<number> {
  const log = loggerFor(argv);
  const pluginFiles = argv.flatMap((a, i) => (argv[i - 1] === "--plugin" ? [a] : []));
  const registry = await loadRegistry(pluginFiles);
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

function show(name: string | undefined, registry: Awaited<ReturnType<typeof loadRegistry>>, log: ReturnType<typeof loggerFor>): number {
  const entry = name === undefined ? undefined : registry.plugins.get(name);
  if (!entry)
    return report(log, new FwdError("E_CONFIG", name === undefined ? "scenarios show: which plugin?" : `no plugin named "${name}"`, `plugins: ${[...registry.plugins.keys()].join(", ")}`));
  const { plugin } = entry;
  const out = [`${plugin.name} — ${plugin.summary}`, "", "options (in a scenario's [options], or as --flags of fwd run):"];
  for (const o of describeOptions(plugin.options)) {
    const req = o.required ? "required" : o.default !== undefined ? `default ${JSON.stringify(o.default)}` : "optional";
    out.push(`  ${o.key} (${o.flag})  ${o.type}, ${req}`, `      ${o.description}`);
  }
  const example = BUILTIN_SCENARIOS[plugin.name];
  if (example) out.push("", `example scenario (save as ${join(configDir(), "scenarios", "NAME.toml")}):`, "", example.trimEnd());
  log.print(out.join("\n"));
  return EXIT.ok;
}

function safeList(dir: string): string[] {
  try {
    return readdirSync(dir).sort();
  } catch {
    return [];
  }
}
