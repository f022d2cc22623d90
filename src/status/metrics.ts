// The snapshot in Prometheus' text format: sessions up, reconnects, connections, bytes and open
// failures, labelled by session and forward.

import type { StatusSnapshot } from "./store.ts";

export function prometheus(s: StatusSnapshot): string {
  const out: string[] = [];
  const metric = (name: string, type: "gauge" | "counter", help: string, rows: [Record<string, string>, number][]) => {
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [labels, value] of rows) out.push(`${name}${fmt(labels)} ${value}`);
  };
  metric("fwd_session_up", "gauge", "1 while the SSH session is connected.", s.sessions.map((x) => [{ session: x.name, host: x.host }, x.state === "up" ? 1 : 0]));
  metric("fwd_session_reconnects_total", "counter", "Successful reconnects of the SSH session.", s.sessions.map((x) => [{ session: x.name }, x.reconnects]));
  metric("fwd_session_rtt_seconds", "gauge", "Last keepalive round trip to the server.", s.sessions.filter((x) => x.rttMs !== undefined).map((x) => [{ session: x.name }, x.rttMs! / 1000]));
  const f = (x: StatusSnapshot["forwards"][number]) => ({ forward: x.spec.id, kind: x.spec.kind });
  metric("fwd_connections_open", "gauge", "Connections open now.", s.forwards.map((x) => [f(x), x.stats.open]));
  metric("fwd_connections_total", "counter", "Connections carried since start.", s.forwards.map((x) => [f(x), x.stats.total]));
  metric("fwd_bytes_total", "counter", "Bytes carried, up (client to target) and down.", s.forwards.flatMap((x) => [[{ ...f(x), direction: "up" }, x.stats.bytesUp], [{ ...f(x), direction: "down" }, x.stats.bytesDown]]));
  metric("fwd_open_failures_total", "counter", "Connections that could not be opened, by reason.", s.forwards.flatMap((x) => Object.entries(x.stats.failures).map(([reason, n]) => [{ ...f(x), reason }, n] as [Record<string, string>, number])));
  metric("fwd_exit_connections_total", "counter", "A pooled SOCKS proxy's connections, per exit session.", s.forwards.flatMap((x) => Object.entries(x.exits ?? {}).map(([exit, e]) => [{ ...f(x), exit }, e.total] as [Record<string, string>, number])));
  return out.join("\n") + "\n";
}

const fmt = (labels: Record<string, string>) =>
  `{${Object.entries(labels).map(([k, v]) => `${k}="${v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`).join(",")}}`;
