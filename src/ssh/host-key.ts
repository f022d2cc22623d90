// Host key policy, as OpenSSH applies StrictHostKeyChecking: a known key passes, a changed or revoked
// key never does, an unknown one passes only under accept-new/no (recorded) or a yes at the prompt.

import { FwdError, ok } from "../errors.ts";
import {
  appendKnownHost,
  checkHostKey,
  fingerprintSha256,
  keyTypeOf,
  knownHostsLine,
  knownTypesFor,
  loadKnownHosts,
} from "./known-hosts.ts";
import type { Prompter } from "./prompt.ts";

export type StrictHostKeyChecking = "yes" | "accept-new" | "no" | "ask";

export interface HostKeyPolicy {
  strict: StrictHostKeyChecking;
  /** The name known_hosts is searched for (HostName, or HostKeyAlias). */
  host: string;
  port: number;
  userFiles: string[];
  globalFiles: string[];
  /** Keys accepted without any file (the demo pins its own server's key). */
  pinned?: Buffer[];
}

export interface HostKeyCheck {
  /** serverHostKey algorithms to offer: types already known for this host first, like OpenSSH. */
  algorithms: string[];
  verify(blob: Buffer): Promise<boolean>;
  /** Why verify() said no, once it has. */
  failure: FwdError | undefined;
}

const DEFAULT_ALGORITHMS = [
  "ssh-ed25519",
  "ecdsa-sha2-nistp256",
  "ecdsa-sha2-nistp384",
  "ecdsa-sha2-nistp521",
  "rsa-sha2-512",
  "rsa-sha2-256",
];
const ALGORITHMS_OF_TYPE: Record<string, string[]> = { "ssh-rsa": ["rsa-sha2-512", "rsa-sha2-256"] };

export async function prepareHostKeyCheck(
  p: HostKeyPolicy,
  where: string,
  log: (msg: string) => void,
  prompt: Prompter | undefined,
): Promise<HostKeyCheck> {
  const loaded = p.pinned ? ok([]) : await loadKnownHosts([...p.userFiles, ...p.globalFiles]);
  const entries = loaded.ok ? loaded.value : [];
  const known = knownTypesFor(entries, p.host, p.port).flatMap((t) => ALGORITHMS_OF_TYPE[t] ?? [t]);
  const check: HostKeyCheck = {
    algorithms: [...new Set([...known.filter((a) => DEFAULT_ALGORITHMS.includes(a)), ...DEFAULT_ALGORITHMS])],
    // A known_hosts others can write is refused before any key is looked at.
    failure: loaded.ok ? undefined : loaded.error,
    async verify(blob) {
      if (!loaded.ok) return false;
      const fp = `${keyTypeOf(blob) ?? "unknown-type"} ${fingerprintSha256(blob)}`;
      const refuse = (message: string, hint: string, reason: string) => {
        check.failure = new FwdError("E_HOSTKEY", `${where}: ${message}`, hint, { reason });
        return false;
      };
      if (p.pinned) {
        if (p.pinned.some((k) => k.equals(blob))) return true;
        return refuse(`host key ${fp} is not the expected one`, "the server is not the one this process started", "changed");
      }
      const verdict = checkHostKey(entries, p.host, p.port, blob);
      const name = p.port === 22 ? p.host : `[${p.host}]:${p.port}`;
      switch (verdict.kind) {
        case "match":
          return true;
        case "revoked":
          return refuse(`host key ${fp} is revoked (${verdict.entry.file}:${verdict.entry.line})`, "do not connect: the key was marked @revoked; ask the server's admin", "revoked");
        case "changed":
          return refuse(
            `HOST KEY CHANGED: the server offers ${fp}, but ${verdict.stored.file}:${verdict.stored.line} holds a different ${verdict.stored.keyType} key`,
            `someone may be intercepting the connection, or the server was reinstalled. Only if you know the key changed: ssh-keygen -R '${name}' -f ${verdict.stored.file}`,
            "changed",
          );
        case "unknown":
          break;
      }
      const others = verdict.otherTypes.length ? ` (known with other key types: ${verdict.otherTypes.join(", ")})` : "";
      let accept = p.strict === "accept-new" || p.strict === "no";
      if (p.strict === "ask") {
        const answer = prompt
          ? await prompt(`The authenticity of host '${name}' can't be established${others}.\n${fp}.\nAre you sure you want to continue connecting (yes/no)? `, { secret: false })
          : undefined;
        if (answer === undefined)
          return refuse(`host key not known: ${fp}${others}`, `no terminal to ask: verify the fingerprint, then add it (ssh-keyscan -p ${p.port} ${p.host} >> ~/.ssh/known_hosts) or pass -o StrictHostKeyChecking=accept-new`, "unknown");
        accept = /^y(es)?$/i.test(answer.trim());
        if (!accept) return refuse(`host key not accepted: ${fp}`, "answer yes once you have checked the fingerprint", "unknown");
      }
      if (!accept)
        return refuse(`host key not known: ${fp}${others}`, `verify the fingerprint, then add it (ssh-keyscan -p ${p.port} ${p.host} >> ~/.ssh/known_hosts) or connect once with -o StrictHostKeyChecking=accept-new`, "unknown");
      const file = p.userFiles[0];
      if (file) {
        // As OpenSSH does, a known_hosts that cannot be written costs a warning, not the connection.
        const added = await appendKnownHost(file, knownHostsLine(p.host, p.port, blob));
        log(added.ok ? `permanently added '${name}' (${fp}) to ${file}` : `${added.error.message} (${added.error.hint})`);
      }
      return true;
    },
  };
  return check;
}
