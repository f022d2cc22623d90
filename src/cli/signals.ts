// SIGINT/SIGTERM: the first asks for a graceful stop, a second one means now. SIGHUP: reconnect now
// (after a Wi-Fi change or a resume, without waiting for keepalive to notice).

export function onSignals(graceful: (signal: string) => void, now: () => void, hangup: () => void): () => void {
  let seen = 0;
  const handler = (signal: NodeJS.Signals) => (++seen === 1 ? graceful(signal) : now());
  process.on("SIGINT", handler);
  process.on("SIGTERM", handler);
  process.on("SIGHUP", hangup);
  return () => {
    process.off("SIGINT", handler);
    process.off("SIGTERM", handler);
    process.off("SIGHUP", hangup);
  };
}
