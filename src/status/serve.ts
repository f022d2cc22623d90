// Starts the status page for an engine: the Hono app on the runtime's HTTP server, a fresh token in
// a file only the user can read, the Host rule that fits the bind address, and the bounds on idle
// connections and live readers.

import { randomBytes } from "node:crypto";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { join } from "node:path";
import { isLoopback, formatEndpoint, reachableHost, type TcpEndpoint } from "../vocab/endpoint.ts";
import type { Engine } from "../engine/engine.ts";
import { FwdError, fail, ok, type Result } from "../errors.ts";
import { serveHttp } from "../runtime/index.ts";
import { configDir } from "../scenario/paths.ts";
import { statusApp, type StatusControl } from "./app.ts";
import { HISTORY_STEP_MS } from "./history.ts";
import { StatusStore } from "./store.ts";
import { StreamHub } from "./stream.ts";

export interface StatusServer {
  store: StatusStore;
  /** The page's clean URL; `loginUrl` is the one to open (it carries the token once). */
  url: string;
  loginUrl: string;
  tokenFile: string;
  /** Listening beyond loopback. */
  exposed: boolean;
  stop(): Promise<void>;
}

export interface StatusOptions {
  /** GET /metrics without the token. */
  openMetrics?: boolean;
  /** Live event-stream readers at once; more get 503. */
  maxReaders?: number;
  /** Seconds a keep-alive connection may sit idle before the server closes it. */
  idleTimeoutS?: number;
  /** Live forwards and reloads through the API. */
  control?: StatusControl;
}

/** A person has a few tabs open, not dozens; each reader holds a connection and a couple of frames. */
export const DEFAULT_MAX_READERS = 16;
/** Well above the event stream's 1 s heartbeat, well below "never". */
export const DEFAULT_IDLE_TIMEOUT_S = 30;

export async function startStatus(engine: Engine, bind: TcpEndpoint, o: StatusOptions = {}): Promise<Result<StatusServer>> {
  const store = new StatusStore(engine);
  const token = randomBytes(24).toString("base64url");
  let port = 0;
  const hostOk = (host: string) => {
    const m = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(host);
    if (!m || Number(m[2]) !== port) return false;
    const name = m[1]!.replace(/^\[|\]$/g, "");
    // Names other than localhost could be rebound by a DNS server to this address: only IP literals.
    return name === "localhost" || net.isIP(name) !== 0;
  };
  const hub = new StreamHub({ snapshot: () => store.snapshot(), onChange: (fn) => store.onChange(fn), maxReaders: o.maxReaders ?? DEFAULT_MAX_READERS });
  const app = statusApp({ store, engine, hub, token, cookieName: () => `fwd-token-${port}`, openMetrics: o.openMetrics ?? false, hostOk, ...(o.control ? { control: o.control } : {}) });
  let server;
  try {
    server = await serveHttp(app.fetch, bind.host, bind.port, { idleTimeoutS: o.idleTimeoutS ?? DEFAULT_IDLE_TIMEOUT_S });
  } catch (e) {
    const inUse = (e as NodeJS.ErrnoException).code === "EADDRINUSE" || /in use/i.test((e as Error).message);
    return fail(new FwdError("E_BIND", `status page: bind ${formatEndpoint(bind)}: ${inUse ? "address in use" : (e as Error).message}`, "pick another port with --status [address:]port (0 picks a free one)", { cause: e }));
  }
  port = server.port;
  // History is sampled whether or not a page is open, so the first look already has the last minutes.
  store.sample();
  const sampler = setInterval(() => store.sample(), HISTORY_STEP_MS);
  sampler.unref?.();
  const dir = join(configDir(), "status");
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const tokenFile = join(dir, `${port}.token`);
  writeFileSync(tokenFile, token + "\n", { mode: 0o600 });
  const url = `http://${formatEndpoint({ host: reachableHost(bind.host), port })}/`;
  writeFileSync(join(dir, "last.json"), JSON.stringify({ url, tokenFile, pid: process.pid }) + "\n", { mode: 0o600 });
  return ok({
    store,
    url,
    loginUrl: `${url}?token=${token}`,
    tokenFile,
    exposed: !isLoopback(bind),
    stop: async () => {
      clearInterval(sampler);
      hub.close();
      await server.stop();
      // The token dies with the page.
      rmSync(tokenFile, { force: true });
    },
  });
}
