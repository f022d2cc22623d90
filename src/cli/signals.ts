// SIGINT/SIGTERM: the first asks for a graceful stop, a second one means now. SIGHUP: reconnect now
// (after a Wi-Fi change or a resume, without waiting for keepalive to notice).
//
// "Now" is the system's default action, not a handler: after the first signal fwd stops handling
// both, so the second ends the process in the kernel even while JavaScript is busy (a handler would
// wait for the event loop to turn). The system closes every socket; the shell sees 130 (SIGINT) or
// 143 (SIGTERM).

export function onSignals(graceful: (signal: string) => void, hangup: () => void): () => void {
  const off = () => {
    process.off("SIGINT", handler);
    process.off("SIGTERM", handler);
  };
  const handler = (signal: NodeJS.Signals) => {
    off();
    graceful(signal);
  };
  process.on("SIGINT", handler);
  process.on("SIGTERM", handler);
  process.on("SIGHUP", hangup);
  return () => {
    off();
    process.off("SIGHUP", hangup);
  };
}
