// Live progress on the event page (progressive enhancement: the page is complete without it).
// Follows /ui/events/{id}/stream; when the state or run status changes, the page reloads to show
// the new artifacts, unless the user is typing in a form, in which case a link offers the reload.
(function () {
  var live = document.querySelector('[data-live]');
  if (!live || !window.EventSource) return;
  var shown = { state: live.dataset.state, run: live.dataset.run };
  var note = document.getElementById('live-note');
  var steps = 0;
  var source = new EventSource(live.dataset.live);
  function say(text) { if (note) note.textContent = ' ' + text; }
  source.addEventListener('step', function (e) {
    steps += 1;
    try { say('step ' + JSON.parse(e.data).key + ' committed (' + steps + ' new)'); } catch (_) { /* keep the page as it is */ }
  });
  source.addEventListener('status', function (e) {
    var d;
    try { d = JSON.parse(e.data); } catch (_) { return; }
    var moved = d.state !== shown.state || d.run_status !== shown.run;
    var active = document.activeElement;
    var typing = active && active.closest && active.closest('form');
    if (moved && !typing) {
      // The reloaded page shows the new state with everything that came with it; the text is
      // not changed before, so what the page says always matches what it shows.
      source.close();
      location.reload();
      return;
    }
    document.getElementById('live-state').textContent = d.state;
    document.getElementById('live-run').textContent = d.run_status;
    document.getElementById('live-detail').textContent = d.detail ? '— ' + d.detail : '';
    if (moved) {
      say('The event moved on. ');
      if (!document.getElementById('live-reload')) {
        var a = document.createElement('a');
        a.id = 'live-reload';
        a.href = location.href;
        a.textContent = 'Reload to see it';
        note.appendChild(a);
      }
    }
  });
  source.addEventListener('end', function () { source.close(); });
})();
