// `fwd completion bash|zsh|fish` prints a script that asks `fwd __complete` for the words to offer,
// so every shell completes from the same tables as the parser: commands, flags, scenario and plugin
// names, a plugin's options, and the Host aliases of the user's ssh config as destinations.

import { homedir } from "node:os";
import { COMMANDS, commandNamed, SSH_OPTIONS, type CommandDoc, type FlagDoc } from "./commands.ts";
import { EXIT } from "./exit-codes.ts";

const SHELLS = ["bash", "zsh", "fish"] as const;

const SCRIPTS: Record<(typeof SHELLS)[number], string> = {
  // Words are joined on newlines (IFS) so a candidate may hold spaces; no candidates falls back to
  // file names (-o default), which is what a FILE argument wants.
  bash: `# fwd completion for bash: source <(fwd completion bash)
_fwd() {
  local IFS=$'\\n'
  COMPREPLY=($(fwd __complete "$((COMP_CWORD - 1))" "\${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null))
}
complete -o default -o nosort -F _fwd fwd
`,
  zsh: `#compdef fwd
# fwd completion for zsh: source <(fwd completion zsh) (after compinit)
_fwd() {
  local -a c
  c=("\${(@f)$(fwd __complete "$((CURRENT - 2))" "\${(@)words[2,CURRENT]}" 2>/dev/null)}")
  if [[ -n "\${c[1]}" ]]; then compadd -Q -a c; else _files; fi
}
compdef _fwd fwd
`,
  // -f: fish would add file names to every list; as in bash and zsh, they come only when fwd
  // offers nothing (a FILE argument).
  fish: `# fwd completion for fish: fwd completion fish > ~/.config/fish/completions/fwd.fish
function __fwd_complete
  set -l words (commandline -opc) (commandline -ct)
  set -l c (fwd __complete (math (count $words) - 2) $words[2..-1] 2>/dev/null)
  if test (count $c) -gt 0
    printf '%s\\n' $c
  else
    __fish_complete_path (commandline -ct)
  end
end
complete -c fwd -f -a '(__fwd_complete)'
`,
};

export async function completionCommand(argv: string[]): Promise<number> {
  const shell = argv[0] as (typeof SHELLS)[number] | undefined;
  if (shell === undefined || !SHELLS.includes(shell) || argv.length > 1) {
    const { didYouMean } = await import("./suggest.ts");
    process.stderr.write(`fwd: completion: ${shell === undefined ? "which shell?" : `no completion for '${argv.join(" ")}'`}\n  hint: ${(shell && didYouMean(shell, SHELLS)) ?? "fwd completion bash | zsh | fish"}\n`);
    return EXIT.config;
  }
  process.stdout.write(SCRIPTS[shell]);
  return EXIT.ok;
}

/** `fwd __complete INDEX WORD…`: the candidates for WORD[INDEX] (the words after `fwd`), one a line. */
export async function completeCommand(argv: string[]): Promise<number> {
  const index = Number(argv[0]);
  const words = argv.slice(1);
  if (!Number.isInteger(index) || index < 0) return EXIT.config;
  const cur = words[index] ?? "";
  const found = (await candidates(words.slice(0, index), cur)).filter((c) => c.startsWith(cur));
  if (found.length > 0) process.stdout.write([...new Set(found)].join("\n") + "\n");
  return EXIT.ok;
}

const names = (flags: FlagDoc[]) => flags.map((f) => f.flag);
const valued = (flags: FlagDoc[], word: string | undefined) => flags.find((f) => f.flag === word && f.value !== undefined);

/** What may come after `before` (the words already typed after `fwd`), starting with `cur`. */
async function candidates(before: string[], cur: string): Promise<string[]> {
  const doc = before[0] === undefined ? undefined : commandNamed(before[0]);
  if (!doc) return sshCommand(before, cur);
  const prev = before.at(-1);
  const args = before.slice(1);
  switch (doc.name) {
    case "run":
    case "check":
      return scenarioCommand(doc, args, cur);
    case "help":
      if (args.length === 0) return COMMANDS.map((c) => c.name);
      return args.length === 1 && (args[0] === "run" || args[0] === "check") ? [...(await pluginNames([])), ...(await userScenarioNames())] : [];
    case "scenarios":
      if (valued(doc.flags, prev)) return [];
      if (cur.startsWith("-")) return names(doc.flags);
      return args.length === 0 ? ["show"] : args[0] === "show" && args.length === 1 ? pluginNames(pluginFiles(args)) : [];
    case "plugin":
      return args.length === 0 ? ["new"] : cur.startsWith("-") ? names(doc.flags) : [];
    case "completion":
      return args.length === 0 ? [...SHELLS] : [];
    default:
      if (valued(doc.flags, prev)) return [];
      return cur.startsWith("-") || doc.args.length === 0 ? names(doc.flags) : [];
  }
}

