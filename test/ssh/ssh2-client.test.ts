// The client takes ssh2's Client and key parser from their own files (src/ssh/ssh2-client.ts), so a
// tunnel never loads the index and what it brings (the server, key generation, node:http/https/tls).

import { expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
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

test("loading the client's modules loads none of ssh2's index, server, key generation or HTTP agents", () => {
  const probe = `
    await import(${JSON.stringify(join(SRC, "ssh", "connect.ts"))});
    await import(${JSON.stringify(join(SRC, "ssh", "auth.ts"))});
    console.log(JSON.stringify(Object.keys(require.cache).filter((k) => k.includes("/ssh2/lib/")).map((k) => k.replace(/^.*\\/ssh2\\/lib\\//, ""))));
  `;
  const r = spawnSync(process.execPath, ["-e", probe], { encoding: "utf8" });
  expect(r.status).toBe(0);
  const loaded: string[] = JSON.parse(r.stdout);
  expect(loaded).toContain("client.js"); // the probe sees what it looks for
  expect(loaded.filter((f) => ["index.js", "server.js", "keygen.js", "http-agents.js"].includes(f))).toEqual([]);
});
