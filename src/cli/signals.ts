// SIGINT/SIGTERM: the first asks for a graceful stop, a second one means now.

export function onStopSignals(graceful: (signal: string) => void, now: () => void): () => void {
  let seen = 0;
  const handler = (signal: NodeJS.Signals) => (++seen === 1 ? graceful(signal) : now());
  process.on("SIGINT", handler);
  process.on("SIGTERM", handler);
  return () => {
    process.off("SIGINT", handler);
    process.off("SIGTERM", handler);
  };
}
