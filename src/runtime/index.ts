// The few facts and calls that differ between Bun and Deno, behind one small interface; everything
// else in fwd uses node: APIs and web standards so it runs on both.

interface BunServer {
  port: number;
  stop(closeActiveConnections?: boolean): void;
}
declare const Bun:
  | { version: string; main: string; env: Record<string, string | undefined>; serve(o: { hostname: string; port: number; fetch: (r: Request) => Response | Promise<Response>; idleTimeout?: number }): BunServer }
  | undefined;
declare const Deno: { version: { deno: string } } | undefined;

export interface RuntimeInfo {
  name: "bun" | "deno" | "node";
  version: string;
  /** Running from a `bun build --compile` binary (plugins on disk then load through the runtime). */
  compiled: boolean;
}

export function runtimeInfo(): RuntimeInfo {
  // Bun.main, not import.meta.url: a --bytecode build keeps the source path in import.meta.url.
  if (typeof Bun !== "undefined") return { name: "bun", version: Bun.version, compiled: Bun.main.startsWith("/$bunfs/") };
  if (typeof Deno !== "undefined") return { name: "deno", version: Deno.version.deno, compiled: false };
  return { name: "node", version: process.versions.node, compiled: false };
}

export interface HttpServer {
  port: number;
  stop(): Promise<void>;
}

/**
 * The runtime's own HTTP server for a fetch handler (Hono's app.fetch). A connection idle for
 * `idleTimeoutS` seconds is closed (keep-alive ones included); a long stream stays open by sending
 * something well inside that time.
 */
export async function serveHttp(fetch: (r: Request) => Response | Promise<Response>, hostname: string, port: number, o: { idleTimeoutS: number }): Promise<HttpServer> {
  if (typeof Bun !== "undefined") {
    // Bun takes up to 255 s here (0 would mean never) and checks it in 4 s steps: 4 s or less is one
    // step, which closes a connection at the next check however busy it is (measured, Bun 1.4), so 5 s
    // is the shortest timeout that a stream's heartbeat can hold off.
    const s = Bun.serve({ hostname, port, fetch, idleTimeout: Math.min(255, Math.max(5, Math.round(o.idleTimeoutS))) });
    return { port: s.port, stop: async () => s.stop(true) };
  }
  if (typeof Deno !== "undefined") {
    // Not Deno.serve: it takes no idle timeout and never closes an idle keep-alive connection (see
    // node-http.ts). Loaded here only, so Bun never loads node:http for it.
    const { serveNodeHttp } = await import("./node-http.ts");
    return serveNodeHttp(fetch, hostname, port, o.idleTimeoutS);
  }
  throw new Error("serveHttp: needs Bun or Deno");
}

/**
 * The heap size Bun's engine (JavaScriptCore) is told the machine has, for a process that carries
 * tunnels. JSC sizes its collection trigger from the machine's RAM, and the buffers a bulk transfer
 * churns through (one per packet and per socket read, all short-lived) live outside its heap: on a
 * 24 GiB machine 512 MiB moved each way left ~220 MiB of garbage resident before a collection came;
 * told 32 MiB it collects in step and peaks under ~100 MiB, at no measurable CPU cost (see README,
 * Benchmark). A JSC option is read only at start-up, hence the re-exec.
 */
const HEAP_RAM_BYTES = String(32 * 1024 * 1024);
const HEAP_ENV = "BUN_JSC_forceRAMSize";

/**
 * Under Bun, replaces this process (same pid, same fds) with itself started with the small-heap
 * setting, unless it already has one (or the user set their own, or FWD_NO_HEAP_TUNING is set).
 * Returns only when nothing was done. Costs one more start-up (~10 ms) for long-running commands.
 */
export function ensureSmallHeap(): void {
  if (typeof Bun === "undefined" || process.env[HEAP_ENV] !== undefined || process.env.FWD_NO_HEAP_TUNING) return;
  const execve = (process as { execve?: (file: string, args: string[], env: Record<string, string>) => never }).execve;
  if (typeof execve !== "function") return;
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
  env[HEAP_ENV] = HEAP_RAM_BYTES;
  // A compiled binary's argv is ["bun", "/$bunfs/root/fwd", ...]; from source it is [bun, main.ts, ...].
  const compiled = Bun.main.startsWith("/$bunfs/");
  const args = compiled ? process.argv.slice(2) : [...process.execArgv, ...process.argv.slice(1)];
  try {
    execve.call(process, process.execPath, [process.execPath, ...args], env);
  } catch {
    // Not fatal: fwd runs the same, only with the engine's default heap sizing.
  }
}
