// valibot's issues said for a person: every issue of a file in one report, a missing key as
// "missing required option bastion" rather than `Invalid key: Expected "bastion" but received undefined`.

import type * as v from "valibot";

type Issue = v.BaseIssue<unknown>;

/** One `× …` line (and `→ at path` when it helps) per issue; `noun` names what a key is ("option", "key"). */
export function issueLines(issues: readonly Issue[], noun: string, prefix: string[] = []): string[] {
  return issues.map((i) => {
    const name = (i.path?.map((p) => String(p.key)) ?? []).join(".");
    const at = [...prefix, ...(name ? [name] : [])].join(".");
    const where = prefix.length > 0 ? `\n  → at ${at}` : "";
    if (name && i.kind === "schema" && i.received === "undefined" && i.expected !== "never") return `× missing required ${noun} ${name}${where}`;
    if (name && i.kind === "schema" && i.expected === "never") return `× unknown ${noun} ${name}${where}`;
    return `× ${i.message}${at ? `\n  → at ${at}` : ""}`;
  });
}
