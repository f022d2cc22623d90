// One SSH connection through ssh2, wrapped as the engine's Link: host key checked, authenticated,
// keepalive on, and channels opened with errors already mapped.

import { isIP, type Socket } from "node:net";
import type { Duplex } from "node:stream";
import type { AuthHandlerMiddleware, ClientChannel } from "ssh2";
import { Client } from "./ssh2-client.ts";
import { badTarget } from "../vocab/host-name.ts";
import type { ExecOptions, Incoming, Link, NegotiatedAlgorithms, RemoteProcess } from "../engine/link.ts";
import { formatEndpoint, isUnix, type Endpoint, type Origin } from "../vocab/endpoint.ts";
import { FwdError, fail, ok, type Result } from "../errors.ts";
import { Authenticator, type IdentityFile } from "./auth.ts";
import { channelError, connectionError, handshakeTimeout, listenError, type HandshakeStage } from "./errors.ts";
import { prepareHostKeyCheck, type HostKeyPolicy } from "./host-key.ts";
import { DEFAULT_MAX_WINDOW_BYTES, MIN_WINDOW_BYTES, windowCeiling } from "./window.ts";
import type { Prompter } from "./prompt.ts";
import { dialBun } from "../runtime/index.ts";
import { useInPlaceAesGcm } from "./aes-gcm.ts";
import { recycleThroughChannels } from "./channel-recycle.ts";
import { holdWritesWhileQueued } from "./transport-queue.ts";

export interface SshTarget {
  /** What messages call it: `user@host:port`. */
  label: string;
  host: string;
  port: number;
  user: string;
  identityFiles: IdentityFile[];
  identitiesOnly: boolean;
  agentSocket: string | undefined;
  hostKey: HostKeyPolicy;
  connectTimeoutMs: number;
  /** 0 turns keepalive off. */
  keepaliveIntervalMs: number;
  keepaliveCountMax: number;
  /** Cipher preference (-c / Ciphers); ssh2's defaults when absent. */
  ciphers?: string[];
  /** Offer compression (-C / Compression yes). */
  compression?: boolean;
  /** How far each channel's receive window may grow (--max-window); DEFAULT_MAX_WINDOW_BYTES when absent. */
  maxWindowBytes?: number;
  /** Offer the agent (agentSocket) to commands run on this server (-A). */
  forwardAgent?: boolean;
}

export interface SshDeps {
  prompt: Prompter | undefined;
  log: (level: "debug" | "info" | "warn", msg: string) => void;
  /** Where an attempt has got to (resolving, connecting, key exchange, authenticating), for a terminal's progress line. */
  progress?: (label: string, stage: string) => void;
}

