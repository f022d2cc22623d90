// `--status [address:]port` (and `--status-open-metrics`): the status page beside any command that
// holds tunnels open. FWD_STATUS_MAX_READERS and FWD_STATUS_IDLE_TIMEOUT tune its bounds.

import type { Engine } from "../engine/engine.ts";
import { FwdError, fail, ok, type Result } from "../errors.ts";
import { parseListen } from "../vocab/address.ts";
import type { StatusControl } from "../status/app.ts";
import type { StatusOptions, StatusServer } from "../status/serve.ts";
import type { ParsedArgs } from "./argv.ts";
import type { Logger } from "./logger.ts";

export interface StatusRequest {
  /** `--status [address:]port`: no page when absent. */
  listen?: string | undefined;
  /** `--status-open-metrics`: Prometheus may scrape /metrics without the token. */
  openMetrics?: boolean;
  /** Live forwards (and reloads) through the page's API. */
  control?: StatusControl;
}

/** The page's flags as the ssh-style command and `fwd run` read them (the last --status wins). */
export function statusFlags(a: ParsedArgs, control?: StatusControl): StatusRequest {
  return { listen: a.longValues.status?.at(-1), openMetrics: a.long["status-open-metrics"], ...(control ? { control } : {}) };
}

export async function statusFromFlag(flags: StatusRequest, engine: Engine, log: Logger): Promise<Result<StatusServer | undefined>> {
  const value = flags.listen;
  if (value === undefined) {
    if (flags.openMetrics) return fail(new FwdError("E_CONFIG", "--status-open-metrics: no status page to open", "give --status [address:]port too"));
    return ok(undefined);
  }
  const bind = parseListen(value);
  if (!bind) return fail(new FwdError("E_CONFIG", `--status '${value}': expected [address:]port`, "e.g. --status 8022, --status 127.0.0.1:0"));
  const maxReaders = envCount("FWD_STATUS_MAX_READERS", 1, 10_000);
  if (!maxReaders.ok) return maxReaders;
  const idleTimeoutS = envCount("FWD_STATUS_IDLE_TIMEOUT", 5, 255);
  if (!idleTimeoutS.ok) return idleTimeoutS;
  const o: StatusOptions = { openMetrics: flags.openMetrics ?? false, ...(flags.control ? { control: flags.control } : {}) };
  if (maxReaders.value !== undefined) o.maxReaders = maxReaders.value;
  if (idleTimeoutS.value !== undefined) o.idleTimeoutS = idleTimeoutS.value;
  // Loaded only when asked for: Hono and the page cost ~5 MiB that a tunnel without a page never uses.
  const { startStatus } = await import("../status/serve.ts");
  const s = await startStatus(engine, bind, o);
  if (!s.ok) return s;
  // Printed once, as Jupyter does: opening it swaps the token for a cookie and drops it from the URL.
  log.print(`status ${s.value.loginUrl}`, { url: s.value.url, loginUrl: s.value.loginUrl, tokenFile: s.value.tokenFile });
  log.log("info", `status page: every request needs its token; scripts and Prometheus send Authorization: Bearer with the token in ${s.value.tokenFile}`);
  if (s.value.exposed) log.log("warn", "the status page listens beyond loopback over plain HTTP: the token crosses the network in clear", "prefer a loopback address and reach it through ssh -L");
  if (flags.openMetrics) log.log("info", "status page: /metrics is open to anyone who can reach it (--status-open-metrics)");
  return s;
}

function envCount(name: string, min: number, max: number): Result<number | undefined> {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return ok(undefined);
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) return fail(new FwdError("E_CONFIG", `${name}='${raw}': expected a whole number ${min}-${max}`, `unset it for the default`));
  return ok(n);
}
