// The status page itself: one HTML document and its stylesheet (the script is page-script.ts), all
// embedded in the binary (no CDN, no fonts, no inline script, so the strict CSP holds).
// Layout: one column on a phone; on a wide screen sessions on the left and forwards (in a grid of
// their own) on the right, so cards sit side by side instead of filling a third of the width.
// Numbers and addresses never break inside (`.num`, `.ep`: nowrap, tabular figures); colour is kept
// for what needs attention: orange for reconnecting, red for failed, neutral for the rest but "up".

export { APP_JS } from "./page-script.ts";

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
<header><h1>fwd</h1><span id="meta" class="muted">connecting…</span><span id="live" class="badge">…</span></header>
<main>
<div class="col side">
<section id="scenario" hidden><h2>Scenario</h2><div id="scenario-body"></div></section>
<section id="sessions-section"><h2>Sessions</h2><div id="sessions" class="cards"></div></section>
<section id="log-section"><h2>Log</h2><ol id="log"></ol></section>
</div>
<div class="col primary">
<section id="forwards-section"><h2>Forwards</h2><div id="forwards" class="cards"></div></section>
<section id="connections-section"><h2>Open connections</h2><div class="scroll" hidden><table id="connections"><thead><tr><th>#</th><th>forward</th><th>source</th><th>destination</th><th>age</th><th>up</th><th>down</th><th></th></tr></thead><tbody></tbody></table></div><p id="no-connections" class="muted">none</p></section>
</div>
</main>
</body>
</html>
`;

export const APP_CSS = `:root{--bg:#f5f6f8;--card:#fff;--ink:#1d2430;--muted:#667085;--line:#e4e7ec;--soft:#f0f2f5;--ok:#137333;--warn:#b54708;--bad:#b42318;--accent:#2255cc;--up:#2563eb;--down:#0d9488;--rtt:#7c3aed}
@media (prefers-color-scheme:dark){:root{--bg:#0f1218;--card:#171b23;--ink:#e6e9ef;--muted:#98a2b3;--line:#2a303c;--soft:#1f2430;--ok:#4ade80;--warn:#fbbf24;--bad:#f87171;--accent:#7aa2ff;--up:#60a5fa;--down:#2dd4bf;--rtt:#a78bfa}}
*{box-sizing:border-box}body{margin:0;font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;background:var(--bg);color:var(--ink)}
header{display:flex;gap:.75rem;align-items:baseline;padding:.8rem 1.25rem;border-bottom:1px solid var(--line);background:var(--card);position:sticky;top:0;z-index:1}
h1{font-size:1.2rem;margin:0}#meta{flex:1;min-width:0}
h2{font-size:.78rem;text-transform:uppercase;letter-spacing:.06em;color:var(--muted);margin:1.3rem 0 .5rem}
main{max-width:120rem;margin:0 auto;padding:0 1.25rem 2rem;display:flex;flex-direction:column}
.col{display:contents}#scenario{order:1}#sessions-section{order:2}#forwards-section{order:3}#connections-section{order:4}#log-section{order:5}
@media (min-width:64rem){main{display:grid;grid-template-columns:minmax(0,1fr) minmax(0,2fr);gap:0 1.25rem;align-items:start}.col{display:block}}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(min(100%,23rem),1fr));gap:.75rem}
#forwards{grid-template-columns:repeat(auto-fit,minmax(min(100%,23rem),1fr))}#sessions{grid-template-columns:minmax(0,1fr)}
@media (min-width:40rem) and (max-width:64rem){#sessions{grid-template-columns:repeat(auto-fill,minmax(min(100%,23rem),1fr))}}
.card{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:.8rem .9rem;min-width:0}
.card h3{margin:0 0 .5rem;font-size:.95rem;display:flex;flex-wrap:wrap;gap:.25rem .5rem;align-items:center}
.card h3 .title{flex:1 1 auto;min-width:0}.card h3 button{margin-left:auto}
.kv{display:grid;grid-template-columns:auto minmax(0,1fr);gap:.15rem .8rem;margin:0}.kv dt{color:var(--muted);white-space:nowrap}.kv dd{margin:0;overflow-wrap:anywhere}
.num,.ep,.when{white-space:nowrap;font-variant-numeric:tabular-nums}
.stats{display:grid;grid-template-columns:repeat(auto-fit,minmax(4.6rem,1fr));gap:.4rem;margin:0 0 .6rem}
.stat{background:var(--soft);border-radius:7px;padding:.3rem .5rem;min-width:0}.stat .label{display:block;font-size:.72rem;color:var(--muted)}.stat .num{font-size:1rem;font-weight:600}
.badge{font-size:.72rem;font-weight:600;padding:.1rem .45rem;border-radius:99px;border:1px solid currentColor;white-space:nowrap;color:var(--muted)}
.up,.ok{color:var(--ok)}.reconnecting,.warn{color:var(--warn)}.failed,.error,.bad{color:var(--bad)}
.kind{font-family:ui-monospace,monospace;background:var(--accent);color:#fff;border-radius:4px;padding:0 .35rem;font-size:.75rem}
.chart{margin:.7rem 0 .1rem}.chart-head{display:flex;flex-wrap:wrap;gap:.2rem .9rem;font-size:.78rem;color:var(--muted);margin-bottom:.2rem}
.chart-head .peak{margin-left:auto}.key{display:inline-block;width:.7rem;height:.18rem;border-radius:2px;vertical-align:middle;margin-right:.3rem}
.chart svg{display:block;width:100%;height:80px;background:var(--soft);border-radius:6px}@media (min-width:64rem){#forwards .chart svg{height:110px}}
.chart .grid{stroke:var(--line);stroke-width:1;fill:none}.chart .line{fill:none;stroke-width:1.6;stroke-linejoin:round}.chart .area{stroke:none;opacity:.14}
.s-up{stroke:var(--up);fill:var(--up);background:var(--up)}.s-down{stroke:var(--down);fill:var(--down);background:var(--down)}.s-rtt{stroke:var(--rtt);fill:var(--rtt);background:var(--rtt)}
.chart-axis{display:flex;justify-content:space-between;font-size:.7rem;color:var(--muted);margin-top:.15rem}
.scroll{overflow-x:auto;background:var(--card);border:1px solid var(--line);border-radius:10px}
table{width:100%;border-collapse:collapse}
th,td{text-align:left;padding:.35rem .6rem;border-bottom:1px solid var(--line);white-space:nowrap;font-variant-numeric:tabular-nums}th{color:var(--muted);font-weight:500}tbody tr:last-child td{border-bottom:0}
#log{list-style:none;margin:0;padding:.5rem .75rem;background:var(--card);border:1px solid var(--line);border-radius:10px;font:12px/1.5 ui-monospace,monospace;max-height:24rem;overflow:auto;overflow-wrap:anywhere}
#log time{color:var(--muted);margin-right:.6rem;white-space:nowrap}#log .warn{color:var(--warn)}#log .error{color:var(--bad)}.muted{color:var(--muted)}
button{font:inherit;font-size:.75rem;border:1px solid var(--line);background:transparent;color:var(--ink);border-radius:6px;padding:.1rem .5rem;cursor:pointer}button:hover{background:var(--soft)}
@media (max-width:40rem){main{padding:0 .75rem 1.5rem}header{padding:.7rem .75rem}th:nth-child(3),td:nth-child(3),th:nth-child(5),td:nth-child(5){display:none}}
`;
