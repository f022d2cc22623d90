// The scenarios `fwd up` runs in one engine, and how a reload changes them: a new file starts, a
// removed one stops, a changed one restarts, an unchanged one is left alone (its connections too).
// Sessions whose hops are the same (user, host, port, jump chain, identity, options) are shared: the
// key is the whole resolved route, so two scenarios differing in any setting get a session each.

import { readdirSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import * as v from "valibot";
import type { BoundForward, Engine } from "../engine/engine.ts";
import type { EngineEvent } from "../engine/events.ts";
import type { ForwardSpec } from "../vocab/forward.ts";
import { FwdError, fail, ok, type Result } from "../errors.ts";
import { runProbe } from "../plugin/deadline.ts";
import { routeLabel } from "../ssh/route.ts";
import type { ProbeInfo, ScenarioStatus } from "../status/store.ts";
import { Logger } from "./logger.ts";
import { probeContext } from "./probe-context.ts";
import { prepareScenario, type Prepared } from "./scenario-setup.ts";

export interface FleetOptions {
  dir: string;
  /** Only these scenarios (file names without .toml); all of the folder when empty. */
  names: string[];
  /** ssh settings for every scenario's hops (-F, -o, -i, -c, -v, -q …), as `fwd run` takes them. */
  sshArgs: string[];
  json: boolean;
  verbosity: number;
  /** The log for what belongs to no scenario. */
  log: Logger;
  /** Something changed that the status page shows (a probe, a reload). */
  changed: () => void;
}

export interface ReloadReport {
  started: string[];
  stopped: string[];
  restarted: string[];
  unchanged: string[];
  problems: { file: string; error: string; code: string }[];
}

interface Running {
  name: string;
  file: string;
  text: string;
  plugin: string;
  forwards: string[];
  sessions: string[];
  /** The plan's first session's engine name: where a live forward `--via SCENARIO` goes. */
  firstSession: string;
  probe?: ProbeInfo;
  /** The file changed into something broken: this older version keeps running. */
  error?: string;
}

/** Errors another attempt cannot fix: such a scenario is stopped and reported, not retried. */
const PERMANENT = new Set(["E_AUTH", "E_HOSTKEY", "E_CONFIG"]);
const USAGE = "a scenario file: plugin, name, [options]; see `fwd scenarios show PLUGIN`";

export class Fleet {
  private running = new Map<string, Running>();
  private broken = new Map<string, { name: string; error: string }>();
  /** Engine session → its route key, who uses it, and how its first connection went. */
  private sessions = new Map<string, { key: string; users: Set<string>; ready: Promise<Result<void>> }>();
  private owner = new Map<string, string>();
  private loggers = new Map<string, Logger>();
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly engine: Engine,
    private readonly o: FleetOptions,
  ) {}

  /** Reads the folder again and applies the difference; one reload at a time, in order. */
  reload(): Promise<ReloadReport> {
    const next = this.queue.then(() => this.apply());
    this.queue = next.catch(() => undefined);
    return next;
  }

  get size(): number {
    return this.running.size;
  }

  list(): ScenarioStatus[] {
    const up = [...this.running.values()].map((r) => ({
      name: r.name,
      file: r.file,
      plugin: r.plugin,
      state: "running" as const,
      forwards: r.forwards,
      sessions: r.sessions,
      ...(r.probe ? { probe: r.probe } : {}),
      ...(r.error ? { error: r.error } : {}),
    }));
    const down = [...this.broken].map(([file, b]) => ({ name: b.name, file, state: "failed" as const, forwards: [], sessions: [], error: b.error }));
    return [...up, ...down].sort((a, b) => a.name.localeCompare(b.name));
  }

  /** The engine session a live forward rides on: a scenario's first, or a session by name. */
  via(name: string | undefined): Result<string> {
    const names = this.engine.sessionNames();
    if (name === undefined) {
      if (names.length === 1) return ok(names[0]!);
      return fail(new FwdError("E_CONFIG", `forward add: this fwd runs ${this.running.size} scenarios: say which with --via SCENARIO`, `scenarios: ${[...this.running.values()].map((r) => r.name).join(", ") || "none"}`));
    }
    const r = [...this.running.values()].find((x) => x.name === name);
    if (r) return ok(r.firstSession);
    if (names.includes(name)) return ok(name);
    return fail(new FwdError("E_CONFIG", `forward add: no scenario or session '${name}'`, `scenarios: ${[...this.running.values()].map((x) => x.name).join(", ")}; sessions: ${names.join(", ")}`));
  }

  /** Sends an engine event to the log of the scenario it belongs to (`[wiki] listening …`). */
  route(e: EngineEvent): void {
    if (e.type === "session") {
      const users = [...(this.sessions.get(e.session)?.users ?? [])];
      return (users.length ? this.logger(users.join(",")) : this.o.log).event(e);
    }
    if ("forward" in e) {
      const owner = this.owner.get(e.forward);
      return (owner ? this.logger(owner) : this.o.log).event(e);
    }
    const id = [...this.owner.keys()].find((f) => e.message.startsWith(`${f}:`));
    (id ? this.logger(this.owner.get(id)!) : this.o.log).event(e);
  }

  /** Stops everything (the end of `fwd up`). */
  stopAll(): void {
    for (const r of [...this.running.values()]) this.stop(r);
  }

  private async apply(): Promise<ReloadReport> {
    const report: ReloadReport = { started: [], stopped: [], restarted: [], unchanged: [], problems: [] };
    const files = this.scan(report);
    this.broken.clear();
    for (const [file, r] of [...this.running]) {
      if (files.includes(file)) continue;
      this.stop(r);
      report.stopped.push(r.name);
    }
    for (const file of files) {
      const name = basename(file, ".toml");
      const problem = (e: FwdError) => {
        report.problems.push({ file, error: e.message, code: e.code });
        this.o.log.log("error", e.message, e.hint);
      };
      let text: string;
      try {
        text = readFileSync(file, "utf8");
      } catch (e) {
        problem(new FwdError("E_CONFIG", `${file}: ${(e as Error).message}`, "check the file"));
        this.broken.set(file, { name, error: (e as Error).message });
        continue;
      }
      const old = this.running.get(file);
      if (old && old.text === text) {
        report.unchanged.push(old.name);
        continue;
      }
      const prepared = await this.prepare(file, name);
      const clash = prepared.ok ? [...this.running.values()].find((r) => r.name === prepared.value.name && r.file !== file) : undefined;
      const bad = !prepared.ok ? prepared.error : clash ? new FwdError("E_CONFIG", `${file}: scenario name "${clash.name}" is taken by ${clash.file}`, "give one of them another name = …") : undefined;
      if (bad) {
        problem(bad);
        if (old) {
          old.error = `${bad.message} (the version read before keeps running)`;
          report.unchanged.push(old.name);
        } else this.broken.set(file, { name, error: bad.message });
        continue;
      }
      const p = prepared.ok ? prepared.value : undefined!;
      if (old) this.stop(old);
      const started = await this.start(p, file, text);
      if (!started.ok) {
        problem(started.error);
        this.broken.set(file, { name: p.name, error: started.error.message });
        if (old) report.stopped.push(old.name);
        continue;
      }
      (old ? report.restarted : report.started).push(p.name);
    }
    this.o.changed();
    return report;
  }

  /** The folder's scenario files (or the named ones), sorted; a folder that cannot be read is a problem. */
  private scan(report: ReloadReport): string[] {
    if (this.o.names.length) {
      const out: string[] = [];
      for (const n of this.o.names) {
        if (!/^[A-Za-z0-9_][A-Za-z0-9._-]*$/.test(n)) {
          report.problems.push({ file: n, error: `scenario name "${n.replace(/[\x00-\x1f\x7f]/g, "?")}": expected letters, digits, . _ or -`, code: "E_CONFIG" });
          continue;
        }
        out.push(join(this.o.dir, `${n}.toml`));
      }
      return out;
    }
    try {
      return readdirSync(this.o.dir)
        .filter((f) => f.endsWith(".toml") && !f.startsWith("."))
        .sort()
        .map((f) => join(this.o.dir, f));
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      report.problems.push({ file: this.o.dir, error: `${this.o.dir}: ${err.code === "ENOENT" ? "no such folder" : err.message}`, code: "E_CONFIG" });
      this.o.log.log("error", `${this.o.dir}: ${err.code === "ENOENT" ? "no such folder" : err.message}`, "put scenario files NAME.toml there (see `fwd scenarios`), or name another folder with --dir");
      return [];
    }
  }

  private prepare(file: string, name: string): Promise<Result<Prepared>> {
    return prepareScenario(["-f", file, ...this.o.sshArgs], this.logger(name), USAGE, { name });
  }

  private async start(p: Prepared, file: string, text: string): Promise<Result<void>> {
    const rename = new Map<string, string>();
    const r: Running = { name: p.name, file, text, plugin: p.plugin.name, forwards: [], sessions: [], firstSession: "" };
    this.running.set(file, r);
    for (const s of p.concrete.engine.sessions) {
      const hops = p.concrete.targets[s.name]!;
      const key = JSON.stringify(hops);
      let engineName = [...this.sessions].find(([, x]) => x.key === key)?.[0];
      if (engineName === undefined) {
        const label = routeLabel(hops);
        engineName = label;
        for (let i = 2; this.engine.sessionNames().includes(engineName) || this.sessions.has(engineName); i++) engineName = `${label}#${i}`;
        this.sessions.set(engineName, { key, users: new Set(), ready: this.engine.addSession({ ...s, name: engineName, keepTrying: true, reconnect: p.reconnect }) });
      }
      this.sessions.get(engineName)!.users.add(p.name);
      rename.set(s.name, engineName);
      r.sessions.push(engineName);
    }
    r.firstSession = r.sessions[0] ?? "";
    for (const name of r.sessions) {
      const first = await this.sessions.get(name)!.ready;
      if (first.ok) continue;
      if (PERMANENT.has(first.error.code) || !p.reconnect.enabled) {
        this.stop(r);
        return fail(new FwdError(first.error.code, `${file}: ${first.error.message}`, first.error.hint));
      }
      this.logger(p.name).log("warn", `${first.error.message} (will keep trying; the other scenarios carry on)`, first.error.hint);
    }
    const bound: BoundForward[] = [];
    const planFirst = p.concrete.engine.sessions[0]!.name;
    for (const f of p.concrete.engine.forwards) {
      const via = (n: string) => rename.get(n)!;
      const spec = { ...f, via: typeof f.via === "object" ? { ...f.via, pool: f.via.pool.map(via) } : via(f.via ?? planFirst) } as ForwardSpec;
      this.owner.set(spec.id, p.name);
      const added = await this.engine.addForward(spec);
      if (!added.ok) {
        this.owner.delete(spec.id);
        this.stop(r);
        return fail(new FwdError(added.error.code, `${file}: ${added.error.message}`, added.error.hint));
      }
      r.forwards.push(spec.id);
      if (added.value) bound.push({ spec, bound: added.value });
    }
    void this.afterStart(p, r, bound, rename);
    return ok(undefined);
  }

  /** The plugin's usage lines and its probe, as `fwd run` shows them, for this scenario. */
  private async afterStart(p: Prepared, r: Running, bound: BoundForward[], rename: Map<string, string>): Promise<void> {
    const log = this.logger(p.name);
    const ctx = probeContext({ link: (n) => this.engine.link(n === undefined ? r.firstSession : (rename.get(n) ?? n)) }, bound, p.concrete.names);
    type Options = v.InferOutput<typeof p.plugin.options>;
    for (const line of p.plugin.usage?.(p.options as Options, ctx.bound) ?? []) log.print(line);
    if (!p.plugin.probe) return;
    const result = await runProbe(p.plugin, p.options as Options, ctx);
    if (this.running.get(r.file) !== r) return; // stopped or restarted meanwhile
    r.probe = { ok: result.ok, detail: result.detail, at: Date.now() };
    if (result.ok) log.log("info", `${p.name}: probe ok: ${result.detail}`);
    else log.log("warn", `${p.name}: probe ${result.timedOut ? "" : "failed: "}${result.detail}`, "the tunnel is up and keeps forwarding; check the target address as the server sees it");
    this.o.changed();
  }

  /** Its forwards go (their connections cut), and each session nobody else uses. */
  private stop(r: Running): void {
    for (const id of r.forwards) {
      this.engine.removeForward(id, { cut: true });
      this.owner.delete(id);
    }
    for (const name of r.sessions) {
      const s = this.sessions.get(name);
      s?.users.delete(r.name);
      if (s && s.users.size === 0) {
        this.sessions.delete(name);
        this.engine.removeSession(name);
      }
    }
    if (this.running.get(r.file) === r) this.running.delete(r.file);
  }

  /** The log of one scenario: each line tagged with its name (`[wiki] …`, or a "scenario" field in JSON). */
  private logger(name: string): Logger {
    let l = this.loggers.get(name);
    if (l) return l;
    const tag = (line: string) => (this.o.json ? line.replace(/^\{/, `{"scenario":${JSON.stringify(name)},`) : `[${name}] ${line}`);
    l = new Logger({ json: this.o.json, verbosity: this.o.verbosity, out: (x) => process.stdout.write(tag(x) + "\n"), err: (x) => process.stderr.write(tag(x) + "\n") });
    this.loggers.set(name, l);
    return l;
  }
}