/** `sock`: an already-open stream to the server (a channel through a jump host) instead of TCP. */
export async function connectSsh(t: SshTarget, deps: SshDeps, signal?: AbortSignal, sock?: Duplex): Promise<Result<Link>> {
  recycleThroughChannels();
  if (await useInPlaceAesGcm()) deps.log("debug", `${t.label}: AES-GCM packets are sealed in place (libcrypto)`);
  const client = new Client();
  // ConnectTimeout bounds the whole way to a usable session: TCP, key exchange and authentication
  // (a server that completes the key exchange and never answers authentication must not hold an
  // attempt forever). It counts only waiting on the server: not the time a person takes to check a
  // fingerprint or type a passphrase or password (the clock stands still while a prompt is open),
  // nor fwd's own work choosing the next method (reading a key, deriving it from its passphrase).
  let stage: HandshakeStage = "handshake";
  let lastError: FwdError | undefined;
  const cut = (why: FwdError) => {
    lastError ??= why;
    rawSocket(client)?.destroy();
  };
  const clock = pausableTimer(t.connectTimeoutMs, () => cut(handshakeTimeout(t.label, stage, t.connectTimeoutMs)));
  const prompt: Prompter | undefined = deps.prompt && ((q, o) => clock.during(deps.prompt!(q, o)));
  const hostKey = await prepareHostKeyCheck(t.hostKey, t.label, (m) => deps.log("warn", m), prompt);
  // A known_hosts file others can write: no key it holds is to be believed, so there is nothing to connect for.
  if (hostKey.failure) return fail(hostKey.failure);
  const auth = new Authenticator({
    user: t.user,
    identityFiles: t.identityFiles,
    identitiesOnly: t.identitiesOnly,
    agentSocket: t.agentSocket,
    prompt,
    warn: (m) => deps.log("warn", m),
  });
  return new Promise((resolve) => {
    let ready = false;
    clock.start();
    client.once("handshake", (n) => {
      stage = "authentication";
      deps.progress?.(t.label, "authenticating");
      deps.log("debug", `${t.label}: key exchange ${n.kex}, host key ${n.serverHostKey}, cipher ${n.cs.cipher}${n.cs.mac ? ` with ${n.cs.mac}` : ""}`);
      const compression = n.cs.compress === n.sc.compress ? n.cs.compress : `${n.cs.compress} up, ${n.sc.compress} down`;
      algorithms = { cipher: n.cs.cipher, compression };
      // Said without -v when compression was asked for: whether the server agreed is worth knowing.
      deps.log(t.compression ? "info" : "debug", `${t.label}: cipher ${algorithms.cipher}, compression ${compression}`);
    });
    if (signal?.aborted) queueMicrotask(() => cut(new FwdError("E_CLOSED", `${t.label}: stopped while connecting`, "a stop was asked for")));
    signal?.addEventListener("abort", () => cut(new FwdError("E_CLOSED", `${t.label}: stopped while connecting`, "a stop was asked for")), { once: true });
    let endedResolve!: (e: FwdError | undefined) => void;
    const ended = new Promise<FwdError | undefined>((r) => (endedResolve = r));
    let closing = false;

    client.on("error", (err: Error & { level?: string }) => {
      // An unusable agent is not a failed connection: ssh2 goes on to the next method, as ssh does.
      if (err.level === "agent") return deps.log("debug", `${t.label}: ssh-agent: ${err.message}`);
      const mapped =
        hostKey.failure ??
        (err.level === "client-authentication" ? auth.failure(t.label) : connectionError(t.label, err));
      // After the session was up, any failure is a lost session (exit 7 with --no-reconnect), whatever
      // the socket said: a SIGKILLed sshd shows up as a reset or as a clean close, by timing alone.
      lastError ??= ready && mapped.code === "E_CONNECT" ? new FwdError("E_CLOSED", `${t.label}: session lost: ${mapped.message.replace(`${t.label}: `, "")}`, mapped.hint, { cause: err, reason: "session-lost" }) : mapped;
      if (!ready) resolve(fail(lastError));
      // ssh2 only end()s the socket after e.g. a keepalive timeout; on a dead network that never
      // completes, so no 'close' would come. Cut it.
      else rawSocket(client)?.destroy();
    });
    client.on("close", () => {
      // Before ssh2 ends the channels as if their peers had closed them cleanly: the connections
      // they carry were cut, and their clients must see a reset, not a normal end of data.
      const lost = new FwdError("E_CLOSED", `${t.label}: session lost`, "fwd reconnects; open the connection again", { reason: "session-lost" });
      for (const ch of channels) {
        // A channel nobody listens to any more (already torn down) is simply destroyed: an 'error'
        // without a listener would throw inside ssh2's close handler.
        if (ch.listenerCount("error") > 0) ch.emit("error", lost);
        else ch.destroy();
      }
      channels.clear();
      clock.stop();
      if (!ready) resolve(fail(lastError ?? hostKey.failure ?? new FwdError("E_CONNECT", `${t.label}: connection closed during the handshake`, "the server dropped the connection; check its log (MaxStartups, AllowUsers)")));
      endedResolve(closing ? undefined : (lastError ?? new FwdError("E_CLOSED", `${t.label}: connection closed by the server`, "the server ended the session; it may have restarted")));
    });
    client.on("ready", () => {
      ready = true;
      clock.stop();
      measureRtt(client, t.keepaliveIntervalMs || 15_000, (ms) => {
        rtt.value = ms;
        setWindowCeiling(client, windowCeiling(ms, t.maxWindowBytes ?? DEFAULT_MAX_WINDOW_BYTES));
      }, ended);
      deps.log("debug", `${t.label}: authenticated (${auth.tried.at(-1) ?? "none"})`);
      resolve(ok(link));
    });

    const channels = new Set<Duplex>();
    const track = <T extends Duplex>(ch: T): T => {
      channels.add(ch);
      ch.once("close", () => channels.delete(ch));
      holdWritesWhileQueued(ch, () => rawSocket(client));
      return ch;
    };
    const incoming = new Set<(c: Incoming) => void>();
    const isOpen = () => rawSocket(client)?.writable === true;
    const deliver = (c: Incoming) => {
      if (incoming.size === 0) return c.reject();
      for (const fn of incoming) fn(c);
    };
    client.on("tcp connection", (info, accept, reject) =>
      deliver({ bind: { host: info.destIP, port: info.destPort }, origin: { host: info.srcIP, port: info.srcPort }, accept: () => track(accept()), reject, isOpen }),
    );
    client.on("unix connection", (info, accept, reject) =>
      deliver({ bind: { path: info.socketPath }, origin: { host: "unix", port: 0 }, accept: () => track(accept()), reject, isOpen }),
    );
    // Only after exec asked for X11 forwarding (ExecOptions.x11); the engine's x11 forward takes them.
    client.on("x11", (info, accept, reject) =>
      deliver({ x11: true, bind: { path: "" }, origin: { host: info.srcIP, port: info.srcPort }, accept: () => track(accept()), reject, isOpen }),
    );
    const rtt: { value: number | undefined } = { value: undefined };
    let algorithms: NegotiatedAlgorithms | undefined;
    const link: Link = {
      ended,
      get rttMs() {
        return rtt.value;
      },
      get algorithms() {
        return algorithms;
      },
      close() {
        closing = true;
        client.end();
      },
      open: async (target, origin) => {
        const r = await openChannel(client, t.label, target, origin);
        if (r.ok) {
          track(r.value);
          reportWindow(r.value, `${t.label}: ${formatEndpoint(target)}`, deps.log);
        }
        return r;
      },
      listen: (bind) => listenRemote(client, t.label, bind),
      unlisten: (bound) => unlistenRemote(client, bound),
      exec: (command, opts) => execRemote(client, t.label, command, opts),
      onIncoming(fn) {
        incoming.add(fn);
        return () => incoming.delete(fn);
      },
    };

    // Under Bun, Bun's own socket (src/runtime/bun-tcp.ts): node:net copies every byte twice more.
    const transport = sock ?? dialBun(t.host, t.port, { joinPerTurn: true });
    client.connect({
      ...(transport ? { sock: transport } : {}),
      host: t.host,
      port: t.port,
      username: t.user,
      // A patch to ssh2 (patches/): windows grow while the reader keeps pace, up to this (src/ssh/window.ts).
      maxChannelWindow: t.maxWindowBytes ?? DEFAULT_MAX_WINDOW_BYTES,
      readyTimeout: 0, // fwd's own clock above: ssh2's would also count prompt time
      keepaliveInterval: t.keepaliveIntervalMs,
      keepaliveCountMax: t.keepaliveCountMax,
      authHandler: pausedWhileChoosing(auth.handler(), clock.pause),
      hostVerifier: (key: Buffer, verify: (ok: boolean) => void) => void hostKey.verify(key).then(verify),
      algorithms: {
        serverHostKey: hostKey.algorithms,
        ...(t.ciphers ? { cipher: t.ciphers } : {}),
        // OpenSSH's -C proposal. Without it, none only: ssh2's default list also offers zlib.
        compress: t.compression ? ["zlib@openssh.com", "zlib", "none"] : ["none"],
      },
      // The agent is given to ssh2 only to forward it (authentication goes through authHandler).
      ...(t.forwardAgent && t.agentSocket ? { agent: t.agentSocket, agentForward: true } : {}),
    } as Parameters<Client["connect"]>[0]);
    tuneSocket(client);
    // Node's socket says when DNS answered ('lookup') and when TCP is up ('connect'); a jump host's channel is up already.
    const progress = deps.progress;
    if (progress && sock) progress(t.label, "key exchange");
    else if (progress) {
      progress(t.label, isIP(t.host) ? `connecting to ${formatEndpoint({ host: t.host, port: t.port })}` : `resolving ${t.host}`);
      const s = rawSocket(client);
      s?.once("lookup", (err: Error | null, address: string) => {
        if (!err) progress(t.label, `connecting to ${formatEndpoint({ host: address, port: t.port })}`);
      });
      s?.once("connect", () => progress(t.label, "key exchange"));
    }
  });
}

