// `fwd -W host:port …`: this process's stdin and stdout become one connection from the server to
// host:port, so OpenSSH can use fwd as its ProxyCommand (`ssh -o ProxyCommand='fwd -W %h:%p bastion' b`).

import type { Endpoint } from "../vocab/endpoint.ts";
import { FwdError } from "../errors.ts";
import type { SshDeps, SshTarget } from "../ssh/connect.ts";
import { connectRoute } from "../ssh/route.ts";
import { EXIT } from "./exit-codes.ts";
import type { Logger } from "./logger.ts";
import { report } from "./serve.ts";

export async function runStdioForward(hops: SshTarget[], target: Endpoint, deps: SshDeps, log: Logger): Promise<number> {
  const link = await connectRoute(hops, deps);
  if (!link.ok) return report(log, link.error);
  const ch = await link.value.open(target, { host: "127.0.0.1", port: 0 });
  if (!ch.ok) {
    link.value.close();
    return report(log, new FwdError("E_CONNECT", ch.error.message, ch.error.hint, { cause: ch.error }));
  }
  const channel = ch.value;
  process.stdin.pipe(channel);
  channel.pipe(process.stdout);
  const lost = await Promise.race([
    new Promise<boolean>((r) => channel.once("close", () => r(false))),
    link.value.ended.then(() => true),
  ]);
  link.value.close();
  return lost ? EXIT.lost : EXIT.ok;
}
