// The status page's script (served as /app.js). It renders every snapshot the event stream pushes,
// with textContent only: nothing from the engine is ever parsed as HTML. The charts are drawn as SVG
// paths from the history fwd keeps (GET /api/v1/history, once on load and after a gap), extended by
// the newest sample each snapshot carries, so a reload shows the last minutes. The token is an
// HttpOnly cookie the server set when the printed URL was opened: the script never sees it.
// Plain JavaScript in a string: no build step, and no backtick or dollar-brace inside.

export const APP_JS = `"use strict";
const SVG = "http://www.w3.org/2000/svg";
const $ = (id) => document.getElementById(id);
function el(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) k === "class" ? (e.className = v) : e.setAttribute(k, v);
  for (const k of kids) if (k != null) e.append(k instanceof Node ? k : String(k));
  return e;
}
function svg(tag, attrs) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  return e;
}
const num = (v) => el("span", { class: "num" }, v);
function bytes(n) {
  const u = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
  return (i ? n.toFixed(n < 10 ? 1 : 0) : Math.round(n)) + " " + u[i];
}
const rate = (n) => (n == null ? "–" : bytes(n) + "/s");
const ms = (n) => (n == null ? "–" : n.toFixed(n < 10 ? 1 : 0) + " ms");
function ago(t) {
  const s = Math.max(0, Math.round(t / 1000));
  return s < 60 ? s + "s" : s < 3600 ? Math.floor(s / 60) + "m " + (s % 60) + "s" : Math.floor(s / 3600) + "h " + Math.floor((s % 3600) / 60) + "m";
}
const ep = (e) => el("span", { class: "ep" }, !e ? "SOCKS" : e.path ? e.path : (e.host.includes(":") ? "[" + e.host + "]" : e.host) + ":" + e.port);
function kv(pairs) {
  const dl = el("dl", { class: "kv" });
  for (const [k, v] of pairs) if (v !== undefined && v !== "") dl.append(el("dt", {}, k), el("dd", {}, v));
  return dl;
}
const stat = (label, value) => el("div", { class: "stat" }, el("span", { class: "label" }, label), num(value));
async function act(path) {
  const r = await fetch(path, { method: "POST" });
  if (!r.ok) alert((await r.json()).error || r.statusText);
}
const action = (label, path) => el("button", { "data-path": path }, label);
document.addEventListener("click", (e) => {
  const p = e.target instanceof Element && e.target.getAttribute("data-path");
  if (p) act(p);
});
// An update between a button's press and its release would put a new button in its place, and the
// click would go to the container instead: lost (seen in a test under load). While a button is
// held, the page is not redrawn; the latest status is drawn on release.
let pressed = false;
let stale = false;
document.addEventListener("pointerdown", (e) => { pressed = e.target instanceof Element && e.target.closest("[data-path]") !== null; });
document.addEventListener("pointerup", () => setTimeout(() => { pressed = false; if (stale && last) { stale = false; render(last); } }, 0));

// History: the server's samples, oldest first, each series aligned with t (null: no sample).
const KEEP = 600;
let hist = { stepMs: 1000, t: [], forwards: new Map(), sessions: new Map() };
let loading = false;
let last;
async function loadHistory() {
  if (loading) return;
  loading = true;
  try {
    const r = await fetch("/api/v1/history");
    if (!r.ok) return;
    const h = await r.json();
    hist = { stepMs: h.stepMs, t: h.t, forwards: new Map(h.forwards.map((f) => [f.id, { up: f.up, down: f.down }])), sessions: new Map(h.sessions.map((x) => [x.name, { rtt: x.rttMs }])) };
    if (last) render(last);
  } finally {
    loading = false;
  }
}
function extend(sample) {
  const t = hist.t;
  if (!sample || (t.length && sample.t <= t[t.length - 1])) return;
  // A missed sample (a dropped stream, a tab asleep): fetch the whole history again.
  if (t.length && sample.t - t[t.length - 1] > hist.stepMs * 2.5) loadHistory();
  const n = t.length;
  const series = (map, key, fields) => {
    if (!map.has(key)) map.set(key, Object.fromEntries(fields.map((f) => [f, new Array(n).fill(null)])));
    return map.get(key);
  };
  t.push(sample.t);
  for (const f of sample.forwards) { const s = series(hist.forwards, f.id, ["up", "down"]); s.up.push(f.up); s.down.push(f.down); }
  for (const x of sample.sessions) series(hist.sessions, x.name, ["rtt"]).rtt.push(x.rttMs);
  for (const map of [hist.forwards, hist.sessions]) for (const s of map.values()) for (const a of Object.values(s)) { while (a.length < t.length) a.push(null); }
  while (t.length > KEEP) { t.shift(); for (const map of [hist.forwards, hist.sessions]) for (const s of map.values()) for (const a of Object.values(s)) a.shift(); }
}
const ahead = (a) => { for (let i = a.length - 1; i >= 0; i--) if (a[i] != null) return a[i]; return null; };

/** A line chart of some series over the time kept (at least a minute), peak at the top. */
function chart(label, lines, fmt, now) {
  const W = 600, H = 100, t = hist.t;
  const span = Math.min(KEEP * hist.stepMs, Math.max(60000, t.length ? now - t[0] : 0));
  const x = (ti) => (W - ((now - ti) / span) * W).toFixed(1);
  let peak = 0;
  for (const l of lines) for (const v of l.values) if (v != null && v > peak) peak = v;
  const top = peak > 0 ? peak * 1.15 : 1;
  const y = (v) => (H - 2 - (v / top) * (H - 6)).toFixed(1);
  const box = svg("svg", { viewBox: "0 0 " + W + " " + H, preserveAspectRatio: "none", role: "img", "aria-label": label });
  box.append(svg("path", { class: "grid", d: "M0 " + H / 2 + "H" + W, "vector-effect": "non-scaling-stroke" }));
  const step = (hist.stepMs / span) * W;
  const paths = lines.map((l) => {
    // Runs of samples, broken where there was none (a session down, a forward not yet there); a run
    // of one sample is drawn one step wide, so it shows as a dash rather than nothing.
    const runs = [];
    let run = [];
    l.values.forEach((v, i) => { if (v == null) { if (run.length) runs.push(run); run = []; } else run.push([+x(t[i]), y(v)]); });
    if (run.length) runs.push(run);
    for (const r of runs) if (r.length === 1) r.unshift([Math.max(0, r[0][0] - step), r[0][1]]);
    const pts = (r) => r.map((p) => p[0].toFixed(1) + " " + p[1]).join("L");
    return {
      key: l.key,
      line: runs.map((r) => "M" + pts(r)).join("") || "M0 " + H,
      area: runs.map((r) => "M" + r[0][0].toFixed(1) + " " + H + "L" + pts(r) + "L" + r[r.length - 1][0].toFixed(1) + " " + H + "Z").join(""),
    };
  });
  // Areas under everything, then the lines, the first series on top.
  for (const p of paths) if (p.area) box.append(svg("path", { class: "area s-" + p.key, d: p.area }));
  for (const p of [...paths].reverse()) box.append(svg("path", { class: "line s-" + p.key, d: p.line, "data-series": p.key, "vector-effect": "non-scaling-stroke" }));
  const head = el("div", { class: "chart-head" }, ...lines.map((l) => el("span", {}, el("span", { class: "key s-" + l.key }), l.name + " ", num(fmt(ahead(l.values))))),
    el("span", { class: "peak" }, "peak ", num(peak > 0 ? fmt(peak) : "–")));
  const mins = Math.round(span / 60000);
  return el("figure", { class: "chart", "data-chart": label }, head, box, el("div", { class: "chart-axis" }, el("span", { class: "when" }, mins + " min ago"), el("span", {}, "now")));
}

const BADGE = { up: "up", connecting: "", closed: "", reconnecting: "reconnecting", failed: "failed" };
function render(s) {
  last = s;
  extend(s.sample);
  if (pressed) return void (stale = true);
  const now = s.sample ? s.sample.t : s.now;
  $("meta").replaceChildren("v" + s.version + " · up ", num(ago(s.now - s.startedAt)));
  const bad = s.sessions.filter((x) => x.state === "reconnecting" || x.state === "failed").length;
  const starting = s.sessions.filter((x) => x.state === "connecting").length;
  $("live").textContent = bad ? bad + " down" : starting ? "connecting" : "all up";
  $("live").className = "badge " + (bad ? "bad" : starting ? "" : "ok");
  if (s.scenario) {
    $("scenario").hidden = false;
    const p = s.scenario.probe;
    $("scenario-body").replaceChildren(el("div", { class: "card" },
      el("h3", {}, el("span", { class: "title" }, s.scenario.name + " ", el("span", { class: "muted" }, s.scenario.plugin))),
      kv([...Object.entries(s.scenario.options).map(([k, v]) => [k, typeof v === "object" ? JSON.stringify(v) : String(v)]),
        ["probe", p ? (p.ok ? "✓ " : "✗ ") + p.detail : "not run yet"]])));
  }
  $("sessions").replaceChildren(...s.sessions.map((x) => {
    const h = hist.sessions.get(x.name);
    return el("div", { class: "card", "data-session": x.name },
      el("h3", {}, el("span", { class: "title ep" }, x.host), el("span", { class: "badge " + BADGE[x.state] }, x.state === "reconnecting" ? "reconnecting " + x.attempt : x.state), action("reconnect", "/api/v1/sessions/" + encodeURIComponent(x.name) + "/reconnect")),
      kv([["since", num(ago(s.now - x.since) + " ago")], ["round trip", x.rttMs !== undefined && x.state === "up" ? num(ms(x.rttMs)) : ""],
        ["cipher", x.cipher || ""], ["compression", x.compression || ""],
        ["reconnects", num(String(x.reconnects))], ["next try", x.nextAttemptAt ? num("in " + ago(x.nextAttemptAt - s.now)) : ""], ["last error", x.lastError || ""],
        ["history", el("span", {}, ...x.history.slice(-4).flatMap((e, i) => [i ? " · " : "", el("span", { class: "when" }, e.state + " " + ago(s.now - e.at) + " ago")]))]]),
      chart("round trip", [{ key: "rtt", name: "round trip", values: h ? h.rtt : [] }], ms, now));
  }));
  $("forwards").replaceChildren(...s.forwards.map((f) => {
    const h = hist.forwards.get(f.spec.id);
    const fails = Object.entries(f.stats.failures).map(([r, n]) => r + " " + n).join(", ");
    return el("div", { class: "card", "data-forward": f.spec.id },
      el("h3", {}, el("span", { class: "kind" }, f.spec.kind[0].toUpperCase()), el("span", { class: "title" }, f.bound || f.spec.bind ? ep(f.bound || f.spec.bind) : el("span", { class: "ep" }, "(session)"), " → ", ep(f.spec.target)), action("stop", "/api/v1/forwards/" + encodeURIComponent(f.spec.id) + "/stop")),
      el("div", { class: "stats" }, stat("open", String(f.stats.open)), stat("total", String(f.stats.total)), stat("up", bytes(f.stats.bytesUp)), stat("down", bytes(f.stats.bytesDown))),
      kv([["forward", f.spec.id], ["failures", fails],
        ["exits", f.exits ? Object.entries(f.exits).map(([n, x]) => n + ": " + x.open + " open, " + x.total + " total, " + bytes(x.bytesUp + x.bytesDown)).join(" · ") : ""]]),
      chart("throughput", [{ key: "up", name: "up", values: h ? h.up : [] }, { key: "down", name: "down", values: h ? h.down : [] }], rate, now));
  }));
  const rows = s.forwards.flatMap((f) => f.connections.map((c) => el("tr", {}, el("td", {}, c.id), el("td", {}, f.spec.id), el("td", {}, c.source), el("td", {}, c.target),
    el("td", {}, ago(s.now - c.openedAt)), el("td", {}, bytes(c.up)), el("td", {}, bytes(c.down)), el("td", {}, action("close", "/api/v1/connections/" + c.id + "/close")))));
  $("connections").tBodies[0].replaceChildren(...rows);
  $("no-connections").hidden = rows.length > 0;
  $("connections").parentElement.hidden = rows.length === 0;
  $("log").replaceChildren(...s.logs.slice(-50).reverse().map((l) => el("li", { class: l.level }, el("time", {}, new Date(l.at).toLocaleTimeString()), l.message)));
}
loadHistory();
const es = new EventSource("/api/v1/events");
es.addEventListener("status", (e) => render(JSON.parse(e.data)));
// A refused stream (401, 503: too many readers) is not retried by EventSource; a dropped one is.
es.onerror = () => { $("live").textContent = es.readyState === EventSource.CLOSED ? "live updates refused: reload to retry" : "page disconnected, retrying"; $("live").className = "badge warn"; };
`;
