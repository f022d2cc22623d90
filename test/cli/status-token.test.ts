// Which token `fwd status URL` sends where: the page last started gets its own token for exactly its
// origin; the per-port token file is used only for 127.0.0.1, so `localhost:P` or `[::1]:P` (which
// may be another user's listener) never receive it.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { tokenFor } from "../../src/cli/status.ts";

const dir = mkdtempSync(join(tmpdir(), "fwd-status-token-"));
const saved = process.env.XDG_CONFIG_HOME;
beforeAll(() => {
  process.env.XDG_CONFIG_HOME = dir;
  mkdirSync(join(dir, "fwd", "status"), { recursive: true });
  writeFileSync(join(dir, "fwd", "status", "4242.token"), "port-token\n", { mode: 0o600 });
  writeFileSync(join(dir, "last.token"), "last-token\n", { mode: 0o600 });
});
afterAll(() => {
  if (saved === undefined) delete process.env.XDG_CONFIG_HOME;
  else process.env.XDG_CONFIG_HOME = saved;
  rmSync(dir, { recursive: true, force: true });
});

test("the per-port token goes to 127.0.0.1 only; the last page's token to exactly its origin", () => {
  const last = { url: "http://127.0.0.1:5555/", tokenFile: join(dir, "last.token") };
  const table: [string, string | undefined][] = [
    ["http://127.0.0.1:4242/", "port-token"],
    ["http://localhost:4242/", undefined],
    ["http://[::1]:4242/", undefined],
    ["http://192.0.2.7:4242/", undefined],
    ["http://127.0.0.1:5555/", "last-token"],
    ["http://localhost:5555/", undefined],
  ];
  for (const [url, want] of table) expect({ url, got: tokenFor(new URL(url), last) }).toEqual({ url, got: want });
});
