import { html, raw, type SafeHtml } from './html.js'

/** Where the browse UI lives. */
export const UI_BASE = '/-/kite'

/** Kite's mark, also served as `/favicon.ico` (an SVG: browsers go by the content type). */
export const ICON_SVG =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><path d="M16 2 28 14 16 30 4 14Z" fill="#6366f1"/><path d="M16 2v28M4 14h24" stroke="#fff" stroke-width="1.6" opacity=".7"/></svg>'

const ICON = `data:image/svg+xml,${encodeURIComponent(ICON_SVG)}`

const STYLE = `
:root{--bg:#f7f8fb;--panel:#fff;--text:#0f172a;--muted:#5b6476;--line:#e4e7ee;--accent:#4f46e5;--accent-soft:#eef2ff;
--ok:#047857;--ok-soft:#ecfdf5;--bad:#b91c1c;--bad-soft:#fef2f2;--warn:#92400e;--warn-soft:#fffbeb;--code:#f1f3f8;
--shadow:0 1px 2px rgba(15,23,42,.04),0 4px 16px rgba(15,23,42,.06);--radius:12px;
--mono:ui-monospace,SFMono-Regular,"SF Mono",Menlo,Consolas,"Liberation Mono",monospace}
@media (prefers-color-scheme:dark){:root{--bg:#0b1020;--panel:#121a2e;--text:#e6e9f2;--muted:#9aa4b8;--line:#243049;
--accent:#818cf8;--accent-soft:#1e2447;--ok:#34d399;--ok-soft:#0d2a22;--bad:#f87171;--bad-soft:#2c1416;--warn:#fbbf24;
--warn-soft:#2a2110;--code:#0d1426;--shadow:0 1px 2px rgba(0,0,0,.3)}}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;background:var(--bg);color:var(--text);font:15px/1.55 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
a{color:var(--accent);text-decoration:none}a:hover{text-decoration:underline}
code,pre{font-family:var(--mono);font-size:.88em}
code{background:var(--code);padding:.12em .38em;border-radius:6px}
pre{background:var(--code);padding:14px 16px;border-radius:10px;overflow:auto;margin:0;line-height:1.5;border:1px solid var(--line)}
pre code{background:none;padding:0;font-size:1em}
header.top{background:var(--panel);border-bottom:1px solid var(--line);position:sticky;top:0;z-index:5}
.bar{max-width:1120px;margin:0 auto;padding:12px 24px;display:flex;gap:20px;align-items:center}
.brand{display:flex;align-items:center;gap:10px;font-weight:700;font-size:17px;color:var(--text);white-space:nowrap}
.brand img{width:26px;height:26px}.brand span{color:var(--muted);font-weight:500}
.brand:hover{text-decoration:none}
.docs-link{font-weight:600;white-space:nowrap}
form.search{flex:1;display:flex;gap:8px;max-width:560px}
input[type=search]{flex:1;border:1px solid var(--line);background:var(--bg);color:var(--text);border-radius:10px;padding:9px 14px;font:inherit;outline:none}
input[type=search]:focus{border-color:var(--accent);box-shadow:0 0 0 3px var(--accent-soft)}
button,.button{border:1px solid var(--accent);background:var(--accent);color:#fff;border-radius:10px;padding:8px 16px;font:inherit;font-weight:600;cursor:pointer}
button.ghost{background:transparent;color:var(--accent)}
select{border:1px solid var(--line);background:var(--panel);color:var(--text);border-radius:10px;padding:8px 12px;font:inherit}
main{max-width:1120px;margin:0 auto;padding:28px 24px 64px}
footer{max-width:1120px;margin:0 auto;padding:0 24px 32px;color:var(--muted);font-size:13px}
h1{font-size:28px;line-height:1.25;margin:0 0 6px;letter-spacing:-.01em}
h2{font-size:18px;margin:28px 0 12px}
h3{font-size:15px;margin:18px 0 8px}
p{margin:0 0 10px}
.muted{color:var(--muted)}
.hero{padding:26px 0 14px}
.hero p{color:var(--muted);font-size:16px;max-width:680px}
.stats{display:flex;gap:22px;color:var(--muted);font-size:14px;margin-top:8px}.stats b{color:var(--text)}
.cards{display:grid;gap:14px}
.card{background:var(--panel);border:1px solid var(--line);border-radius:var(--radius);padding:18px 20px;box-shadow:var(--shadow)}
a.card{display:block;color:inherit;transition:border-color .15s,transform .15s}
a.card:hover{border-color:var(--accent);text-decoration:none;transform:translateY(-1px)}
.card-head{display:flex;align-items:baseline;gap:10px;flex-wrap:wrap}
.card-title{font-weight:650;font-size:16px}
.card .desc{color:var(--muted);margin:6px 0 10px}
.name{font-family:var(--mono);font-size:13px;color:var(--muted)}
.chips{display:flex;gap:6px;flex-wrap:wrap}
.chip{font-family:var(--mono);font-size:12px;background:var(--accent-soft);color:var(--accent);padding:2px 8px;border-radius:999px;white-space:nowrap}
.badge{display:inline-block;font-size:11.5px;font-weight:650;letter-spacing:.02em;padding:2px 8px;border-radius:999px;border:1px solid var(--line);color:var(--muted);background:var(--panel);white-space:nowrap;vertical-align:middle}
.badge.latest{color:var(--ok);background:var(--ok-soft);border-color:transparent}
.badge.deprecated,.badge.breaking{color:var(--bad);background:var(--bad-soft);border-color:transparent}
.badge.compatible{color:var(--ok);background:var(--ok-soft);border-color:transparent}
.badge.kind{color:var(--accent);background:var(--accent-soft);border-color:transparent;text-transform:uppercase;font-size:10.5px}
.notice{border-radius:10px;padding:12px 14px;margin:14px 0;border:1px solid transparent}
.notice.warn{background:var(--warn-soft);color:var(--warn)}
.notice.bad{background:var(--bad-soft);color:var(--bad)}
.notice.ok{background:var(--ok-soft);color:var(--ok)}
.layout{display:grid;grid-template-columns:minmax(0,1fr) 372px;gap:28px;align-items:start}
aside pre{font-size:12.5px}
@media (max-width:900px){.layout{grid-template-columns:1fr}.bar{flex-wrap:wrap}}
aside .card{margin-bottom:14px}
aside h3{margin-top:0;font-size:13px;text-transform:uppercase;letter-spacing:.06em;color:var(--muted)}
dl.meta{display:grid;grid-template-columns:auto 1fr;gap:6px 14px;margin:0;font-size:14px}
dl.meta dt{color:var(--muted)}dl.meta dd{margin:0;overflow-wrap:anywhere}
table{width:100%;border-collapse:collapse;font-size:14px}
th{text-align:left;font-weight:600;color:var(--muted);font-size:12.5px;text-transform:uppercase;letter-spacing:.04em;padding:8px 12px;border-bottom:1px solid var(--line)}
td{padding:10px 12px;border-bottom:1px solid var(--line);vertical-align:top}
tr:last-child td{border-bottom:0}
.table{background:var(--panel);border:1px solid var(--line);border-radius:var(--radius);overflow:auto;box-shadow:var(--shadow)}
.crumbs{font-size:13.5px;color:var(--muted);margin-bottom:10px}
.crumbs a{color:var(--muted)}
.title-row{display:flex;align-items:center;gap:10px;flex-wrap:wrap}
.subtitle{color:var(--muted);margin:2px 0 14px;display:flex;gap:10px;flex-wrap:wrap;align-items:center}
.switcher{display:flex;gap:8px;align-items:center;margin-left:auto}
.snippet{position:relative}
.snippet button.copy{position:absolute;top:-32px;right:0;padding:2px 10px;font-size:12px;font-weight:600;background:var(--panel);color:var(--muted);border-color:var(--line)}
.snippet button.copy:hover{color:var(--accent);border-color:var(--accent)}
.row-breaking td:first-child{box-shadow:inset 3px 0 0 var(--bad)}
.row-breaking{background:var(--bad-soft)}
.summary{display:flex;gap:12px;align-items:center;flex-wrap:wrap;margin:8px 0 18px}
.pager{display:flex;gap:10px;margin-top:18px;align-items:center}
.empty{text-align:center;padding:44px 20px;color:var(--muted)}
.versions td.v{font-family:var(--mono);white-space:nowrap}
table.changes{table-layout:fixed}table.changes td:first-child{width:124px}table.changes td:last-child{width:30%}
.req{color:var(--bad);font-weight:600}
form.inline{display:flex;gap:8px;align-items:center;flex-wrap:wrap}
form.filters{display:flex;gap:10px 14px;align-items:center;flex-wrap:wrap;margin-top:14px;font-size:14px;color:var(--muted)}
form.filters input{border:1px solid var(--line);background:var(--panel);color:var(--text);border-radius:10px;padding:7px 10px;font:inherit;max-width:160px}
form.filters button{padding:6px 14px}
.matched{margin-top:10px;font-size:13px;color:var(--muted);overflow-wrap:anywhere}
.matched code{font-size:12px}
.plugin-icon{width:40px;height:40px;border-radius:10px;flex:none;object-fit:contain}
.plugin-icon.fallback{display:inline-flex;align-items:center;justify-content:center;background:var(--accent-soft);color:var(--accent);font-weight:700;font-size:20px}
.snippet.wrap pre{white-space:pre-wrap;overflow-wrap:anywhere}
.snippet.secondary pre{font-size:11.5px;opacity:.85}
p.snippet-note{padding-right:72px}
.perm{display:block;margin:2px 0;overflow-wrap:anywhere}
.prose{overflow-wrap:anywhere}.prose>:first-child{margin-top:0}.prose>:last-child{margin-bottom:0}
.prose pre{margin:10px 0}.prose img{max-width:100%}.prose ul,.prose ol{padding-left:22px}
.prose table{display:block;overflow:auto}
`

