// The declarations a plugin author gets are generated from src/index.ts (scripts/plugin-dts.ts), and
// they are true: a plugin scaffolded by the real `fwd plugin new`, the README's example, and a plugin
// that uses every export of the public API all pass `tsc --strict` against them, in a folder with no
// node_modules of fwd's (only Node's types, as an editor would have them).

import { afterAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generatePluginApiDts, PLUGIN_API_DTS_FILE, pluginApiDtsModule } from "../../scripts/plugin-dts.ts";
import { fwdApi } from "../../src/index.ts";
import { runFwdToEnd } from "../harness/fwd.ts";

const ROOT = join(import.meta.dir, "..", "..");
const dir = mkdtempSync(join(tmpdir(), "fwd-plugin-dts-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The type names src/index.ts exports (`export type { A, B as C }` and `export type X =`). */
function exportedTypeNames(): string[] {
  const src = readFileSync(join(ROOT, "src", "index.ts"), "utf8");
  const listed = [...src.matchAll(/export type \{([^}]*)\}/g)].flatMap((m) => m[1]!.split(",").map((n) => n.trim().split(/\s+as\s+/).pop()!));
  const aliases = [...src.matchAll(/export type (\w+)\s*=/g)].map((m) => m[1]!);
  return [...listed, ...aliases].filter(Boolean).sort();
}

const VALUES = Object.keys(fwdApi).sort();
const TYPES = exportedTypeNames();

/** A plugin that touches every runtime value (through the FwdApi argument) and every exported type. */
const everyExport = `import type { ${TYPES.join(", ")} } from "./fwd-plugin";

export default ({ ${VALUES.join(", ")} }: FwdApi) => {
  const hop: HopValue | undefined = parseHop("me@bastion:2222");
  const route: Route = hop ? [withIdentity(hop, "~/.ssh/id_ed25519")] : [];
  const db: { host: string; port: number } | undefined = parseHostPort("db", 5432);
  const here: { host: string; port: number } | undefined = parseListen("127.0.0.1:0");
  const url: { host: string; port: number; path: string } | undefined = parseHttpUrl("wiki/x", { schemeOptional: true });
  const inLan: boolean = allowList(["10.0.0.0/8"])("10.1.2.3");
  const cidr = parseCidr("192.168.0.0/16");
  const net: string = isIpv4Cidr("10.0.0.0/8") ? networkOf("10.9.9.9/8") : reachableHost("0.0.0.0");
  const options = v.object({
    bastion: v.pipe(Hop, v.description("the SSH server")),
    target: v.pipe(Target(5432), v.description("the database")),
    listen: v.optional(Listen, "127.0.0.1:0"),
    verbose: v.optional(v.boolean(), false),
  });
  const schema: OptionsSchema = options;
  const probe = async (_o: unknown, ctx: ProbeContext): Promise<ProbeResult> => {
    const s = await ctx.connect("db");
    const all: ProbeResult[] = [
      await mysqlGreeting(s), await postgresSsl(s), await httpTitle(s, url?.host ?? "x", "/"),
      await vncBanner(s), await rdpConfirm(s), await greeting(s, "SSH", /^SSH-/), await socks5Hello(s),
    ];
    const line: string | undefined = await httpLine(s, "ifconfig.me", "/");
    s.destroy();
    return { ok: all.every((r) => r.ok) && schema.type === "object", detail: \`\${line} \${cidr?.prefix} \${net} \${inLan} \${db?.port} \${here?.port}\` };
  };
  const usage = (_o: unknown, bound: BoundForward[]) => bound.map((b) => b.name);
  const p: Plugin<typeof options> = definePlugin({
    name: "every-export", summary: "uses all of the API", options, probe, usage,
    plan: (o): Plan => {
      const f: PlanForward = { kind: "local", name: "db", bind: o.listen, target: o.target };
      return { sessions: { main: [o.bastion, ...route] }, forwards: [f] };
    },
  });
  return p;
};
`;

/** tsc --strict on the given files, as an editor would check them: Node's types only, nothing of fwd's. */
function typeCheck(cwd: string, files: string[]) {
  return spawnSync(join(ROOT, "node_modules", ".bin", "tsc"), [
    "--strict", "--noEmit", "--target", "ES2022", "--module", "esnext", "--moduleResolution", "bundler", "--lib", "ES2023",
    "--types", "node", "--typeRoots", join(ROOT, "node_modules", "@types"), ...files,
  ], { cwd, encoding: "utf8" });
}

describe("generated plugin declarations", () => {
  test("the committed src/cli/plugin-api-dts.generated.ts is what scripts/plugin-dts.ts generates from src/index.ts today", () => {
    // Stale means src/index.ts (or what it exports) changed: run `bun scripts/plugin-dts.ts`.
    expect(readFileSync(PLUGIN_API_DTS_FILE, "utf8") === pluginApiDtsModule(generatePluginApiDts())).toBe(true);
  }, 30_000);

  test("the every-export plugin names every value of fwdApi and every type src/index.ts exports", () => {
    expect(VALUES.length).toBeGreaterThan(20);
    expect(TYPES).toContain("FwdApi");
    expect(TYPES).toContain("HopValue");
    for (const n of [...VALUES, ...TYPES]) expect(everyExport).toContain(n);
  });

  test("a plugin from `fwd plugin new`, the README's example and the every-export plugin pass tsc --strict", async () => {
    const made = await runFwdToEnd(["plugin", "new", "scaffolded", dir]);
    expect(made.code).toBe(0);
    expect(readdirSync(dir).sort()).toEqual(["fwd-plugin-api.d.ts", "fwd-plugin.d.ts", "scaffolded.ts"]);
    const readme = /### Writing a plugin[\s\S]*?```ts\n([\s\S]*?)```/.exec(readFileSync(join(ROOT, "README.md"), "utf8"))?.[1];
    expect(readme).toBeDefined();
    writeFileSync(join(dir, "readme-example.ts"), readme!);
    writeFileSync(join(dir, "every-export.ts"), everyExport);
    // And the check has teeth: a plugin that misuses the API, checked in the same run (one tsc start),
    // is the only file with errors — a wrong forward kind, a hop as a listen address, a port as target.
    writeFileSync(join(dir, "misuse.ts"), `import type { FwdApi } from "./fwd-plugin";
export default ({ definePlugin, v, Hop }: FwdApi) => definePlugin({
  name: "misuse", summary: "x", options: v.object({ bastion: Hop }),
  plan: (o) => ({ sessions: { main: [o.bastion] }, forwards: [{ kind: "locl", bind: o.bastion, target: 80 }] }),
});
`);
    const r = typeCheck(dir, ["scaffolded.ts", "readme-example.ts", "every-export.ts", "misuse.ts"]);
    const errors = (r.stdout + r.stderr).split("\n").filter((l) => /error TS/.test(l));
    expect(errors.filter((l) => !l.startsWith("misuse.ts(4,"))).toEqual([]);
    expect(errors.length).toBeGreaterThan(0);
    expect(r.status).not.toBe(0);
  }, 60_000);
});
