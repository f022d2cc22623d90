// The client takes ssh2's Client and key parser from their own files (src/ssh/ssh2-client.ts), so a
// tunnel never loads the index and what it brings (the server, key generation, node:http/https/tls).

import { expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import * as ssh2 from "ssh2";
import { Client, parseKey } from "../../src/ssh/ssh2-client.ts";

const SRC = join(import.meta.dir, "..", "..", "src");

test("they are ssh2's own Client and parseKey", () => {
  expect(Client).toBe(ssh2.Client);
  expect(parseKey).toBe(ssh2.utils.parseKey);
});

test("outside the demo (whose server needs the index), src/ takes only types from ssh2's index", () => {
  const values: string[] = [];
  for (const f of readdirSync(SRC, { recursive: true }).map(String).filter((x) => x.endsWith(".ts") && !x.startsWith("demo/"))) {
    const text = readFileSync(join(SRC, f), "utf8");
    for (const m of text.matchAll(/^import\s+(?!type\b)[^;]*?from\s+["']ssh2["']/gm)) values.push(`${f}: ${m[0]}`);
    if (/(?:import\s*\(|require\s*\()\s*["']ssh2["']/.test(text)) values.push(`${f}: a dynamic import of ssh2`);
  }
  expect(values).toEqual([]);
});