const SCRIPT = `document.querySelectorAll('select[data-autosubmit]').forEach(function(s){s.addEventListener('change',function(){s.form.submit()})});
document.querySelectorAll('form [data-nojs]').forEach(function(b){b.hidden=true});
document.querySelectorAll('.snippet').forEach(function(box){var pre=box.querySelector('pre');if(!pre||!navigator.clipboard)return;var b=document.createElement('button');b.type='button';b.className='copy';b.textContent='Copy';b.addEventListener('click',function(){navigator.clipboard.writeText(pre.innerText).then(function(){b.textContent='Copied';setTimeout(function(){b.textContent='Copy'},1200)})});box.appendChild(b)});`

/** The script the pages load: progressive enhancement only (auto-submit, copy buttons). */
export const UI_SCRIPT = SCRIPT

/** Security headers of every UI page: no inline script, no third-party anything. */
export const UI_HEADERS: Record<string, string> = {
  'content-type': 'text/html; charset=utf-8',
  'content-security-policy':
    "default-src 'none'; style-src 'unsafe-inline'; script-src 'self'; img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'same-origin',
}

export interface PageOptions {
  title: string
  query?: string
  body: SafeHtml
  /** The docs site, linked from the header when known. */
  docsUrl?: string
}

/** The document around every page: header with the search box, content, footer. */
export function renderPage(options: PageOptions): string {
  return `<!doctype html>${html`<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${options.title} · Kite registry</title>
<link rel="icon" href="${ICON}">
<style>${raw(STYLE)}</style>
<script src="${UI_BASE}/assets/app.js" defer></script>
</head>
<body>
<header class="top"><div class="bar">
<a class="brand" href="${UI_BASE}/"><img src="${ICON}" alt="">Kite <span>registry</span></a>
<form class="search" action="${UI_BASE}/" method="get" role="search">
<input type="search" name="q" value="${options.query ?? ''}" placeholder="Search plugins, groups, types…" aria-label="Search plugins">
<button type="submit">Search</button>
</form>
${options.docsUrl ? html`<a class="docs-link" href="${options.docsUrl}" id="docs-link">Docs</a>` : ''}
</div></header>
<main>${options.body}</main>
<footer>Kite plugin registry · npm protocol at the root · catalog API at <code>${UI_BASE}/api/v1</code></footer>
</body>
</html>`}`
}

/** Formats an ISO time as a short date people read (UTC, so pages render the same everywhere). */
export function formatDate(iso: string): string {
  const date = new Date(iso)
  if (Number.isNaN(date.getTime())) return iso
  return date.toLocaleDateString('en-GB', {
    day: 'numeric',
    month: 'short',
    year: 'numeric',
    timeZone: 'UTC',
  })
}