/**
 * A one-shot timer that can stand still: `pause()` stops it until the function it returns is called
 * (several pauses at once count as one), then it goes on with the time that was left.
 */
function pausableTimer(ms: number, onExpire: () => void) {
  let left = ms;
  let since = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let paused = 0;
  let stopped = false;
  const run = () => {
    if (stopped || paused > 0 || timer) return;
    since = performance.now();
    timer = setTimeout(() => ((stopped = true), onExpire()), Math.max(0, left));
  };
  const halt = () => {
    if (!timer) return;
    clearTimeout(timer);
    timer = undefined;
    left -= performance.now() - since;
  };
  const pause = () => {
    paused++;
    halt();
    let resumed = false;
    return () => {
      if (resumed) return;
      resumed = true;
      paused--;
      run();
    };
  };
  return {
    start: run,
    stop() {
      stopped = true;
      halt();
    },
    pause,
    during<T>(p: Promise<T>): Promise<T> {
      const resume = pause();
      return p.finally(resume);
    },
  };
}

/** What the patched ssh2 reads when it opens a channel: how far that channel's window may grow. */
function setWindowCeiling(client: Client, bytes: number): void {
  const config = (client as unknown as { config?: { maxChannelWindow?: number } }).config;
  if (config) config.maxChannelWindow = bytes;
}

