// The README and fwd agree: the prefix errors print with, the packages `npm test` installs, and
// test output that says a suite was skipped only when it was.

import { expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

const ROOT = join(import.meta.dir, "..", "..");
const README = readFileSync(join(ROOT, "README.md"), "utf8");

test("the README's npm test packages are scripts/test-deps.sh's", () => {
  const script = readFileSync(join(ROOT, "scripts", "test-deps.sh"), "utf8");
  const installs = [...new Set([...script.matchAll(/need\+=\(([^)]*)\)/g)].flatMap((m) => m[1]!.trim().split(/\s+/)))].sort();
  const sentence = /`npm test` installs what the tests talk to when it is missing \(as root, from Debian: ([^;]*);/.exec(README);
  expect(sentence).not.toBeNull();
  const listed = [...sentence![1]!.matchAll(/`([^`]+)`/g)].map((m) => m[1]!).sort();
  expect(listed).toEqual(installs);
});

test("errors in the README read as fwd prints them (fwd: …), never error: …", () => {
  const blocks = [...README.matchAll(/```[a-z]*\n([\s\S]*?)```/g)].map((m) => m[1]!);
  expect(blocks.flatMap((b) => b.split("\n")).filter((l) => /^error: /.test(l))).toEqual([]);
});

test("the demo's page is described as what it is: on loopback, not unreachable", () => {
  expect(README).not.toContain("not reachable otherwise");
});

test("a skip notice is registered only where the suite is skipped", () => {
  // A placeholder registered with skipIf(ran) is listed as skipped even when the suite ran, saying it did not.
  const dir = join(ROOT, "test", "e2e");
  const offenders = readdirSync(dir)
    .filter((f) => f.endsWith(".ts"))
    .filter((f) => /test\.skipIf\([^)]*\)\("[^"]*skipped"/.test(readFileSync(join(dir, f), "utf8")));
  expect(offenders).toEqual([]);
});
