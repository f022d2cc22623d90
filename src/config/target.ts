// From a destination (`[user@]host[:port]` or an ssh_config alias) plus command-line settings to a
// fully resolved SSH target, reading ssh_config as ssh does. Shared by `fwd host …` and `fwd run`.

import { spawnSync } from "node:child_process";
import { homedir } from "node:os";
import { loadSshConfig, resolveHost, type HostConfig, type SshConfigSource } from "./ssh-config.ts";
import { ok, type Result } from "../errors.ts";
import type { SshTarget } from "../ssh/connect.ts";
import type { Destination } from "../vocab/address.ts";

/** fwd's own default for ConnectTimeout, which here bounds TCP, key exchange and authentication; ssh waits for TCP's timeout. */
const DEFAULT_CONNECT_TIMEOUT_S = 30;

export interface ConfigContext {
  src: SshConfigSource;
  home: string;
  localUser: string;
}

/** Reads ssh_config once (`-F file`, `none`, or ~/.ssh/config) for every target resolved after. */
export async function loadConfigContext(file: string | undefined): Promise<Result<ConfigContext>> {
  const home = process.env.HOME || homedir();
  const src = await loadSshConfig(file, home);
  return src.ok ? ok({ src: src.value, home, localUser: currentUser() }) : src;
}

/**
 * `overrides` are -o style settings that win over the file (first value wins, as in ssh); the
 * destination's own user and port come first of all.
 */
export function resolveTarget(ctx: ConfigContext, dest: Destination, overrides: string[]): Result<{ host: HostConfig; target: SshTarget }> {
  const all = [...(dest.user ? [`User=${dest.user}`] : []), ...(dest.port ? [`Port=${dest.port}`] : []), ...overrides];
  const resolved = resolveHost(ctx.src, dest.host, all, { localUser: ctx.localUser, home: ctx.home });
  if (!resolved.ok) return resolved;
  const h = resolved.value;
  const user = h.user ?? ctx.localUser;
  const label = `${user}@${h.alias === h.hostName ? h.hostName : `${h.alias} (${h.hostName})`}${h.port === 22 ? "" : `:${h.port}`}`;
  return ok({
    host: h,
    target: {
      label,
      host: h.hostName,
      port: h.port,
      user,
      identityFiles: h.identityFiles.map((path) => ({ path, explicit: !h.identityFilesAreDefault })),
      identitiesOnly: h.identitiesOnly,
      agentSocket: agentSocket(h.identityAgent),
      hostKey: {
        strict: h.strictHostKeyChecking,
        host: h.hostName,
        port: h.port,
        userFiles: h.userKnownHostsFiles,
        globalFiles: h.globalKnownHostsFiles,
      },
      connectTimeoutMs: (h.connectTimeout ?? DEFAULT_CONNECT_TIMEOUT_S) * 1000,
      keepaliveIntervalMs: h.serverAliveInterval * 1000,
      keepaliveCountMax: h.serverAliveCountMax,
      ...(h.ciphers ? { ciphers: h.ciphers } : {}),
      compression: h.compression,
    },
  });
}

/** IdentityAgent as ssh reads it: none, SSH_AUTH_SOCK, $VAR or a path; SSH_AUTH_SOCK when unset. */
function agentSocket(setting: string | undefined): string | undefined {
  if (setting === "none") return undefined;
  if (setting === undefined || setting === "SSH_AUTH_SOCK") return process.env.SSH_AUTH_SOCK || undefined;
  if (setting.startsWith("$")) return process.env[setting.slice(1)] || undefined;
  return setting;
}

/** The local user name: $USER, else the password database (Bun's os.userInfo() says "unknown" without $USER). */
function currentUser(): string {
  if (process.env.USER) return process.env.USER;
  const r = spawnSync("id", ["-un"]);
  return r.stdout?.toString().trim() || "root";
}
