// Readiness for systemd (Type=notify): once every forward listens, `READY=1` goes to $NOTIFY_SOCKET.
// Bun has no unix datagram sockets, so systemd's own `systemd-notify` sends it (the unit allows that
// with NotifyAccess=all), naming fwd as the main process. Without NOTIFY_SOCKET there is nothing to do.
// systemd-notify then waits for a barrier (systemd must read the message while the sender still
// lives, or it cannot tell which unit sent it); a socket that is not systemd's never answers that,
// so a failed barrier alone means READY went out unconfirmed, not that it was lost.

import { spawn } from "node:child_process";
import type { Logger } from "./logger.ts";

/** systemd-notify's own barrier gives up after 5 s; one that hangs beyond that is killed. */
const NOTIFY_DEADLINE_MS = 10_000;

export function notifyReady(log: Logger, status = "every forward listens"): Promise<void> {
  const socket = process.env.NOTIFY_SOCKET;
  if (!socket) return Promise.resolve();
  return new Promise((resolve) => {
    const warn = (why: string) => log.log("warn", `systemd: could not report readiness: ${why}`, "install systemd-notify (Debian: systemd), or use Type=exec in the unit");
    let p;
    try {
      p = spawn("systemd-notify", ["--ready", `--pid=${process.pid}`, `--status=${status}`], { stdio: ["ignore", "ignore", "pipe"] });
    } catch (e) {
      warn((e as Error).message);
      return resolve();
    }
    let err = "";
    p.stderr!.on("data", (d) => (err = (err + d).slice(-500)));
    const timer = setTimeout(() => p.kill("SIGKILL"), NOTIFY_DEADLINE_MS);
    p.once("error", (e) => {
      clearTimeout(timer);
      warn(e.message);
      resolve();
    });
    p.once("close", (code) => {
      clearTimeout(timer);
      if (code !== 0 && /barrier/i.test(err)) log.log("debug", `systemd: READY=1 sent, unconfirmed: ${err.trim()}`);
      else if (code !== 0) warn(err.trim() || `systemd-notify exited with ${code ?? "a signal"}`);
      else log.log("debug", "systemd: READY=1 sent");
      resolve();
    });
  });
}
