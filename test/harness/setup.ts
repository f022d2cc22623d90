// Preloaded by `bun test` (bunfig.toml): removes the shared test home when the whole run ends
// (bun test fires no process 'exit' event a module could use).

import { afterAll } from "bun:test";
import { rmSync } from "node:fs";
import { TEST_HOME } from "./fwd.ts";

afterAll(() => rmSync(TEST_HOME, { recursive: true, force: true }));
