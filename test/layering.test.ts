// The direction of imports between src/ folders, checked on every run: vocab/ (the shared vocabulary)
// is the floor, the engine stands on it with the protocol and OS adapters it drives (socks/, route/,
// runtime/) and nothing above, and no cycle between folders may appear.

import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

const SRC = join(import.meta.dir, "..", "src");

/** Folder → folders (or root files) it imports, from static `from "…"` and dynamic `import("…")`. */
function folderGraph(): Map<string, Set<string>> {
  const node = (f: string) => (f.includes("/") ? f.split("/")[0]! : f);
  const edges = new Map<string, Set<string>>();
  for (const f of readdirSync(SRC, { recursive: true }).map(String).filter((x) => x.endsWith(".ts"))) {
    const text = readFileSync(join(SRC, f), "utf8");
    for (const m of text.matchAll(/(?:from\s+|import\s*\(\s*)["'](\.{1,2}\/[^"']+)["']/g)) {
      const target = relative(SRC, resolve(dirname(join(SRC, f)), m[1]!));
      const [a, b] = [node(f), node(target)];
      if (target.startsWith("..") || a === b) continue;
      if (!edges.has(a)) edges.set(a, new Set());
      edges.get(a)!.add(b);
    }
  }
  return edges;
}

/** Every pair of folders that import each other, directly or through others, as "a <-> b" (a < b). */
function cyclicPairs(g: Map<string, Set<string>>): string[] {
  const reach = (from: string) => {
    const seen = new Set<string>();
    const stack = [...(g.get(from) ?? [])];
    while (stack.length > 0) {
      const n = stack.pop()!;
      if (seen.has(n)) continue;
      seen.add(n);
      stack.push(...(g.get(n) ?? []));
    }
    return seen;
  };
  const nodes = [...new Set([...g.keys(), ...[...g.values()].flatMap((s) => [...s])])].sort();
  const pairs: string[] = [];
  for (const a of nodes) for (const b of nodes) if (a < b && reach(a).has(b) && reach(b).has(a)) pairs.push(`${a} <-> ${b}`);
  return pairs;
}


describe("layering", () => {
  test("vocab/ (endpoints, addresses, CIDRs, forward specs) is a leaf: it imports nothing of fwd but errors.ts", () => {
    expect([...(folderGraph().get("vocab") ?? [])].sort()).toEqual(["errors.ts"]);
  });

  test("the engine imports only itself, errors.ts, vocab/ and the adapters beneath it (socks/, route/, runtime/)", () => {
    expect([...(folderGraph().get("engine") ?? [])].sort()).toEqual(["errors.ts", "route", "runtime", "socks", "vocab"]);
  });

  test("socks/ (the SOCKS handshake) and route/ (nftables, SO_ORIGINAL_DST, DNS relay) import nothing of fwd but errors.ts and vocab/", () => {
    const g = folderGraph();
    expect([...(g.get("socks") ?? [])].sort()).toEqual(["errors.ts", "vocab"]);
    expect([...(g.get("route") ?? [])].every((x) => x === "errors.ts" || x === "vocab")).toBe(true);
  });

  test("runtime/ (what differs between Bun and Deno: sockets, FFI crypto, HTTP) imports nothing of fwd", () => {
    expect([...(folderGraph().get("runtime") ?? [])]).toEqual([]);
  });

  test("no folder cycle", () => {
    expect(cyclicPairs(folderGraph())).toEqual([]);
  });

  test("the cycle finder finds a cycle through a third folder", () => {
    const g = new Map([["a", new Set(["b"])], ["b", new Set(["c"])], ["c", new Set(["a"])], ["d", new Set(["a"])]]);
    expect(cyclicPairs(g)).toEqual(["a <-> b", "a <-> c", "b <-> c"]);
  });
});