/**
 * Round-trip time to the server: a keepalive request (what OpenSSH's ServerAlive sends) timed from
 * send to reply, right away and then every `everyMs`. ssh2 has no public call for it: its replies
 * to global requests are matched to a callback queue in order, which is what this joins.
 */
function measureRtt(client: Client, everyMs: number, set: (ms: number) => void, ended: Promise<unknown>): void {
  const c = client as unknown as { _callbacks?: ((err?: unknown) => void)[]; _protocol?: { ping(): void } };
  const ping = () => {
    if (!c._callbacks || !c._protocol) return;
    const t0 = performance.now();
    c._callbacks.push(() => set(Math.round((performance.now() - t0) * 100) / 100));
    c._protocol.ping();
  };
  ping();
  const timer = setInterval(ping, everyMs);
  timer.unref?.();
  void ended.then(() => clearInterval(timer));
}

/** The auth handler with the clock stopped from its call until it hands ssh2 the next method. */
function pausedWhileChoosing(handler: AuthHandlerMiddleware, pause: () => () => void): AuthHandlerMiddleware {
  return (authsLeft, partial, next) => {
    const resume = pause();
    handler(authsLeft, partial, ((m: Parameters<typeof next>[0]) => (resume(), next(m))) as typeof next);
  };
}

/** ssh2 keeps its socket private; fwd needs it to cut a dead connection and to batch writes. */
const rawSocket = (client: Client) => (client as unknown as { _sock?: Socket })._sock;

/**
 * TCP_NODELAY (a forwarded request must not wait for a delayed ACK), and on a node:net socket (Deno,
 * a jump host's channel) one write per turn of the event loop instead of one per SSH packet: ssh2
 * writes each packet (open, data, EOF, close) separately, which costs a syscall each. Bun's own
 * socket (src/runtime/bun-tcp.ts) has no cork(): it joins a turn's small writes itself.
 */
