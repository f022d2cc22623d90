// The few facts and calls that differ between Bun and Deno, behind one small interface; everything
// else in fwd uses node: APIs and web standards so it runs on both.

declare const Bun: { version: string; main: string } | undefined;
declare const Deno: { version: { deno: string } } | undefined;

export interface RuntimeInfo {
  name: "bun" | "deno" | "node";
  version: string;
  /** Running from a `bun build --compile` binary (plugins on disk then load through the runtime). */
  compiled: boolean;
}

export function runtimeInfo(): RuntimeInfo {
  if (typeof Bun !== "undefined") return { name: "bun", version: Bun.version, compiled: import.meta.url.includes("$bunfs") };
  if (typeof Deno !== "undefined") return { name: "deno", version: Deno.version.deno, compiled: false };
  return { name: "node", version: process.versions.node, compiled: false };
}
