/**
 * The page's own style and script, embedded whole (the page opens from a CI artifact: no
 * network, no CDN). The script only filters, searches, sorts and groups what the HTML already
 * shows, so the page reads the same without it; it takes its state from the URL's hash too
 * (`#status=failed&q=web&sort=duration&group=1`), which makes a view a link.
 */

export const PAGE_CSS = `
:root { --fg:#1d2330; --muted:#5b6475; --line:#d9dde5; --bg:#fff; --soft:#f4f6f9;
  --ok:#2e8540; --changed:#b36b00; --failed:#c62828; --unreachable:#6a1b9a; --skipped:#78808f;
  --connect:#9aa5b8; --read:#4a7fd4; --apply:#3aa17e; --restart:#e39a2d; --health:#8e63ce;
  --rollback:#d6453d; }
* { box-sizing: border-box; }
body { font: 14px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg);
  background: var(--bg); margin: 0 auto; padding: 16px 24px 48px; max-width: 1400px; }
h1 { font-size: 20px; margin: 0 0 12px; } h2 { font-size: 16px; margin: 24px 0 8px; }
h3 { font-size: 14px; margin: 12px 0 4px; }
table { border-collapse: collapse; }
th, td { text-align: left; padding: 3px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-weight: 600; color: var(--muted); }
.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
code, pre { font: 12px/1.35 ui-monospace, "DejaVu Sans Mono", monospace; }
pre { background: var(--soft); padding: 6px 8px; margin: 4px 0; white-space: pre-wrap;
  word-break: break-word; max-height: 360px; overflow: auto; }
.summary th { width: 11em; }
.counts span { margin-right: 14px; white-space: nowrap; }
.badge { display: inline-block; padding: 0 6px; border-radius: 3px; color: #fff; font-size: 12px;
  font-weight: 600; }
.b-ok { background: var(--ok); } .b-changed { background: var(--changed); }
.b-failed { background: var(--failed); } .b-unreachable { background: var(--unreachable); }
.b-skipped { background: var(--skipped); }
.exit-0 { color: var(--ok); } .exit-bad { color: var(--failed); }
#controls { display: flex; flex-wrap: wrap; gap: 12px; align-items: center; padding: 8px 0;
  position: sticky; top: 0; background: var(--bg); z-index: 2; border-bottom: 1px solid var(--line); }
#controls label { white-space: nowrap; }
#search { width: 16em; padding: 3px 6px; }
.legend span { margin-right: 12px; white-space: nowrap; }
.legend i { display: inline-block; width: 12px; height: 10px; margin-right: 4px; }
.timeline { width: 100%; table-layout: fixed; }
.timeline col.c-host { width: 15em; } .timeline col.c-status { width: 7.5em; }
.timeline col.c-ms { width: 6em; }
.timeline td { padding: 2px 8px; border-bottom: 1px solid #eef0f4; }
.timeline td.name { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.track, .axis { position: relative; height: 14px; }
.track { background: var(--soft); margin-top: 2px; }
.axis span { position: absolute; top: 0; font-size: 11px; color: var(--muted); font-weight: 400;
  transform: translateX(-50%); white-space: nowrap; }
.ph { position: absolute; top: 0; bottom: 0; min-width: 1px; }
.ph-connect, .l-connect { background: var(--connect); } .ph-read, .l-read { background: var(--read); }
.ph-apply, .l-apply { background: var(--apply); } .ph-restart, .l-restart { background: var(--restart); }
.ph-health, .l-health { background: var(--health); } .ph-rollback, .l-rollback { background: var(--rollback); }
.group-count { color: var(--muted); font-size: 12px; margin-left: 6px; }
.host { border: 1px solid var(--line); border-radius: 4px; margin: 6px 0; padding: 4px 10px; }
.host > summary { cursor: pointer; }
.host.s-failed { border-left: 4px solid var(--failed); }
.host.s-unreachable { border-left: 4px solid var(--unreachable); }
.host.s-changed { border-left: 4px solid var(--changed); }
.tasks { width: 100%; margin: 6px 0; } .tasks td:first-child { width: 7em; }
.changes { margin: 0; padding-left: 18px; }
.diff .add { color: #1a7f37; } .diff .del { color: #cf222e; } .diff .hunk { color: #6f42c1; }
.keys { color: var(--muted); }
.rolled { background: #fff4f2; border-left: 3px solid var(--rollback); padding: 4px 8px; margin: 6px 0; }
.runs td, .runs th { padding: 3px 10px; }
.muted { color: var(--muted); }
[hidden] { display: none !important; }
@media print {
  #controls, .noprint { display: none !important; }
  body { max-width: none; padding: 0; font-size: 11px; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  .host { break-inside: avoid; }
  h2, h3 { break-after: avoid; }
  pre { max-height: none; overflow: visible; }
  a { color: inherit; text-decoration: none; }
}
`;

