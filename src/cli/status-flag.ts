// `--status [address:]port`: the status page beside any command that holds tunnels open.

import type { Engine } from "../engine/engine.ts";
import { FwdError, fail, ok, type Result } from "../errors.ts";
import { parseListen } from "../plugin/schemas.ts";
import { startStatus, type StatusServer } from "../status/serve.ts";
import type { Logger } from "./logger.ts";

export async function statusFromFlag(value: string | undefined, engine: Engine, log: Logger): Promise<Result<StatusServer | undefined>> {
  if (value === undefined) return ok(undefined);
  const bind = parseListen(value);
  if (!bind) return fail(new FwdError("E_CONFIG", `--status '${value}': expected [address:]port`, "e.g. --status 8022, --status 127.0.0.1:0"));
  const s = await startStatus(engine, bind);
  if (!s.ok) return s;
  const link = s.value.tokenForReads ? `${s.value.url}?token=$(cat ${s.value.tokenFile})` : s.value.url;
  log.print(`status ${link}`, { url: s.value.url, tokenFile: s.value.tokenFile });
  if (s.value.tokenForReads) log.log("warn", "the status page listens beyond loopback: every request needs its token", `the token is in ${s.value.tokenFile}`);
  else log.log("info", `status page actions (reconnect, close, stop) need the token in ${s.value.tokenFile}`);
  return s;
}
