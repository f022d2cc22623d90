// serve(), the one place every command turns its plan into a running engine, against a fake Link (the
// engine's boundary; no SSH here: the commands' e2e tests run it against sshd). The status page comes
// up before connecting and goes at the end, a failed start and a lost session become their exit codes,
// SIGHUP and SIGINT do what the command says, the collection after a burst runs while serving and
// stops with it. And no command in src/cli wires any of these itself.

import { afterAll, beforeAll, describe, expect, spyOn, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Connect, Link } from "../../src/engine/link.ts";
import type { EngineEvent } from "../../src/engine/events.ts";
import { FwdError, fail, ok } from "../../src/errors.ts";
import { Logger } from "../../src/cli/logger.ts";
import { engineFor, serve } from "../../src/cli/serve.ts";
import type { StatusServer } from "../../src/status/serve.ts";

const home = mkdtempSync(join(tmpdir(), "fwd-serve-"));
const saved = process.env.XDG_CONFIG_HOME;
beforeAll(() => void (process.env.XDG_CONFIG_HOME = home));
afterAll(() => {
  if (saved === undefined) delete process.env.XDG_CONFIG_HOME;
  else process.env.XDG_CONFIG_HOME = saved;
  rmSync(home, { recursive: true, force: true });
});

/** A link that ends when told to; close() ends it with undefined, as the ssh2 adapter does. */
function fakeLink(): Link & { lose(e: FwdError): void } {
  let end!: (e: FwdError | undefined) => void;
  const ended = new Promise<FwdError | undefined>((r) => (end = r));
  return {
    ended,
    open: async () => fail(new FwdError("E_CHANNEL", "fake", "")),
    listen: async () => fail(new FwdError("E_CHANNEL", "fake", "")),
    onIncoming: () => () => {},
    close: () => end(undefined),
    lose: (e) => end(e),
  };
}

/** An engine of one session and no forwards, its connects counted, and a log whose lines are kept. */
function setup(connect: Connect = async () => ok(fakeLink()), reconnect = false) {
  const lines: string[] = [];
  const log = new Logger({ json: false, verbosity: 1, out: (l) => lines.push(l), err: (l) => lines.push(l) });
  let connects = 0;
  const engine = engineFor(
    { sessions: [{ name: "main", host: "u@fake", connect: (s) => (connects++, connect(s)) }], forwards: [] },
    { exitOnForwardFailure: true, reconnect: { enabled: reconnect, maxRetries: Infinity, initialDelayMs: 5, maxDelayMs: 10, stableAfterMs: 60_000 } },
  );
  return { engine, log, lines, connects: () => connects };
}

const until = async (cond: () => boolean, ms = 3_000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await Bun.sleep(5);
  }
};

const signalListeners = () => ["SIGINT", "SIGTERM", "SIGHUP"].map((s) => process.listenerCount(s));

