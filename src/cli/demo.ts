// `fwd demo`: everything on loopback — a built-in SSH server, a sample web page behind it and a real
// -L tunnel through it — checked end to end, then left running for a person to open.

import { ed25519KeyPair } from "../demo/keys.ts";
import { startDemoServer } from "../demo/ssh-server.ts";
import { SAMPLE_MARKER, startSampleService } from "../demo/sample-service.ts";
import { FwdError } from "../errors.ts";
import { connectSsh } from "../ssh/connect.ts";
import { commandNamed, parseCommandFlags } from "./commands.ts";
import { Logger } from "./logger.ts";
import { EXIT } from "./exit-codes.ts";
import { engineFor, report, serve } from "./serve.ts";

export async function runDemo(argv: string[]): Promise<number> {
  const parsed = parseCommandFlags(commandNamed("demo")!, argv);
  const log = new Logger({ json: parsed.ok ? parsed.value.flags["--json"] === true : argv.includes("--json"), verbosity: 1 });
  if (!parsed.ok) return report(log, new FwdError("E_CONFIG", parsed.message, parsed.hint));
  const { flags, positionals } = parsed.value;
  const once = flags["--once"] === true;
  const port = typeof flags["--port"] === "string" ? Number(flags["--port"]) : 0;
  const statusFlag = typeof flags["--status"] === "string" ? flags["--status"] : undefined;
  // The demo shows the status page unless told not to (or only checking, with --once).
  const statusBind = flags["--no-status"] || (once && statusFlag === undefined) ? undefined : (statusFlag ?? "127.0.0.1:0");
  if (positionals.length > 0) return report(log, new FwdError("E_CONFIG", `demo: unexpected argument '${positionals[0]}'`, "see `fwd demo --help`"));
  if (!/^\d+$/.test(String(port)) || port > 65535) return report(log, new FwdError("E_CONFIG", "demo: --port must be 0-65535", "see `fwd demo --help`"));

  const service = await startSampleService();
  const clientKey = ed25519KeyPair();
  const server = await startDemoServer({
    clientPublicKey: clientKey.public,
    allow: (host, p) => host === "127.0.0.1" && p === service.port,
  });
  const label = `demo@127.0.0.1:${server.port}`;
  const engine = engineFor(
    {
      sessions: [
        {
          name: "demo",
          host: label,
          connect: (signal) =>
            connectSsh(
              {
                label,
                host: "127.0.0.1",
                port: server.port,
                user: "demo",
                identityFiles: [{ path: "(demo key in memory)", explicit: true, data: clientKey.private }],
                identitiesOnly: true,
                agentSocket: undefined,
                hostKey: { strict: "yes", host: "127.0.0.1", port: server.port, userFiles: [], globalFiles: [], pinned: [server.hostKey] },
                connectTimeoutMs: 10_000,
                keepaliveIntervalMs: 15_000,
                keepaliveCountMax: 3,
              },
              { prompt: undefined, log: (level, m) => log.log(level, m) },
              signal,
            ),
        },
      ],
      forwards: [{ kind: "local", id: "demo", bind: { host: "127.0.0.1", port }, target: { host: "127.0.0.1", port: service.port } }],
    },
    { exitOnForwardFailure: true },
  );
  const code = await serve(engine, {
    log,
    status: { listen: statusBind },
    beforeStart: (page) => page?.store.setScenario({ name: "demo", plugin: "built-in demo", options: { server: label, service: `127.0.0.1:${service.port}` } }),
    afterStart: async (bound, page) => {
      const b = bound[0]!.bound;
      const url = `http://${"host" in b ? b.host : "127.0.0.1"}:${"port" in b ? b.port : 0}/`;
      const check = await fetchThrough(url);
      if (!check.ok)
        return report(log, new FwdError("E_CHANNEL", `demo: the page did not come through the tunnel: ${check.why}`, "this is a bug in fwd or in this machine's loopback; run again and report it"));
      page?.store.setProbe({ ok: true, detail: `fetched ${check.bytes} bytes through SSH` });
      log.print(`demo: the tunnel works — fetched ${check.bytes} bytes through SSH`, { url });
      if (once) return EXIT.ok;
      log.print(`open ${url} (Ctrl-C to stop)`, { url });
      return undefined;
    },
  });
  await server.close();
  await service.close();
  return code;
}

async function fetchThrough(url: string): Promise<{ ok: true; bytes: number } | { ok: false; why: string }> {
  try {
    // Connection: close, so the check holds no connection open that Ctrl-C would wait for.
    const res = await fetch(url, { signal: AbortSignal.timeout(10_000), headers: { connection: "close" } });
    const body = await res.text();
    if (res.status !== 200 || !body.includes(SAMPLE_MARKER)) return { ok: false, why: `HTTP ${res.status}, unexpected body` };
    return { ok: true, bytes: Buffer.byteLength(body) };
  } catch (e) {
    return { ok: false, why: (e as Error).message };
  }
}