function tuneSocket(client: Client): void {
  client.setNoDelay(true);
  const sock = rawSocket(client);
  if (!sock || typeof sock.cork !== "function") return;
  const write = sock.write.bind(sock) as (...args: unknown[]) => boolean;
  let corked = false;
  sock.write = ((...args: unknown[]) => {
    if (!corked) {
      corked = true;
      sock.cork();
      process.nextTick(() => {
        corked = false;
        sock.uncork();
      });
    }
    return write(...args);
  }) as Socket["write"];
}

function execRemote(client: Client, label: string, command: string, o: ExecOptions): Promise<Result<RemoteProcess>> {
  return new Promise((resolve) => {
    try {
      client.exec(command, { ...(o.x11 ? { x11: { single: false, ...o.x11 } } : {}), ...(o.agent ? { agentForward: true } : {}) }, (err, ch) => {
        if (err)
          return resolve(fail(new FwdError("E_CHANNEL", `${label}: cannot run the command: ${err.message}`, "the server refused a session channel or one of its requests (X11Forwarding, AllowAgentForwarding)", { cause: err })));
        const exit = new Promise<{ code: number | null; signal?: string }>((r) => ch.once("close", (code: number | null, signal?: string) => r({ code, ...(signal ? { signal } : {}) })));
        resolve(ok({ stdin: ch, stdout: ch, stderr: ch.stderr, exit }));
      });
    } catch (e) {
      resolve(fail(new FwdError("E_CLOSED", `${label}: session is not connected`, "the connection to the server ended; see the log", { cause: e })));
    }
  });
}

function listenRemote(client: Client, label: string, bind: Endpoint): Promise<Result<Endpoint>> {
  return new Promise((resolve) => {
    const done = (err: Error | undefined, port?: number) => {
      if (err) return resolve(fail(listenError(label, bind, err)));
      resolve(ok(isUnix(bind) ? bind : { host: bind.host, port: port ?? bind.port }));
    };
    try {
      if (isUnix(bind)) client.openssh_forwardInStreamLocal(bind.path, (err) => done(err ?? undefined));
      else client.forwardIn(bind.host, bind.port, done);
    } catch (e) {
      resolve(fail(new FwdError("E_CLOSED", `${label}: session is not connected`, "the connection to the server ended; see the log", { cause: e })));
    }
  });
}

/** Best effort: a session that is gone has stopped listening anyway. */
function unlistenRemote(client: Client, bound: Endpoint): Promise<void> {
  return new Promise((resolve) => {
    try {
      if (isUnix(bound)) client.openssh_unforwardInStreamLocal(bound.path, () => resolve());
      else client.unforwardIn(bound.host, bound.port, () => resolve());
    } catch {
      resolve();
    }
  });
}

/** With -vv, how far a channel's receive window grew (the patched ssh2 keeps it as incoming.size). */
function reportWindow(ch: Duplex, what: string, log: SshDeps["log"]): void {
  ch.once("close", () => {
    const size = (ch as { incoming?: { size?: number } }).incoming?.size;
    if (size !== undefined && size > MIN_WINDOW_BYTES) log("debug", `${what}: receive window grew to ${(size / 1048576).toFixed(0)} MiB`);
  });
}

function openChannel(client: Client, label: string, target: Endpoint, origin: Origin): Promise<Result<Duplex>> {
  // The last guard before sshd, whoever asked: a name sshd cannot parse (a NUL) ends the whole session.
  const bad = badTarget(label, target);
  if (bad) return Promise.resolve(fail(bad));
  return new Promise((resolve) => {
    const done = (err: Error | undefined, ch: ClientChannel | undefined) => {
      if (err || !ch) return resolve(fail(channelError(label, formatEndpoint(target), err ?? new Error("no channel"))));
      resolve(ok(ch));
    };
    try {
      if (isUnix(target)) client.openssh_forwardOutStreamLocal(target.path, done);
      else client.forwardOut(origin.host, origin.port, target.host, target.port, done);
    } catch (e) {
      // ssh2 throws synchronously when the socket is already gone.
      resolve(fail(new FwdError("E_CLOSED", `${label}: session is not connected`, "the connection to the server ended; see the log", { cause: e })));
    }
  });
}
