// The demo page's live figures: GET /api/stats once a second (see
// tools/cmd_serve.c for the JSON) and fill in the table. The requests go
// over the browser's kept-alive connections, so the counters show the
// server's keep-alive at work: "connections accepted" stays put while
// "requests served" climbs.
'use strict';

(function () {
  const POLL_MS = 1000;
  const el = (id) => document.getElementById(id);

  // "3 s", "2 min 05 s", "1 h 02 min"
  function formatUptime(ms) {
    const s = Math.floor(ms / 1000);
    const pad = (n) => String(n).padStart(2, '0');
    if (s < 60) return s + ' s';
    if (s < 3600) return Math.floor(s / 60) + ' min ' + pad(s % 60) + ' s';
    return Math.floor(s / 3600) + ' h ' + pad(Math.floor(s / 60) % 60) + ' min';
  }

  function show(stats) {
    el('uptime').textContent = formatUptime(stats.uptime_ms);
    el('uptime').dataset.ms = String(stats.uptime_ms);
    el('requests').textContent = String(stats.requests);
    el('connections').textContent = String(stats.connections);
    el('active').textContent = String(stats.active_connections);
    el('status').textContent = 'live';
    el('status').className = 'live';
  }

  function offline(why) {
    el('status').textContent = 'offline (' + why + '), retrying';
    el('status').className = 'offline';
  }

  async function poll() {
    try {
      const res = await fetch('/api/stats', { cache: 'no-store' });
      if (!res.ok) throw new Error('HTTP ' + res.status);
      show(await res.json());
    } catch (err) {
      offline(err.message || String(err));
    }
    setTimeout(poll, POLL_MS);
  }

  poll();
})();
