// A route to a server: the jump hosts (-J, or ProxyJump in ssh_config) and then the server itself,
// each hop resolved through ssh_config with its own user, port, identity and host-key check. As
// with ssh, command-line -o/-i settings apply to the final host only; jump hosts take theirs from
// ssh_config (and from their own user@host:port).

import { parseDestination, type Destination } from "../vocab/address.ts";
import { FwdError, fail, ok, type Result } from "../errors.ts";
import type { SshTarget } from "../ssh/connect.ts";
import type { HostConfig } from "./ssh-config.ts";
import { resolveTarget, type ConfigContext } from "./target.ts";

export interface Route {
  /** The final host's settings. */
  host: HostConfig;
  /** Jump hosts first, the final host last. */
  hops: SshTarget[];
}

export function resolveRoute(ctx: ConfigContext, dest: Destination, overrides: string[], jump: string | undefined): Result<Route> {
  const final = resolveTarget(ctx, dest, overrides);
  if (!final.ok) return final;
  // `-J none`, as `ProxyJump none`, means no jump host (it overrides one from ssh_config).
  const chain = jump === "none" ? undefined : (jump ?? final.value.host.proxyJump);
  const hops: SshTarget[] = [];
  for (const spec of chain ? chain.split(",") : []) {
    const d = parseDestination(spec.trim());
    if (!d.ok) return fail(new FwdError("E_CONFIG", `jump host '${spec}': ${d.error.message}`, "write -J [user@]host[:port][,[user@]host[:port]…]"));
    const hop = resolveTarget(ctx, d.value, []);
    if (!hop.ok) return hop;
    hops.push(hop.value.target);
  }
  return ok({ host: final.value.host, hops: [...hops, final.value.target] });
}
