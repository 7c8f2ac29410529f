// Live progress on the event page (progressive enhancement: the page is complete without it).
// Follows /ui/events/{id}/stream. When the state or run status changes, the page fetches itself
// again and swaps in the new header and main content (no reload, scroll position kept), unless
// the user is typing in a form: then a button offers the update.
(function () {
  // Once a page, even if a swapped-in copy of this script were to run again.
  if (window.eodsLive) return;
  window.eodsLive = true;
  var first = document.querySelector('[data-live]');
  if (!first || !window.EventSource || !window.fetch || !window.DOMParser) return;
  var shown = { state: first.dataset.state, run: first.dataset.run };
  var steps = 0;
  var busy = false;
  var again = false;
  var source = new EventSource(first.dataset.live);

  function byId(id) { return document.getElementById(id); }
  function say(text) { var note = byId('live-note'); if (note) note.textContent = ' ' + text; }

  // Fetches the page and swaps header and main; falls back to a reload if that fails.
  function refresh() {
    if (busy) { again = true; return; }
    busy = true;
    fetch(location.href, { credentials: 'same-origin', headers: { accept: 'text/html' } })
      .then(function (r) { if (!r.ok) throw new Error('status ' + r.status); return r.text(); })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, 'text/html');
        var main = doc.querySelector('main');
        var header = doc.querySelector('header');
        var live = doc.querySelector('[data-live]');
        if (!main || !live) throw new Error('not an event page');
        document.querySelector('main').replaceWith(document.importNode(main, true));
        if (header) document.querySelector('header').replaceWith(document.importNode(header, true));
        document.title = doc.title;
        shown = { state: live.dataset.state, run: live.dataset.run };
        say('Updated: ' + shown.state + ', ' + shown.run + '.');
      })
      .catch(function () { source.close(); location.reload(); })
      .then(function () {
        busy = false;
        if (again) { again = false; refresh(); }
      });
  }

  source.addEventListener('step', function (e) {
    steps += 1;
    try { say('step ' + JSON.parse(e.data).key + ' committed (' + steps + ' new)'); } catch (_) { /* keep the page as it is */ }
  });
  source.addEventListener('status', function (e) {
    var d;
    try { d = JSON.parse(e.data); } catch (_) { return; }
    if (d.state === shown.state && d.run_status === shown.run) {
      var detail = byId('live-detail');
      if (detail) detail.textContent = d.detail ? '— ' + d.detail : '';
      return;
    }
    var active = document.activeElement;
    if (!(active && active.closest && active.closest('form'))) { refresh(); return; }
    // The user is typing: offer the update instead of replacing the form under their hands.
    say('The event moved on to ' + d.state + ', ' + d.run_status + '. ');
    var note = byId('live-note');
    if (note && !byId('live-update')) {
      var b = document.createElement('button');
      b.id = 'live-update';
      b.type = 'button';
      b.className = 'secondary';
      b.textContent = 'Show the update';
      b.addEventListener('click', refresh);
      note.appendChild(b);
    }
  });
  source.addEventListener('end', function () { source.close(); });
})();