export const PAGE_JS = `
(function () {
  'use strict';
  var d = document;
  var controls = d.getElementById('controls');
  if (!controls) return;
  controls.hidden = false;
  var boxes = Array.prototype.slice.call(controls.querySelectorAll('input[name=status]'));
  var search = d.getElementById('search');
  var sort = d.getElementById('sort');
  var group = d.getElementById('group');
  var shown = d.getElementById('shown');
  var RANK = { failed: 0, unreachable: 1, skipped: 2, changed: 3, ok: 4 };

  function readHash() {
    var params = new URLSearchParams(location.hash.slice(1));
    if (params.has('status')) {
      var wanted = params.get('status').split(',');
      boxes.forEach(function (b) { b.checked = wanted.indexOf(b.value) >= 0; });
    }
    if (params.has('q')) search.value = params.get('q');
    if (params.has('sort')) sort.value = params.get('sort');
    if (params.has('group')) group.checked = params.get('group') === '1';
  }

  function writeHash() {
    var on = boxes.filter(function (b) { return b.checked; }).map(function (b) { return b.value; });
    var params = new URLSearchParams();
    if (on.length !== boxes.length) params.set('status', on.join(','));
    if (search.value) params.set('q', search.value);
    if (sort.value !== 'inventory') params.set('sort', sort.value);
    params.set('group', group.checked ? '1' : '0');
    history.replaceState(null, '', '#' + params.toString());
  }

  function visible(el, on, q) {
    return on[el.getAttribute('data-status')] === true &&
      (q === '' || el.getAttribute('data-search').indexOf(q) >= 0);
  }

  function sortRows(tbody) {
    var rows = Array.prototype.slice.call(tbody.children);
    var by = sort.value;
    rows.sort(function (a, b) {
      var ms = Number(b.getAttribute('data-ms')) - Number(a.getAttribute('data-ms'));
      var order = Number(a.getAttribute('data-i')) - Number(b.getAttribute('data-i'));
      if (by === 'duration') return ms || order;
      if (by === 'failure') {
        var rank = RANK[a.getAttribute('data-status')] - RANK[b.getAttribute('data-status')];
        return rank || ms || order;
      }
      return order;
    });
    rows.forEach(function (row) { tbody.appendChild(row); });
  }

  function apply() {
    var on = {};
    boxes.forEach(function (b) { on[b.value] = b.checked; });
    var q = search.value.trim().toLowerCase();
    var total = 0;
    var count = 0;
    Array.prototype.forEach.call(d.querySelectorAll('tbody.tl'), function (tbody) {
      sortRows(tbody);
      var seen = {};
      Array.prototype.forEach.call(tbody.children, function (row) {
        total++;
        var show = visible(row, on, q);
        if (show) count++;
        var mark = row.querySelector('.group-count');
        mark.textContent = '';
        if (show && group.checked) {
          var sig = row.getAttribute('data-sig');
          if (seen[sig]) {
            seen[sig].n++;
            seen[sig].mark.textContent = '+' + (seen[sig].n - 1) + ' alike';
            seen[sig].mark.title = (seen[sig].mark.title ? seen[sig].mark.title + ' ' : '') +
              row.getAttribute('data-host');
            show = false;
          } else {
            seen[sig] = { n: 1, mark: mark };
            mark.title = '';
          }
        }
        row.hidden = !show;
      });
    });
    Array.prototype.forEach.call(d.querySelectorAll('details.host'), function (el) {
      el.hidden = !visible(el, on, q);
    });
    shown.textContent = count + ' of ' + total + ' hosts match';
    writeHash();
  }

  readHash();
  if (!location.hash && d.querySelectorAll('tbody.tl > tr').length > 20) group.checked = true;
  boxes.forEach(function (b) { b.addEventListener('change', apply); });
  search.addEventListener('input', apply);
  sort.addEventListener('change', apply);
  group.addEventListener('change', apply);
  window.addEventListener('hashchange', function () { readHash(); apply(); });
  window.addEventListener('beforeprint', function () {
    Array.prototype.forEach.call(d.querySelectorAll('details.host'), function (el) { el.open = true; });
  });
  apply();
})();
`;