describe("serve", () => {
  test("the status page is up before connecting, handed to the command, and gone (token too) at the end", async () => {
    const { engine, log, lines } = setup();
    let before: StatusServer | undefined;
    let during = 0;
    const code = await serve(engine, {
      log,
      status: { listen: "127.0.0.1:0" },
      beforeStart: (page) => {
        before = page;
        expect(engine.snapshot().sessions[0]!.state).not.toBe("up");
      },
      afterStart: async (bound, page) => {
        expect(bound).toEqual([]);
        expect(page).toBe(before!);
        during = (await fetch(page!.url)).status;
        return 0;
      },
    });
    expect(code).toBe(0);
    expect(during).toBe(401); // the page answered, and wants its token
    expect(lines[0]).toMatch(/^status http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]+$/);
    expect(await fetch(before!.url).then(() => "answered", () => "refused")).toBe("refused");
    expect(existsSync(before!.tokenFile)).toBe(false);
  });

  test("a --status that cannot be read is a config error (exit 2) before any connect", async () => {
    const { engine, log, lines, connects } = setup();
    expect(await serve(engine, { log, status: { listen: "nope" } })).toBe(2);
    expect(lines).toEqual(["fwd: --status 'nope': expected [address:]port\n  hint: e.g. --status 8022, --status 127.0.0.1:0"]);
    expect(connects()).toBe(0);
  });

  test("a failed start: the command's line, then the error; the code from its kind", async () => {
    const { engine, log, lines } = setup(async () => fail(new FwdError("E_AUTH", "u@fake: permission denied", "check the key")));
    const code = await serve(engine, { log, events: () => {}, startFailed: (e) => log.print(`✗ ssh: ${e.message}`) });
    expect(code).toBe(4);
    expect(lines).toEqual(["✗ ssh: u@fake: permission denied", "fwd: u@fake: permission denied\n  hint: check the key"]);
  });

  test("undefined from afterStart keeps serving until the session is lost: its error and exit 7", async () => {
    const link = fakeLink();
    const { engine, log, lines } = setup(async () => ok(link));
    let served = false;
    const run = serve(engine, { log, events: () => {}, afterStart: async () => ((served = true), undefined) });
    await until(() => served);
    link.lose(new FwdError("E_CLOSED", "u@fake: connection lost", "is the server up?"));
    expect(await run).toBe(7);
    expect(lines).toEqual(["fwd: u@fake: connection lost\n  hint: is the server up?"]);
  });

  test("SIGHUP reconnects now, or does what the command says; SIGINT stops with the command's code; no handler stays", async () => {
    const before = signalListeners();
    const a = setup(undefined, true);
    let served = false;
    const run = serve(a.engine, { log: a.log, events: () => {}, afterStart: async () => ((served = true), undefined) });
    await until(() => served);
    process.emit("SIGHUP", "SIGHUP");
    await until(() => a.connects() === 2);
    expect(a.lines).toEqual(["SIGHUP: reconnecting now"]);
    process.emit("SIGINT", "SIGINT");
    expect(await run).toBe(0);
    expect(signalListeners()).toEqual(before);

    const b = setup();
    const hangups: string[] = [];
    served = false;
    const run2 = serve(b.engine, { log: b.log, events: () => {}, hangup: () => hangups.push("reload"), interrupted: (s) => (s === "SIGTERM" ? 143 : 130), afterStart: async () => ((served = true), undefined) });
    await until(() => served);
    process.emit("SIGHUP", "SIGHUP");
    expect(hangups).toEqual(["reload"]);
    expect(b.connects()).toBe(1);
    process.emit("SIGTERM", "SIGTERM");
    expect(await run2).toBe(143);
    expect(signalListeners()).toEqual(before);
  });

  test("a burst of closed connections is collected once it has gone quiet, while serving and not after", async () => {
    const gc = spyOn(Bun, "gc");
    try {
      const { engine, log } = setup();
      let served = false;
      const run = serve(engine, { log, events: () => {}, afterStart: async () => ((served = true), undefined) });
      await until(() => served);
      const burst = () => {
        for (let i = 0; i < 256; i++) engine.bus.emit({ type: "connection-close", forward: "f", conn: i, bytesUp: 0, bytesDown: 0, ageMs: 1 } satisfies EngineEvent);
      };
      // The start-up trim (a second after the session is up, then 200 ms for the code to go) collects first.
      await until(() => gc.mock.calls.length === 1);
      burst();
      await until(() => gc.mock.calls.length === 2);
      engine.kill();
      expect(await run).toBe(0);
      burst();
      // A quiet second, 200 ms, then the collection: had it outlived serve(), it would have run by now.
      await Bun.sleep(1_800);
      expect(gc.mock.calls.length).toBe(2);
    } finally {
      gc.mockRestore();
    }
  });
});

describe("every command goes through serve()", () => {
  const CLI = join(import.meta.dir, "..", "..", "src", "cli");
  // What serve() owns (called, not defined): a command doing one itself would get it unlike the others.
  const WIRING = [/new Engine\(/, /(?<!function )\bcollectAfterBursts\(/, /(?<!function )\bonSignals\(/, /(?<!function )\bstatusFromFlag\(/, /(?<!function )\bnotifyReady\(/, /\bengine\.start\(/];

  test("no file in src/cli but serve.ts builds, starts or signals an engine, or opens the page", () => {
    const found: string[] = [];
    for (const f of readdirSync(CLI).filter((x) => x.endsWith(".ts") && x !== "serve.ts")) {
      const text = readFileSync(join(CLI, f), "utf8");
      for (const re of WIRING) if (re.test(text)) found.push(`${f}: ${re.source}`);
    }
    expect(found).toEqual([]);
  });

  test("each command that connects calls serve()", () => {
    for (const f of ["ssh-command.ts", "run.ts", "check.ts", "up.ts", "demo.ts"]) expect({ f, serves: /\bserve\(engine, \{/.test(readFileSync(join(CLI, f), "utf8")) }).toEqual({ f, serves: true });
  });
});
