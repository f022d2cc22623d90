// The built-ins are written against the same API a user's plugin gets: every file in plugins/ (but
// index.ts, which registers them) imports fwd only through src/index.ts, so whatever a built-in can do,
// src/index.ts exports — and the generated fwd-plugin.d.ts declares.

import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import * as api from "../../src/index.ts";

const PLUGINS = join(import.meta.dir, "..", "..", "plugins");

/** Every module specifier a file imports or re-exports, static or dynamic. */
export function specifiers(text: string): string[] {
  return [...text.matchAll(/(?:^|[\s;])(?:import|export)\s[^"';]*?from\s*["']([^"']+)["']|import\s*\(\s*["']([^"']+)["']\s*\)|^\s*import\s*["']([^"']+)["']/gm)].map((m) => (m[1] ?? m[2] ?? m[3])!);
}

describe("public plugin API", () => {
  test("the import parser sees static, type, multi-line, side-effect and dynamic imports", () => {
    const text = `import { a } from "../src/index.ts";\nimport type { B } from '../src/plugin/types.ts';\nimport {\n  c,\n  d,\n} from "../src/plugin/probes.ts";\nimport "../src/engine/x.ts";\nconst m = await import("../src/route/cidr.ts");\nexport { e } from "../src/engine/types.ts";`;
    expect(specifiers(text)).toEqual(["../src/index.ts", "../src/plugin/types.ts", "../src/plugin/probes.ts", "../src/engine/x.ts", "../src/route/cidr.ts", "../src/engine/types.ts"]);
  });

  test("every built-in imports fwd only through ../src/index.ts (node: built-ins are fine)", () => {
    const files = readdirSync(PLUGINS).filter((f) => f.endsWith(".ts") && f !== "index.ts");
    expect(files.length).toBeGreaterThan(10);
    const offending = files.flatMap((f) =>
      specifiers(readFileSync(join(PLUGINS, f), "utf8"))
        .filter((s) => s !== "../src/index.ts" && !s.startsWith("node:"))
        .map((s) => `${f}: ${s}`),
    );
    expect(offending).toEqual([]);
  });

  test("fwdApi, what a plugin file's default export receives, carries every runtime export of src/index.ts", () => {
    const values = Object.keys(api).filter((k) => k !== "fwdApi").sort();
    expect(Object.keys(api.fwdApi).sort()).toEqual(values);
  });
});