/** The ssh-style command: its flags, a value's completion, or destinations (Host aliases). */
async function sshCommand(before: string[], cur: string): Promise<string[]> {
  const prev = before.at(-1);
  const f = valued(SSH_OPTIONS, prev) ?? (prev && /^-[A-Za-z]+$/.test(prev) ? valued(SSH_OPTIONS, `-${prev.at(-1)}`) : undefined);
  if (f) return f.complete === "host" ? hostAliases(before) : [];
  if (cur.startsWith("-")) return names(SSH_OPTIONS);
  // Once a destination is there, what follows is a remote command: nothing to offer.
  if (destinationGiven(before)) return [];
  return [...(before.length === 0 ? COMMANDS.map((c) => c.name) : []), ...(await hostAliases(before))];
}

function destinationGiven(words: string[]): boolean {
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    if (w === "--") return true;
    if (valued(SSH_OPTIONS, w)) i++;
    else if (/^-[A-Za-z]+$/.test(w) && valued(SSH_OPTIONS, `-${w.at(-1)}`)) i++;
    else if (!w.startsWith("-")) return true;
  }
  return false;
}

/** run/check: NAME first, then the command's flags and the plugin's own --options. */
async function scenarioCommand(doc: CommandDoc, args: string[], cur: string): Promise<string[]> {
  const prev = args.at(-1);
  const files = pluginFiles(args);
  let name: string | undefined;
  for (let i = 0; i < args.length; i++) {
    if (valued(doc.flags, args[i])) i++;
    else if (!args[i]!.startsWith("-") && name === undefined) name = args[i];
  }
  if (valued(doc.flags, prev)) return [];
  if (name === undefined && !cur.startsWith("-")) return [...(await pluginNames(files)), ...(await userScenarioNames())];
  const options = name === undefined ? [] : await pluginOptions(name, files);
  const option = options.find((o) => o.flag === prev);
  if (option && option.type !== "boolean") return option.type.includes(" | ") ? option.type.split(" | ") : [];
  return cur.startsWith("-") ? [...options.map((o) => o.flag), ...names(doc.flags)] : [];
}

const pluginFiles = (args: string[]) => args.flatMap((a, i) => (args[i - 1] === "--plugin" ? [a] : []));

async function pluginNames(files: string[]): Promise<string[]> {
  const [{ loadRegistry }, { fwdApi }] = await Promise.all([import("../plugin/registry.ts"), import("../index.ts")]);
  return [...(await loadRegistry(files, fwdApi)).plugins.keys()];
}

async function userScenarioNames(): Promise<string[]> {
  return (await import("./scenario-setup.ts")).userScenarios();
}

/** A plugin's options (or those of a user scenario's plugin), as flags and types. */
async function pluginOptions(name: string, files: string[]) {
  const [{ loadRegistry }, { describeOptions }, { fwdApi }] = await Promise.all([import("../plugin/registry.ts"), import("../plugin/options.ts"), import("../index.ts")]);
  const registry = await loadRegistry(files, fwdApi);
  let plugin = registry.plugins.get(name)?.plugin;
  if (!plugin) {
    const [{ scenarioFile }, { readScenario }] = await Promise.all([import("../scenario/paths.ts"), import("../scenario/file.ts")]);
    const file = scenarioFile(name);
    const s = file.ok ? readScenario(file.value) : undefined;
    if (s?.ok) plugin = registry.plugins.get(s.value.plugin)?.plugin;
  }
  return plugin ? describeOptions(plugin.options) : [];
}

/** Host aliases from ssh config (-F if given, else ~/.ssh/config), without wildcard or negated patterns. */
async function hostAliases(words: string[]): Promise<string[]> {
  const i = words.lastIndexOf("-F");
  const { loadSshConfig } = await import("../config/ssh-config.ts");
  const src = await loadSshConfig(i >= 0 ? words[i + 1] : undefined, process.env.HOME || homedir());
  if (!src.ok) return [];
  const out = new Set<string>();
  for (const e of src.value.entries)
    for (const c of e.when) if (c.kind === "host") for (const p of c.patterns) if (!/[*?!]/.test(p)) out.add(p);
  return [...out];
}
