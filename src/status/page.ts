// The status page itself: one HTML document, its stylesheet and its script, embedded in the binary
// (no CDN, no fonts, no inline script, so the strict CSP holds). The script renders every snapshot
// the event stream pushes, with textContent only: nothing from the engine is ever parsed as HTML. The
// token is an HttpOnly cookie the server set when the printed URL was opened: the script never sees it.

export const PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<title>fwd status</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/app.css">
<script src="/app.js" defer></script>
</head>
<body>
<header><h1>fwd</h1><span id="meta">connecting…</span><span id="live" class="badge">…</span></header>
<main>
<section id="scenario" hidden><h2>Scenario</h2><div id="scenario-body"></div></section>
<section><h2>Sessions</h2><div id="sessions" class="cards"></div></section>
<section><h2>Forwards</h2><div id="forwards" class="cards"></div></section>
<section><h2>Open connections</h2><table id="connections"><thead><tr><th>#</th><th>forward</th><th>source</th><th>destination</th><th>age</th><th>up</th><th>down</th><th></th></tr></thead><tbody></tbody></table><p id="no-connections" class="muted">none</p></section>
<section><h2>Log</h2><ol id="log"></ol></section>
</main>
</body>
</html>
`;

export const APP_CSS = `:root{--bg:#f6f7f9;--card:#fff;--ink:#1d2430;--muted:#667085;--line:#e4e7ec;--ok:#137333;--warn:#b54708;--bad:#b42318;--accent:#2255cc}
@media (prefers-color-scheme:dark){:root{--bg:#0f1218;--card:#171b23;--ink:#e6e9ef;--muted:#98a2b3;--line:#2a303c;--ok:#4ade80;--warn:#fbbf24;--bad:#f87171;--accent:#7aa2ff}}
*{box-sizing:border-box}body{margin:0;font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;background:var(--bg);color:var(--ink)}
header{display:flex;gap:.75rem;align-items:baseline;padding:.9rem 1.25rem;border-bottom:1px solid var(--line);background:var(--card);position:sticky;top:0}
h1{font-size:1.2rem;margin:0}h2{font-size:.8rem;text-transform:uppercase;letter-spacing:.06em;color:var(--muted);margin:1.4rem 0 .5rem}
main{max-width:72rem;margin:0 auto;padding:0 1.25rem 2rem}#meta{color:var(--muted);flex:1}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(20rem,1fr));gap:.75rem}
.card{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:.8rem .9rem}
.card h3{margin:0 0 .35rem;font-size:.95rem;display:flex;gap:.5rem;align-items:center;word-break:break-all}
.kv{display:grid;grid-template-columns:auto 1fr;gap:.15rem .8rem;margin:0}.kv dt{color:var(--muted)}.kv dd{margin:0;word-break:break-all}
.badge{font-size:.72rem;font-weight:600;padding:.1rem .45rem;border-radius:99px;border:1px solid currentColor;white-space:nowrap}
.up,.ok{color:var(--ok)}.reconnecting,.connecting,.warn{color:var(--warn)}.failed,.closed,.error,.bad{color:var(--bad)}
.kind{font-family:ui-monospace,monospace;background:var(--accent);color:#fff;border-radius:4px;padding:0 .35rem;font-size:.75rem}
svg.spark{width:100%;height:38px;display:block;margin-top:.4rem}svg.spark polyline{fill:none;stroke:var(--accent);stroke-width:1.5}
table{width:100%;border-collapse:collapse;background:var(--card);border:1px solid var(--line);border-radius:10px;overflow:hidden}
th,td{text-align:left;padding:.35rem .6rem;border-bottom:1px solid var(--line);font-variant-numeric:tabular-nums;word-break:break-all}th{color:var(--muted);font-weight:500}
#log{list-style:none;margin:0;padding:.5rem .75rem;background:var(--card);border:1px solid var(--line);border-radius:10px;font:12px/1.5 ui-monospace,monospace;max-height:18rem;overflow:auto}
#log time{color:var(--muted);margin-right:.6rem}.muted{color:var(--muted)}
button{font:inherit;font-size:.75rem;border:1px solid var(--line);background:transparent;color:var(--ink);border-radius:6px;padding:.1rem .5rem;cursor:pointer}
@media (max-width:40rem){th:nth-child(3),td:nth-child(3),th:nth-child(5),td:nth-child(5){display:none}}
`;

export const APP_JS = `"use strict";
const history = new Map();
const $ = (id) => document.getElementById(id);
function el(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) k === "class" ? (e.className = v) : e.setAttribute(k, v);
  for (const k of kids) if (k != null) e.append(k instanceof Node ? k : String(k));
  return e;
}
function bytes(n) {
  const u = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
  return (i ? n.toFixed(1) : Math.round(n)) + " " + u[i];
}
function ago(ms) {
  const s = Math.max(0, Math.round(ms / 1000));
  return s < 60 ? s + "s" : s < 3600 ? Math.floor(s / 60) + "m " + (s % 60) + "s" : Math.floor(s / 3600) + "h " + Math.floor((s % 3600) / 60) + "m";
}
const ep = (e) => (!e ? "SOCKS" : e.path ? e.path : (e.host.includes(":") ? "[" + e.host + "]" : e.host) + ":" + e.port);
function kv(pairs) {
  const dl = el("dl", { class: "kv" });
  for (const [k, v] of pairs) if (v !== undefined && v !== "") dl.append(el("dt", {}, k), el("dd", {}, v));
  return dl;
}
async function act(path) {
  const r = await fetch(path, { method: "POST" });
  if (!r.ok) alert((await r.json()).error || r.statusText);
}
const action = (label, path) => el("button", { "data-path": path }, label);
document.addEventListener("click", (e) => {
  const p = e.target instanceof Element && e.target.getAttribute("data-path");
  if (p) act(p);
});
function spark(id, total, now) {
  const h = history.get(id) || [];
  h.push([now, total]);
  while (h.length > 61) h.shift();
  history.set(id, h);
  const rates = h.slice(1).map((x, i) => (x[1] - h[i][1]) / Math.max(0.001, (x[0] - h[i][0]) / 1000));
  const max = Math.max(1, ...rates);
  const pts = rates.map((r, i) => (i * 100) / 59 + "," + (36 - (r / max) * 34).toFixed(1)).join(" ");
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("class", "spark");
  svg.setAttribute("viewBox", "0 0 100 38");
  svg.setAttribute("preserveAspectRatio", "none");
  const line = document.createElementNS("http://www.w3.org/2000/svg", "polyline");
  line.setAttribute("points", pts);
  svg.append(line);
  return [svg, rates.length ? bytes(rates[rates.length - 1]) + "/s" : "…"];
}
function render(s) {
  $("meta").textContent = "v" + s.version + " · up " + ago(s.now - s.startedAt);
  const down = s.sessions.filter((x) => x.state !== "up").length;
  $("live").textContent = down ? down + " down" : "all up";
  $("live").className = "badge " + (down ? "bad" : "ok");
  if (s.scenario) {
    $("scenario").hidden = false;
    const p = s.scenario.probe;
    $("scenario-body").replaceChildren(el("div", { class: "card" },
      el("h3", {}, s.scenario.name, el("span", { class: "muted" }, s.scenario.plugin)),
      kv([...Object.entries(s.scenario.options).map(([k, v]) => [k, typeof v === "object" ? JSON.stringify(v) : String(v)]),
        ["probe", p ? (p.ok ? "✓ " : "✗ ") + p.detail : "not run yet"]])));
  }
  $("sessions").replaceChildren(...s.sessions.map((x) => el("div", { class: "card", "data-session": x.name },
    el("h3", {}, x.host, el("span", { class: "badge " + x.state }, x.state === "reconnecting" ? "reconnecting " + x.attempt : x.state), action("reconnect", "/api/v1/sessions/" + encodeURIComponent(x.name) + "/reconnect")),
    kv([["since", ago(s.now - x.since) + " ago"], ["round trip", x.rttMs !== undefined ? x.rttMs.toFixed(1) + " ms" : ""],
      ["cipher", x.cipher || ""], ["compression", x.compression || ""],
      ["reconnects", String(x.reconnects)], ["next try", x.nextAttemptAt ? "in " + ago(x.nextAttemptAt - s.now) : ""], ["last error", x.lastError || ""],
      ["history", x.history.slice(-4).map((h) => h.state + " " + ago(s.now - h.at) + " ago").join(" · ")]]))));
  $("forwards").replaceChildren(...s.forwards.map((f) => {
    const [svg, rate] = spark(f.spec.id, f.stats.bytesUp + f.stats.bytesDown, s.now);
    const fails = Object.entries(f.stats.failures).map(([r, n]) => r + " " + n).join(", ");
    return el("div", { class: "card", "data-forward": f.spec.id },
      el("h3", {}, el("span", { class: "kind" }, f.spec.kind[0].toUpperCase()), ep(f.bound || f.spec.bind) + " → " + ep(f.spec.target), action("stop", "/api/v1/forwards/" + encodeURIComponent(f.spec.id) + "/stop")),
      kv([["forward", f.spec.id], ["open", String(f.stats.open)], ["total", String(f.stats.total)], ["up", bytes(f.stats.bytesUp)], ["down", bytes(f.stats.bytesDown)], ["now", rate], ["failures", fails],
        ["exits", f.exits ? Object.entries(f.exits).map(([n, x]) => n + ": " + x.open + " open, " + x.total + " total, " + bytes(x.bytesUp + x.bytesDown)).join(" · ") : ""]]), svg);
  }));
  const rows = s.forwards.flatMap((f) => f.connections.map((c) => el("tr", {}, el("td", {}, c.id), el("td", {}, f.spec.id), el("td", {}, c.source), el("td", {}, c.target),
    el("td", {}, ago(s.now - c.openedAt)), el("td", {}, bytes(c.up)), el("td", {}, bytes(c.down)), el("td", {}, action("close", "/api/v1/connections/" + c.id + "/close")))));
  $("connections").tBodies[0].replaceChildren(...rows);
  $("no-connections").hidden = rows.length > 0;
  $("log").replaceChildren(...s.logs.slice(-50).reverse().map((l) => el("li", { class: l.level }, el("time", {}, new Date(l.at).toLocaleTimeString()), l.message)));
}
const es = new EventSource("/api/v1/events");
es.addEventListener("status", (e) => render(JSON.parse(e.data)));
// A refused stream (401, 503: too many readers) is not retried by EventSource; a dropped one is.
es.onerror = () => { $("live").textContent = es.readyState === EventSource.CLOSED ? "live updates refused: reload to retry" : "page disconnected, retrying"; $("live").className = "badge warn"; };
`;
