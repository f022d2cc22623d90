// The session ciphers this build of ssh2 can use, and ssh_config's `Ciphers` list read against them,
// so a name ssh2 would reject (with a stack trace) is a usage error that lists what works instead.

// ssh2 keeps its algorithm lists in an internal module; it is plain data, computed once at load from
// what the runtime's crypto offers (plus chacha20-poly1305 from the patch in patches/).
// @ts-ignore: tsc finds no type declarations for it; Deno infers types from the JS (so not @ts-expect-error)
import * as ssh2Constants from "ssh2/lib/protocol/constants.js";
import { FwdError, fail, ok, type Result } from "../errors.ts";

const constants = ssh2Constants as unknown as { DEFAULT_CIPHER: readonly string[]; SUPPORTED_CIPHER: readonly string[] };

/** ssh2's own preference order, used when Ciphers is not set. */
export const DEFAULT_CIPHERS: readonly string[] = constants.DEFAULT_CIPHER;
/** Every cipher name fwd can negotiate here, defaults first. */
export const SUPPORTED_CIPHERS: readonly string[] = constants.SUPPORTED_CIPHER;

/**
 * `Ciphers` as OpenSSH reads it: a comma-separated list in preference order, or one that starts with
 * `+` (appended to the defaults), `-` (removed from them) or `^` (put before them). Names are exact:
 * unlike OpenSSH, `-` takes no wildcards. Returns the full list to offer.
 */
export function resolveCiphers(spec: string): Result<string[]> {
  const mode = /^[+\-^]/.exec(spec)?.[0] ?? "";
  const names = spec.slice(mode.length).split(",");
  const unknown = names.filter((n) => !SUPPORTED_CIPHERS.includes(n));
  if (unknown.length > 0) {
    const what = unknown.map((n) => (n === "" ? "an empty name" : `"${n}"`)).join(", ");
    return fail(new FwdError("E_CONFIG", `unknown cipher ${what}`, `supported ciphers: ${SUPPORTED_CIPHERS.join(", ")}`));
  }
  const list =
    mode === "+" ? [...DEFAULT_CIPHERS, ...names]
    : mode === "^" ? [...names, ...DEFAULT_CIPHERS]
    : mode === "-" ? DEFAULT_CIPHERS.filter((c) => !names.includes(c))
    : names;
  if (list.length === 0) return fail(new FwdError("E_CONFIG", `no cipher left after "${spec}"`, `keep at least one of: ${DEFAULT_CIPHERS.join(", ")}`));
  return ok([...new Set(list)]);
}
