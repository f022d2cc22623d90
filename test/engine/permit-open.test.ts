// PermitRemoteOpen matching as OpenSSH's open_match(): exact host or `*`, exact port or `*`.

import { expect, test } from "bun:test";
import { formatPermitOpen, permitsOpen } from "../../src/engine/permit-open.ts";
import type { PermitOpen } from "../../src/vocab/forward.ts";

const rules: PermitOpen = [
  { host: "127.0.0.1", port: 8080 },
  { host: "db.internal", port: "*" },
  { host: "*", port: 443 },
  { host: "::1", port: 22 },
];

const cases: [PermitOpen, string, number, boolean][] = [
  [undefined, "anything.example", 1, true],
  [[], "127.0.0.1", 8080, false],
  [rules, "127.0.0.1", 8080, true],
  [rules, "127.0.0.1", 8081, false],
  [rules, "localhost", 8080, false], // no lookups: a name is not its address
  [rules, "db.internal", 5432, true],
  [rules, "DB.internal", 5432, false], // strcmp, as ssh
  [rules, "db.internal.evil", 5432, false], // no patterns beyond a lone `*`
  [rules, "anything.example", 443, true],
  [rules, "0:0:0:0:0:0:0:1", 22, true], // fwd's SOCKS reader spells IPv6 in full
  [rules, "::1", 23, false],
];

for (const [r, host, port, want] of cases)
  test(`${formatPermitOpen(r)} ${want ? "allows" : "refuses"} ${host}:${port}`, () => {
    expect(permitsOpen(r, { host, port })).toBe(want);
  });

test("formatPermitOpen writes what ssh_config takes", () => {
  expect([formatPermitOpen(undefined), formatPermitOpen([]), formatPermitOpen(rules)]).toEqual(["any", "none", "127.0.0.1:8080 db.internal:* *:443 [::1]:22"]);
});
