// A scenario name is a file name in the scenarios folder and nothing else.

import { expect, test } from "bun:test";
import { scenarioFile } from "../../src/scenario/paths.ts";

const cases: [string, string | undefined][] = [
  ["reports", "reports.toml"],
  ["db.prod_2-a", "db.prod_2-a.toml"],
  ["../../etc/x", 'scenario name "../../etc/x": contains a path separator'],
  ["/etc/passwd", 'scenario name "/etc/passwd": contains a path separator'],
  ["..", `scenario name "..": contains '..'`],
  ["a..b", `scenario name "a..b": contains '..'`],
  ["a\\b", 'scenario name "a\\b": contains a path separator'],
  ["a\0b", 'scenario name "a?b": contains a NUL byte'],
];

for (const [name, want] of cases)
  test(JSON.stringify(name), () => {
    const r = scenarioFile(name);
    if (want?.endsWith(".toml")) {
      expect(r.ok && r.value.endsWith(`/fwd/scenarios/${want}`)).toBe(true);
    } else {
      expect(r.ok ? "ok" : [r.error.code, r.error.message]).toEqual(["E_CONFIG", want!]);
      expect(r.ok ? "" : r.error.hint).toContain("run one kept elsewhere with -f PATH");
    }
  });
