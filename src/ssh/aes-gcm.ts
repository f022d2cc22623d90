// Hands ssh2 the in-place AES-GCM of src/runtime/aes-gcm-ffi.ts, once per process, before the first
// session: ssh2 picks its cipher classes when a key exchange completes. A patch to ssh2 (patches/)
// adds the setter; without libcrypto (or under Deno) ssh2 keeps node:crypto.

// A static import, so a compiled binary has the one copy that ssh2 itself loads (a require() at run
// time would find ssh2 on disk, or nothing). Plain JS without types, like constants.js in algorithms.ts.
// @ts-ignore: tsc finds no type declarations for it; Deno infers types from the JS (so not @ts-expect-error)
import * as ssh2Crypto from "ssh2/lib/protocol/crypto.js";
import { loadAesGcmFfi } from "../runtime/aes-gcm-ffi.ts";

let done: Promise<boolean> | undefined;

/** True when packets are now encrypted in place; FWD_NODE_CRYPTO=1 keeps node:crypto (to compare). */
export function useInPlaceAesGcm(): Promise<boolean> {
  done ??= (async () => {
    if (process.env.FWD_NODE_CRYPTO === "1") return false;
    const binding = await loadAesGcmFfi();
    if (!binding) return false;
    const crypto = ssh2Crypto as unknown as { setAESGCMBinding?: (b: unknown) => void };
    if (typeof crypto.setAESGCMBinding !== "function") return false;
    crypto.setAESGCMBinding(binding);
    return true;
  })();
  return done;
}
